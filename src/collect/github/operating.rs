//! Operating evidence for a period: pull requests merged into each default branch with their reviews, workflow runs,
//! and deployments with their statuses. Each collection reads back to where the previous successful one stopped
//! (less a day of overlap, for reviews and statuses that arrive late), or `operating_days` on the first run. Where
//! the window had workflow runs, the repository's artifact and log retention says when GitHub deletes their logs.
//! Releases and the attestations of their assets are read in the same window (`releases.rs`).
//!
//! Why this file is long (about 770 lines): asking, grouping and storing one family of answers share the window,
//! the coverage judgement and the watermark rule that moves only when every events answer was read; split by kind,
//! that rule would be repeated in each part.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::types::Value as Cell;
use duckdb::Connection;
use futures_util::StreamExt;
use serde_json::Value;

use super::cells::{int, text, time, timestamp};
use super::coverage::{judge, Coverage, Seen};
use super::deployment_approvals::{self, DeploymentApprovals};
use super::releases::{self, ReleaseAnswers};
use super::GithubConfig;
use crate::collect::http::{ApiClient, ApiResponse};
use crate::facts::{store_facts, Origin};
use crate::ingest::TrustPolicy;
use crate::store::{add_evidence_batch, NewEvidence};

/// What one repository's operating evidence answered.
pub struct OperatingAnswers {
    /// `owner/name`.
    pub repo: String,
    /// The moment reading started from.
    pub since: NaiveDateTime,
    /// Closed pull requests into the default branch, newest update first, read back to `since`.
    pub pulls: Vec<ApiResponse>,
    /// Each merged pull request as GitHub answers it alone (the listing's `pull-request-simple` items do not say who
    /// merged it), per number.
    pub details: Vec<(i64, Vec<ApiResponse>)>,
    /// Reviews per merged pull request number.
    pub reviews: Vec<(i64, Vec<ApiResponse>)>,
    /// Check runs per merged pull request's head commit.
    pub checks: Vec<(String, Vec<ApiResponse>)>,
    /// Workflow runs created since `since`.
    pub runs: Vec<ApiResponse>,
    /// Deployments, newest first, read back to `since`.
    pub deployments: Vec<ApiResponse>,
    /// Statuses per deployment id.
    pub statuses: Vec<(i64, Vec<ApiResponse>)>,
    /// The repository's artifact and log retention, read only when the window had workflow runs (their logs and
    /// artifacts are deleted by it).
    pub retention: Vec<ApiResponse>,
    /// Per deployment made by GitHub Actions: its workflow run's deployment reviews.
    pub approvals: Vec<DeploymentApprovals>,
    /// Releases and the attestations of their assets' digests.
    pub releases: ReleaseAnswers,
}

impl OperatingAnswers {
    /// Every response, for the conditional-request cache.
    pub fn responses(&self) -> impl Iterator<Item = &ApiResponse> {
        self.pulls
            .iter()
            .chain(self.details.iter().flat_map(|(_, pages)| pages))
            .chain(self.reviews.iter().flat_map(|(_, pages)| pages))
            .chain(self.checks.iter().flat_map(|(_, pages)| pages))
            .chain(&self.runs)
            .chain(&self.deployments)
            .chain(self.statuses.iter().flat_map(|(_, pages)| pages))
            .chain(&self.retention)
            .chain(self.approvals.iter().flat_map(|a| a.job.iter().chain(&a.approvals)))
            .chain(self.releases.responses())
    }
}

/// The watermark kind of operating evidence.
pub const KIND: &str = "github.operating";

/// The evidence kind of one pull request read alone.
const PULL_REQUEST_KIND: &str = "github.pull_request";

/// Who merged a listed pull request, from the same pull request read alone (NULL when that was not visible).
fn merger(answer: &OperatingAnswers, listed: &Value) -> Cell {
    let number = listed.get("number").and_then(Value::as_i64);
    answer
        .details
        .iter()
        .filter(|(n, _)| Some(*n) == number)
        .flat_map(|(_, pages)| pages)
        .filter(|page| page.status == 200)
        .filter_map(|page| page.json().ok())
        .map(|detail| text(&detail, "/merged_by/login"))
        .find(|cell| *cell != Cell::Null)
        .unwrap_or(Cell::Null)
}

/// What operating evidence needs to be visible.
pub(super) const NEEDS: &str =
    "read access to the repository (Pull requests, Checks, Actions and Deployments: read for an App)";

/// What the repository's artifact and log retention needs to be visible.
const RETENTION_NEEDS: &str = "admin on the repository (Administration: read for an App)";

/// The time `field` of the last item on a page (listings are newest first, so the oldest on it).
pub(super) fn newest_time(page: &ApiResponse, field: &str) -> Option<NaiveDateTime> {
    let body = page.json().ok()?;
    let last = body.as_array()?.last()?.clone();
    last.get(field)?.as_str().and_then(crate::time::parse_api_time)
}

/// The items of the answered pages (under `key` for wrapped listings).
pub(super) fn items(pages: &[ApiResponse], key: Option<&str>) -> Vec<Value> {
    pages
        .iter()
        .filter(|page| page.status == 200)
        .filter_map(|page| page.json().ok())
        .flat_map(|body| {
            let list = match key {
                Some(key) => body.get(key).cloned().unwrap_or(Value::Null),
                None => body,
            };
            list.as_array().cloned().unwrap_or_default()
        })
        .collect()
}

/// Whether the item's time `field` is at or after `since`.
pub(super) fn is_at_or_after(item: &Value, field: &str, since: NaiveDateTime) -> bool {
    item.get(field).and_then(Value::as_str).and_then(crate::time::parse_api_time).is_some_and(|at| at >= since)
}

/// The listing of pull requests closed into `branch`, most recently updated first.
pub(super) fn pulls_path(repo: &str, branch: &str, per_page: u32) -> String {
    format!(
        "/repos/{repo}/pulls?state=closed&base={}&sort=updated&direction=desc&per_page={per_page}",
        super::fetch::encode_branch(branch)
    )
}

/// The listing of workflow runs whose creation matches `created` (GitHub's search syntax, URL-encoded).
pub(super) fn runs_path(repo: &str, per_page: u32, created: &str) -> String {
    format!("/repos/{repo}/actions/runs?per_page={per_page}&created={created}")
}

/// The `created` filter for runs created on or after `since`'s day.
pub(super) fn created_since(since: NaiveDateTime) -> String {
    format!("%3E%3D{}", since.format("%Y-%m-%d"))
}

/// The listing of deployments, newest first.
pub(super) fn deployments_path(repo: &str, per_page: u32) -> String {
    format!("/repos/{repo}/deployments?per_page={per_page}")
}

/// GitHub answers at most this many workflow runs for a listing filtered by creation time.
const RUNS_SEARCH_CAP: i64 = 1000;

fn over_the_cap(page: &ApiResponse) -> bool {
    page.json().ok().and_then(|body| body.get("total_count").and_then(Value::as_i64)).unwrap_or(0) > RUNS_SEARCH_CAP
}

/// Workflow runs created since `since`: one listing, or, where GitHub's cap on filtered listings would cut it short,
/// one listing per day, and per hour within a day that alone exceeds the cap.
async fn workflow_runs(
    client: &ApiClient,
    per_page: u32,
    repo: &str,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Vec<ApiResponse>> {
    let path = |created: String| runs_path(repo, per_page, &created);
    let within_cap = |page: &ApiResponse| !over_the_cap(page);
    let whole = client.get_pages_while(&path(created_since(since)), within_cap).await?;
    if !whole.first().is_some_and(over_the_cap) {
        return Ok(whole);
    }
    let mut pages = Vec::new();
    for day in since.date().iter_days().take_while(|day| *day <= now.date()) {
        let daily = client.get_pages_while(&path(day.format("%Y-%m-%d").to_string()), within_cap).await?;
        if !daily.first().is_some_and(over_the_cap) {
            pages.extend(daily);
            continue;
        }
        for hour in 0..24 {
            let at = |minute, second| day.and_hms_opt(hour, minute, second).expect("a valid hour");
            let range =
                format!("{}..{}", at(0, 0).format("%Y-%m-%dT%H:%M:%SZ"), at(59, 59).format("%Y-%m-%dT%H:%M:%SZ"));
            pages.extend(client.get_all_pages(&path(range)).await?);
        }
    }
    Ok(pages)
}

/// Reads one repository's operating evidence since `since`.
async fn fetch_repo(
    client: &ApiClient,
    per_page: u32,
    repo: String,
    branch: String,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<OperatingAnswers> {
    let still_recent =
        |field: &'static str| move |page: &ApiResponse| newest_time(page, field).is_some_and(|at| at >= since);
    let pulls = client.get_pages_while(&pulls_path(&repo, &branch, per_page), still_recent("updated_at")).await?;
    let mut details = Vec::new();
    let mut reviews = Vec::new();
    let mut checks = Vec::new();
    for pull in items(&pulls, None).iter().filter(|p| is_at_or_after(p, "merged_at", since)) {
        let Some(number) = pull.get("number").and_then(Value::as_i64) else { continue };
        if let Some(sha) = pull.pointer("/head/sha").and_then(Value::as_str) {
            let pages =
                client.get_all_pages(&format!("/repos/{repo}/commits/{sha}/check-runs?per_page={per_page}")).await?;
            checks.push((sha.to_string(), pages));
        }
        details.push((number, vec![client.get(&client.url(&format!("/repos/{repo}/pulls/{number}")), 1).await?]));
        reviews.push((
            number,
            client.get_all_pages(&format!("/repos/{repo}/pulls/{number}/reviews?per_page={per_page}")).await?,
        ));
    }
    let runs = workflow_runs(client, per_page, &repo, since, now).await?;
    let retention = if items(&runs, Some("workflow_runs")).is_empty() {
        Vec::new()
    } else {
        let path = format!("/repos/{repo}/actions/permissions/artifact-and-log-retention");
        vec![client.get(&client.url(&path), 1).await?]
    };
    let deployments = client.get_pages_while(&deployments_path(&repo, per_page), still_recent("created_at")).await?;
    let mut statuses = Vec::new();
    let mut approvals = Vec::new();
    let mut asked = std::collections::BTreeMap::new();
    for deployment in items(&deployments, None).iter().filter(|d| is_at_or_after(d, "created_at", since)) {
        let Some(id) = deployment.get("id").and_then(Value::as_i64) else { continue };
        let pages =
            client.get_all_pages(&format!("/repos/{repo}/deployments/{id}/statuses?per_page={per_page}")).await?;
        approvals.extend(deployment_approvals::fetch(client, &repo, id, &pages, &mut asked).await?);
        statuses.push((id, pages));
    }
    let releases = releases::fetch(client, per_page, &repo, since).await?;
    Ok(OperatingAnswers {
        repo,
        since,
        pulls,
        details,
        reviews,
        checks,
        runs,
        deployments,
        statuses,
        retention,
        approvals,
        releases,
    })
}

/// Reads the operating evidence of every repository (`concurrency` repositories at a time, in listing order).
pub async fn fetch(
    client: &ApiClient,
    config: &GithubConfig,
    repos: Vec<(String, String)>,
    starts: &BTreeMap<String, NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Vec<OperatingAnswers>> {
    let per_page = config.per_page.clamp(1, 100);
    let floor = crate::collect::watermarks::floor(config.operating_days, now);
    client.progress().plan(repos.len());
    let requests = repos.into_iter().map(|(repo, branch)| async move {
        let since = starts.get(&repo).copied().unwrap_or(floor);
        let answers = fetch_repo(client, per_page, repo, branch, since, now).await;
        client.progress().done();
        answers
    });
    futures_util::stream::iter(requests)
        .buffered(config.concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// What storing operating evidence added.
#[derive(Debug, Default)]
pub struct StoredOperations {
    /// Evidence items.
    pub evidence: usize,
    /// Merged pull requests.
    pub pull_requests: usize,
    /// Workflow runs.
    pub workflow_runs: usize,
    /// Deployment events new to the store.
    pub deploy_events: usize,
    /// Releases read in the window.
    pub releases: usize,
    /// Attestations of release assets, checked.
    pub attestations: usize,
    /// Answers the token could not see.
    pub not_visible: usize,
    /// Answers that could not be read completely.
    pub incomplete: usize,
}

/// One answer group to store as evidence: kind, subject and its pages.
struct Group<'a> {
    kind: &'static str,
    table: &'static str,
    subject: String,
    pages: &'a [ApiResponse],
    /// What makes it visible, for the not-visible reason.
    needs: &'static str,
    /// Whether it holds the window's events, so the watermark may move only when it was read.
    events: bool,
    /// Whether GitHub answers 404 for "there is none".
    absent_on_404: bool,
}

fn groups(answer: &OperatingAnswers) -> Vec<Group<'_>> {
    let mut groups = vec![Group {
        kind: "github.pull_requests",
        table: "merge_requests",
        subject: answer.repo.clone(),
        pages: &answer.pulls,
        needs: NEEDS,
        events: true,
        absent_on_404: false,
    }];
    for (number, pages) in &answer.details {
        groups.push(Group {
            kind: PULL_REQUEST_KIND,
            table: "merge_requests",
            subject: format!("{}#{number}", answer.repo),
            pages,
            needs: NEEDS,
            events: true,
            absent_on_404: false,
        });
    }
    for (number, pages) in &answer.reviews {
        groups.push(Group {
            kind: "github.pull_request_reviews",
            table: "pr_reviews",
            subject: format!("{}#{number}", answer.repo),
            pages,
            needs: NEEDS,
            events: true,
            absent_on_404: false,
        });
    }
    for (sha, pages) in &answer.checks {
        groups.push(Group {
            kind: "github.check_runs",
            table: "check_runs",
            subject: format!("{}@{sha}", answer.repo),
            pages,
            needs: NEEDS,
            events: true,
            absent_on_404: false,
        });
    }
    groups.push(Group {
        kind: "github.workflow_runs",
        table: "workflow_runs",
        subject: answer.repo.clone(),
        pages: &answer.runs,
        needs: NEEDS,
        events: true,
        absent_on_404: false,
    });
    groups.push(Group {
        kind: "github.deployments",
        table: "deploy_events",
        subject: answer.repo.clone(),
        pages: &answer.deployments,
        needs: NEEDS,
        events: true,
        absent_on_404: false,
    });
    for (id, pages) in &answer.statuses {
        groups.push(Group {
            kind: "github.deployment_statuses",
            table: "deploy_events",
            subject: format!("{}/deployments/{id}", answer.repo),
            pages,
            needs: NEEDS,
            events: true,
            absent_on_404: false,
        });
    }
    for approvals in &answer.approvals {
        let subject = format!("{}/deployments/{}", answer.repo, approvals.deployment_id);
        if !approvals.job.is_empty() {
            groups.push(Group {
                kind: "github.actions_job",
                table: "deployment_approvals",
                subject: subject.clone(),
                pages: &approvals.job,
                needs: NEEDS,
                events: true,
                absent_on_404: false,
            });
        }
        if !approvals.approvals.is_empty() {
            groups.push(Group {
                kind: "github.deployment_approvals",
                table: "deployment_approvals",
                subject,
                pages: &approvals.approvals,
                needs: NEEDS,
                events: true,
                absent_on_404: false,
            });
        }
    }
    if !answer.retention.is_empty() {
        groups.push(Group {
            kind: "github.actions_retention",
            table: "actions_retention",
            subject: answer.repo.clone(),
            pages: &answer.retention,
            needs: RETENTION_NEEDS,
            events: false,
            absent_on_404: false,
        });
    }
    groups.push(Group {
        kind: releases::RELEASES_KIND,
        table: "releases",
        subject: answer.repo.clone(),
        pages: &answer.releases.pages,
        needs: releases::RELEASES_NEEDS,
        events: true,
        absent_on_404: false,
    });
    for lookup in &answer.releases.attestations {
        groups.push(Group {
            kind: releases::ATTESTATIONS_KIND,
            table: "attestations",
            subject: format!("{}@{}", answer.repo, lookup.digest),
            pages: &lookup.pages,
            needs: releases::ATTESTATIONS_NEEDS,
            events: true,
            absent_on_404: true,
        });
    }
    groups
}

fn visible(group: &Group) -> bool {
    matches!(judge(group.kind, group.needs, group.absent_on_404, group.pages), Seen::Visible | Seen::Absent)
}

/// Stores the answers as evidence, coverage, facts and the watermark the next collection starts from.
pub fn store(
    conn: &Connection,
    run_id: i64,
    org: &str,
    answers: &[OperatingAnswers],
    trust: &TrustPolicy,
    now: NaiveDateTime,
) -> Result<StoredOperations> {
    let all: Vec<(usize, Group)> =
        answers.iter().enumerate().flat_map(|(i, a)| groups(a).into_iter().map(move |g| (i, g))).collect();
    let mut items = Vec::new();
    for (_, group) in &all {
        let complete = crate::collect::http::listing_complete(group.pages);
        for page in group.pages {
            items.push(NewEvidence {
                source: "github",
                kind: group.kind,
                subject: &group.subject,
                collected_at: page.received_at,
                provenance: page.provenance(complete),
                body: &page.body,
            });
        }
    }
    let ids = add_evidence_batch(conn, run_id, &items)?;
    let mut stored = StoredOperations { evidence: ids.len(), ..StoredOperations::default() };
    let mut next_id = ids.iter();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut pulls = conn.appender("merge_requests_history")?;
    let mut reviews = conn.appender("pr_reviews_history")?;
    let mut runs = conn.appender("workflow_runs_history")?;
    let mut checks = conn.appender("check_runs_history")?;
    let mut deploys = conn.appender("deploy_events_history")?;
    let mut retention = conn.appender("actions_retention_history")?;
    let mut approvals = conn.appender("deployment_approvals_history")?;
    let mut release_rows = conn.appender("releases_history")?;
    let mut asset_rows = conn.appender("release_assets_history")?;
    let mut deployment_of: BTreeMap<(String, i64), Value> = BTreeMap::new();
    for (index, group) in &all {
        let answer = &answers[*index];
        let page_ids: Vec<i64> = next_id.by_ref().take(group.pages.len()).copied().collect();
        let judged = judge(group.kind, group.needs, group.absent_on_404, group.pages);
        let seen = matches!(judged, Seen::Visible | Seen::Absent);
        let row = Coverage {
            org,
            subject: &group.subject,
            kind: group.kind,
            table: group.table,
            part: "",
            evidence_id: page_ids.first().copied(),
            observed_at: group.pages.first().map(|p| p.received_at).unwrap_or(now),
            complete: seen,
        };
        row.append(&mut coverage, run_id, &judged)?;
        if !seen {
            match judged {
                Seen::Incomplete(_) => stored.incomplete += 1,
                _ => stored.not_visible += 1,
            }
            continue;
        }
        if judged == Seen::Absent {
            continue;
        }
        for (page, evidence_id) in group.pages.iter().zip(&page_ids) {
            let body = page.json()?;
            let received = timestamp(page.received_at);
            if group.kind == releases::ATTESTATIONS_KIND {
                let facts = releases::attestation_facts(&body, &group.subject, trust)?;
                for warning in &facts.warnings {
                    tracing::warn!("{warning}");
                }
                let origin = Origin {
                    run_id,
                    evidence_id: *evidence_id,
                    observed_at: page.received_at,
                    subject: &group.subject,
                    repo: Some(&answer.repo),
                };
                store_facts(conn, &origin, &facts)?;
                stored.attestations += facts.attestations.len();
                continue;
            }
            let list = match group.kind {
                "github.workflow_runs" => {
                    body.get("workflow_runs").and_then(Value::as_array).cloned().unwrap_or_default()
                }
                "github.check_runs" => body.get("check_runs").and_then(Value::as_array).cloned().unwrap_or_default(),
                "github.actions_retention" => vec![body.clone()],
                "github.actions_job" | PULL_REQUEST_KIND => Vec::new(),
                _ => body.as_array().cloned().unwrap_or_default(),
            };
            let head = || {
                vec![Cell::BigInt(run_id), Cell::BigInt(*evidence_id), received.clone(), Cell::Text(org.to_string())]
            };
            for item in &list {
                match group.kind {
                    "github.pull_requests" => {
                        if !is_at_or_after(item, "merged_at", answer.since) {
                            continue;
                        }
                        let mut row = head();
                        row.truncate(3);
                        row.extend([
                            Cell::Text("github".into()),
                            Cell::Text(answer.repo.clone()),
                            int(item, "/number"),
                            text(item, "/title"),
                            text(item, "/user/login"),
                            Cell::Text("merged".into()),
                            text(item, "/base/ref"),
                            time(item, "/created_at"),
                            time(item, "/merged_at"),
                            merger(answer, item),
                            text(item, "/html_url"),
                            Cell::Text(org.to_string()),
                            text(item, "/head/sha"),
                            text(item, "/merge_commit_sha"),
                        ]);
                        pulls.append_row(duckdb::appender_params_from_iter(row))?;
                        stored.pull_requests += 1;
                    }
                    "github.pull_request_reviews" => {
                        let number =
                            group.subject.rsplit('#').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or_default();
                        let mut row = head();
                        row.extend([
                            Cell::Text(answer.repo.clone()),
                            Cell::BigInt(number),
                            int(item, "/id"),
                            text(item, "/user/login"),
                            text(item, "/state"),
                            time(item, "/submitted_at"),
                            text(item, "/commit_id"),
                        ]);
                        reviews.append_row(duckdb::appender_params_from_iter(row))?;
                    }
                    "github.check_runs" => {
                        let sha = group.subject.rsplit('@').next().unwrap_or_default().to_string();
                        let mut row = head();
                        row.extend([
                            Cell::Text(answer.repo.clone()),
                            Cell::Text(sha),
                            int(item, "/id"),
                            text(item, "/name"),
                            text(item, "/status"),
                            text(item, "/conclusion"),
                            text(item, "/app/slug"),
                            time(item, "/completed_at"),
                        ]);
                        checks.append_row(duckdb::appender_params_from_iter(row))?;
                    }
                    "github.workflow_runs" => {
                        let mut row = head();
                        row.extend([
                            Cell::Text(answer.repo.clone()),
                            int(item, "/id"),
                            int(item, "/run_attempt"),
                            text(item, "/name"),
                            text(item, "/path"),
                            text(item, "/event"),
                            text(item, "/status"),
                            text(item, "/conclusion"),
                            text(item, "/actor/login"),
                            text(item, "/triggering_actor/login"),
                            text(item, "/head_branch"),
                            text(item, "/head_sha"),
                            time(item, "/created_at"),
                            time(item, "/run_started_at"),
                            time(item, "/updated_at"),
                        ]);
                        runs.append_row(duckdb::appender_params_from_iter(row))?;
                        stored.workflow_runs += 1;
                    }
                    "github.actions_retention" => {
                        let mut row = head();
                        row.extend([
                            Cell::Text(answer.repo.clone()),
                            int(item, "/days"),
                            int(item, "/maximum_allowed_days"),
                        ]);
                        retention.append_row(duckdb::appender_params_from_iter(row))?;
                    }
                    "github.deployment_approvals" => {
                        let deployment =
                            group.subject.rsplit('/').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or_default();
                        let run = deployment_approvals::run_of(page);
                        for cells in deployment_approvals::rows(&answer.repo, deployment, run, item) {
                            let mut row = head();
                            row.extend(cells);
                            approvals.append_row(duckdb::appender_params_from_iter(row))?;
                        }
                    }
                    releases::RELEASES_KIND => {
                        if !releases::in_window(item, answer.since) {
                            continue;
                        }
                        let mut row = head();
                        row.extend(releases::release_cells(&answer.repo, item));
                        release_rows.append_row(duckdb::appender_params_from_iter(row))?;
                        for cells in releases::asset_cells(&answer.repo, item) {
                            let mut row = head();
                            row.extend(cells);
                            asset_rows.append_row(duckdb::appender_params_from_iter(row))?;
                        }
                        stored.releases += 1;
                    }
                    "github.deployments" => {
                        let Some(id) = item.get("id").and_then(Value::as_i64) else { continue };
                        deployment_of.insert((answer.repo.clone(), id), item.clone());
                        if !is_at_or_after(item, "created_at", answer.since) {
                            continue;
                        }
                        deploys.append_row(duckdb::appender_params_from_iter(deploy_row(
                            run_id,
                            *evidence_id,
                            page.received_at,
                            &answer.repo,
                            item,
                            None,
                        )))?;
                    }
                    _ => {
                        let id =
                            group.subject.rsplit('/').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or_default();
                        let deployment = deployment_of.get(&(answer.repo.clone(), id)).cloned().unwrap_or(Value::Null);
                        deploys.append_row(duckdb::appender_params_from_iter(deploy_row(
                            run_id,
                            *evidence_id,
                            page.received_at,
                            &answer.repo,
                            &deployment,
                            Some(item),
                        )))?;
                    }
                }
            }
        }
    }
    coverage.flush()?;
    pulls.flush()?;
    reviews.flush()?;
    runs.flush()?;
    checks.flush()?;
    deploys.flush()?;
    retention.flush()?;
    approvals.flush()?;
    release_rows.flush()?;
    asset_rows.flush()?;
    drop((coverage, pulls, reviews, runs, checks, deploys, retention, approvals, release_rows, asset_rows));
    stored.deploy_events = conn.query_row(
        "SELECT count(*) FROM deploy_events_history WHERE run_id = ? AND source = 'github'",
        [run_id],
        |row| row.get::<_, i64>(0),
    )? as usize;
    let removed = conn.execute(
        "DELETE FROM deploy_events_history d WHERE d.run_id = ? AND d.source = 'github'
           AND EXISTS (SELECT 1 FROM deploy_events_history e
                       WHERE e.source = 'github' AND e.event_key = d.event_key AND e.run_id < d.run_id)",
        [run_id],
    )?;
    stored.deploy_events -= removed;
    let windows: Vec<(&str, NaiveDateTime, NaiveDateTime)> = answers
        .iter()
        .filter(|answer| groups(answer).iter().filter(|group| group.events).all(visible))
        .map(|answer| (answer.repo.as_str(), answer.since, now))
        .collect();
    crate::collect::watermarks::record(conn, run_id, org, KIND, &windows)?;
    Ok(stored)
}

/// A deploy event: the deployment's creation, or one of its statuses.
fn deploy_row(
    run_id: i64,
    evidence_id: i64,
    received: NaiveDateTime,
    repo: &str,
    deployment: &Value,
    status: Option<&Value>,
) -> Vec<Cell> {
    let id = deployment.get("id").and_then(Value::as_i64).unwrap_or_default();
    let (event_time, event_type, outcome, actor, key) = match status {
        Some(status) => (
            time(status, "/created_at"),
            Cell::Text(format!("deployment.{}", status.get("state").and_then(Value::as_str).unwrap_or("unknown"))),
            text(status, "/state"),
            text(status, "/creator/login"),
            format!(
                "{repo}/deployments/{id}/statuses/{}",
                status.get("id").and_then(Value::as_i64).unwrap_or_default()
            ),
        ),
        None => (
            time(deployment, "/created_at"),
            Cell::Text("deployment.created".into()),
            Cell::Null,
            text(deployment, "/creator/login"),
            format!("{repo}/deployments/{id}"),
        ),
    };
    vec![
        Cell::BigInt(run_id),
        Cell::BigInt(evidence_id),
        timestamp(received),
        Cell::Text("github".into()),
        event_time,
        event_type,
        text(deployment, "/environment"),
        Cell::Text(repo.to_string()),
        Cell::Null,
        text(deployment, "/sha"),
        outcome,
        actor,
        Cell::Text(key),
    ]
}
