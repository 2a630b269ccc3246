//! Environments and deployments: each project's environments and what protects them (its protected environments
//! and its groups', GitLab Premium) into `environments`; the deployments updated in the window into
//! `deploy_events`; for each, where the tier has deployment approvals, who approved it (`deployment_approvals`) and
//! who started the pipeline that made it (`workflow_runs`), judged by `DEP-01`..`DEP-03` as GitHub's are.
//!
//! A deployment's job (`deployable`) links it to its pipeline directly; one with none was made through the API.
//! Deployments to environments whose tier is `development` or `testing` (review apps) are listed but not read one
//! by one: a control whose production pattern names one says unknown for it.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::params;
use futures_util::StreamExt;
use serde_json::Value;

use super::facts::listing_evidence;
use super::fetch::{get, get_all};
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{ApiClient, ApiResponse};
use crate::store::list_text::text_list;

/// The watermark kind of GitLab deployments.
pub const KIND: &str = "gitlab.deployments";

/// Tiers whose deployments are not read one by one.
const REVIEW_TIERS: [&str; 2] = ["development", "testing"];

/// A project whose environments and deployments are read.
pub struct Project {
    /// The full path (without the `gitlab:` prefix).
    pub path: String,
    /// The project id.
    pub id: i64,
    /// `allow_pipeline_trigger_approve_deployment`, when the project listing shows it.
    pub trigger_may_approve: Option<bool>,
}

/// What was read of one project.
pub struct ProjectDeployments {
    /// The project.
    pub project: Project,
    /// Where the window starts.
    pub from: NaiveDateTime,
    /// `/projects/:id/environments`, every page.
    pub environments: Vec<ApiResponse>,
    /// `/projects/:id/protected_environments`, every page; `None` where the tier has none (not asked).
    pub protected: Option<Vec<ApiResponse>>,
    /// The deployments updated since `from`, every page.
    pub listing: Vec<ApiResponse>,
    /// The deployments read one by one.
    pub read: Vec<Deployment>,
}

/// One deployment read one by one.
pub struct Deployment {
    /// Its id.
    pub id: i64,
    /// `/projects/:id/deployments/:id`, with its approvals.
    pub detail: ApiResponse,
    /// `/projects/:id/pipelines/:id` of the pipeline that made it, when a job did.
    pub pipeline: Option<ApiResponse>,
}

/// One group's protected environments: its path, and its pages or why they were not asked.
pub type GroupProtection = (String, Result<Vec<ApiResponse>, String>);

/// What was read of a group's environments and deployments.
pub struct Deployments {
    /// Each group's protected environments (the group, then its ancestors): its path and pages, or why it was not
    /// asked; `None` where the tier has none.
    pub group_protected: Option<Vec<GroupProtection>>,
    /// Each project.
    pub projects: Vec<ProjectDeployments>,
}

impl Deployments {
    /// Every answer.
    pub fn responses(&self) -> Vec<&ApiResponse> {
        let groups = self.group_protected.iter().flatten().filter_map(|(_, pages)| pages.as_ref().ok()).flatten();
        let projects = self.projects.iter().flat_map(|p| {
            p.environments
                .iter()
                .chain(p.protected.iter().flatten())
                .chain(&p.listing)
                .chain(p.read.iter().flat_map(|d| std::iter::once(&d.detail).chain(d.pipeline.as_ref())))
        });
        groups.chain(projects).collect()
    }
}

/// The listing of a project's deployments updated since `from`, newest first (the collector and `doctor` ask
/// alike).
pub fn listing_path(id: i64, from: NaiveDateTime, per_page: u32) -> String {
    format!(
        "/projects/{id}/deployments?updated_after={}&order_by=updated_at&sort=desc&per_page={per_page}",
        from.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// A project's environments, then its protected environments (the collector and `doctor` ask alike).
pub fn environment_paths(id: i64, per_page: u32) -> [String; 2] {
    [
        format!("/projects/{id}/environments?per_page={per_page}"),
        format!("/projects/{id}/protected_environments?per_page={per_page}"),
    ]
}

/// Reads the groups' and every project's environments and deployments (`groups`: path and id of the group and its
/// ancestors, `None` where the group could not be read).
#[allow(clippy::too_many_arguments)]
pub async fn fetch(
    client: &ApiClient,
    tier: &Tier,
    groups: Vec<(String, Option<i64>)>,
    projects: Vec<Project>,
    starts: &BTreeMap<String, NaiveDateTime>,
    floor: NaiveDateTime,
    per_page: u32,
    concurrency: usize,
) -> Result<Deployments> {
    let premium = !matches!(tier, Tier::Free(_));
    let group_protected = if premium {
        let mut read = Vec::new();
        for (path, id) in groups {
            let pages = match id {
                Some(id) => {
                    Ok(get_all(client, &format!("/groups/{id}/protected_environments?per_page={per_page}")).await?)
                }
                None => Err(format!("group {path} could not be read, so neither could its protected environments")),
            };
            read.push((path, pages));
        }
        Some(read)
    } else {
        None
    };
    let reads = projects.into_iter().map(|project| async move {
        let id = project.id;
        let from = starts.get(&format!("{}{}", super::PREFIX, project.path)).copied().unwrap_or(floor);
        let [environments_path, protected_path] = environment_paths(id, per_page);
        let environments = get_all(client, &environments_path).await?;
        let protected = if premium { Some(get_all(client, &protected_path).await?) } else { None };
        let listing = get_all(client, &listing_path(id, from, per_page)).await?;
        let tiers = tiers_of(&environments);
        let mut read = Vec::new();
        for item in if premium { items(&listing) } else { Vec::new() } {
            let environment = item.pointer("/environment/name").and_then(Value::as_str).unwrap_or_default();
            if tiers.get(environment).is_some_and(|tier| REVIEW_TIERS.contains(&tier.as_str())) {
                continue;
            }
            let Some(deployment) = item.get("id").and_then(Value::as_i64) else { continue };
            let detail = get(client, &format!("/projects/{id}/deployments/{deployment}")).await?;
            let pipeline_id = (detail.status == 200)
                .then(|| detail.json().ok()?.pointer("/deployable/pipeline/id")?.as_i64())
                .flatten();
            let pipeline = match pipeline_id {
                Some(pipeline) => Some(get(client, &format!("/projects/{id}/pipelines/{pipeline}")).await?),
                None => None,
            };
            read.push(Deployment { id: deployment, detail, pipeline });
        }
        Ok::<_, anyhow::Error>(ProjectDeployments { project, from, environments, protected, listing, read })
    });
    let projects = futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await.into_iter();
    Ok(Deployments { group_protected, projects: projects.collect::<Result<Vec<_>>>()? })
}

/// The items of every readable page of a listing.
fn items(pages: &[ApiResponse]) -> Vec<Value> {
    pages
        .iter()
        .filter(|page| page.status == 200)
        .filter_map(|page| page.json().ok()?.as_array().cloned())
        .flatten()
        .collect()
}

/// Each environment's tier, by name.
fn tiers_of(environments: &[ApiResponse]) -> BTreeMap<String, String> {
    items(environments)
        .iter()
        .filter_map(|e| Some((e.get("name")?.as_str()?.to_string(), e.get("tier")?.as_str()?.to_string())))
        .collect()
}

/// A deployment's outcome: its status, or `never ran (<status>)` when its job says it never started (GitLab
/// cancels, or fails, the deployments of jobs an earlier failure or a rejection kept from running).
fn outcome(item: &Value) -> Option<String> {
    let status = item.get("status").and_then(Value::as_str)?;
    let unstarted = item.pointer("/deployable/started_at").is_some_and(Value::is_null);
    Some(if unstarted && matches!(status, "canceled" | "failed") {
        format!("never ran ({status})")
    } else {
        status.to_string()
    })
}

/// Stores what was read: evidence, coverage, facts, and the windows read whole as watermarks; counts them in
/// `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    read: &Deployments,
    now: NaiveDateTime,
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let repos: Vec<String> = read.projects.iter().map(|p| format!("{}{}", super::PREFIX, p.project.path)).collect();
    let subjects: Vec<Vec<String>> = read
        .projects
        .iter()
        .zip(&repos)
        .map(|(p, repo)| p.read.iter().map(|d| format!("{repo}/deployments/{}", d.id)).collect())
        .collect();
    let mut kept = Vec::new();
    for (_, pages) in read.group_protected.iter().flatten() {
        kept.extend(listing_evidence("gitlab.group_protected_environments", org, pages.as_deref().unwrap_or_default()));
    }
    for ((project, repo), subjects) in read.projects.iter().zip(&repos).zip(&subjects) {
        kept.extend(listing_evidence("gitlab.environments", repo, &project.environments));
        kept.extend(listing_evidence(
            "gitlab.protected_environments",
            repo,
            project.protected.as_deref().unwrap_or_default(),
        ));
        kept.extend(listing_evidence(KIND, repo, &project.listing));
        for (deployment, subject) in project.read.iter().zip(subjects) {
            kept.push(super::facts::evidence("gitlab.deployment", subject, &deployment.detail, None));
            if let Some(pipeline) = &deployment.pipeline {
                kept.push(super::facts::evidence("gitlab.pipeline", subject, pipeline, None));
            }
        }
    }
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let mut next_id = ids.into_iter();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut record = |kind, table, subject: &str, evidence_id: Option<i64>, at, seen: &Seen| {
        let complete = *seen == Seen::Visible;
        Coverage { org, subject, kind, table, part: "", evidence_id, observed_at: at, complete }.append(
            &mut coverage,
            run_id,
            seen,
        )
    };

    // The groups' protected environments: every one must be read for a project's protection to be known.
    let mut group_entries = Vec::new();
    let mut group_gap: Option<Seen> = None;
    match &read.group_protected {
        None => {
            let off = Seen::FeatureOff(format!("{} has no protected environments: not asked", tier.describe()));
            record("gitlab.group_protected_environments", "environments", org, None, now, &off)?;
            summary.count(&off);
        }
        Some(groups) => {
            for (path, pages) in groups {
                let (seen, first, at) = match pages {
                    Ok(pages) => {
                        let first: Vec<i64> = next_id.by_ref().take(pages.len()).collect();
                        let seen = judge(
                            "gitlab.group_protected_environments",
                            "Maintainer",
                            Some("protected environments"),
                            tier,
                            pages,
                        );
                        if seen == Seen::Visible {
                            group_entries.extend(items(pages));
                        }
                        (seen, first.first().copied(), pages.first().map_or(now, |p| p.received_at))
                    }
                    Err(why) => (Seen::NotVisible(why.clone()), None, now),
                };
                let subject = format!("{}{path}", super::PREFIX);
                record("gitlab.group_protected_environments", "environments", &subject, first, at, &seen)?;
                summary.count(&seen);
                if !matches!(seen, Seen::Visible | Seen::FeatureOff(_)) && group_gap.is_none() {
                    let why = seen.state().1.unwrap_or_default().to_string();
                    group_gap = Some(Seen::NotVisible(format!(
                        "the protected environments of group {path} (which bind its projects' environments by tier) \
                         were not read: {why}"
                    )));
                }
            }
        }
    }

    let mut environments = conn.appender("environments_history")?;
    let mut events = conn.appender("deploy_events_history")?;
    let mut approvals = conn.appender("deployment_approvals_history")?;
    let mut runs = conn.appender("workflow_runs_history")?;
    let mut windows: Vec<(&str, NaiveDateTime, NaiveDateTime)> = Vec::new();
    for ((project, repo), subjects) in read.projects.iter().zip(&repos).zip(&subjects) {
        let environment_ids: Vec<i64> = next_id.by_ref().take(project.environments.len()).collect();
        let protected_pages = project.protected.as_deref().unwrap_or_default();
        let protected_ids: Vec<i64> = next_id.by_ref().take(protected_pages.len()).collect();
        let listing_ids: Vec<i64> = next_id.by_ref().take(project.listing.len()).collect();
        let first_at = |pages: &[ApiResponse]| pages.first().map_or(now, |p| p.received_at);

        // Environments and what guards them.
        let environments_seen = judge("gitlab.environments", "Reporter", None, tier, &project.environments);
        let at = first_at(&project.environments);
        record("gitlab.environments", "environments", repo, environment_ids.first().copied(), at, &environments_seen)?;
        summary.count(&environments_seen);
        let protected_seen = match &project.protected {
            None => Seen::FeatureOff(format!("{} has no protected environments: not asked", tier.describe())),
            Some(pages) => {
                match judge("gitlab.protected_environments", "Maintainer", Some("protected environments"), tier, pages)
                {
                    Seen::Visible => group_gap.clone().unwrap_or(Seen::Visible),
                    other => other,
                }
            }
        };
        let at = first_at(protected_pages);
        record(
            "gitlab.protected_environments",
            "environments",
            repo,
            protected_ids.first().copied(),
            at,
            &protected_seen,
        )?;
        summary.count(&protected_seen);
        if environments_seen == Seen::Visible && matches!(protected_seen, Seen::Visible | Seen::FeatureOff(_)) {
            let listed = items(&project.environments);
            let protected = items(protected_pages);
            let evidence_id = protected_ids.first().or(environment_ids.first()).copied().unwrap_or_default();
            for guard in
                super::environments::guards(&listed, &protected, &group_entries, project.project.trigger_may_approve)
            {
                environments.append_row(params![
                    run_id,
                    evidence_id,
                    at,
                    org,
                    repo,
                    guard.environment,
                    guard.required_reviewers,
                    text_list(&guard.reviewers),
                    guard.prevent_self_review,
                    None::<i32>,
                    guard.branch_policy,
                    // GitLab has no switch letting project or group roles bypass a protected environment (its
                    // instance administrators can deploy anywhere, and are no one's to configure).
                    Some(false),
                    guard.tier,
                    text_list(&guard.deployers),
                ])?;
            }
        }

        // Deployments updated in the window.
        let listing_seen = judge(KIND, "Reporter", None, tier, &project.listing);
        let at = first_at(&project.listing);
        record(KIND, "deploy_events", repo, listing_ids.first().copied(), at, &listing_seen)?;
        summary.count(&listing_seen);
        let mut whole = listing_seen == Seen::Visible;
        let listed = if listing_seen == Seen::Visible { items(&project.listing) } else { Vec::new() };
        let tiers = tiers_of(&project.environments);
        for item in &listed {
            let Some(id) = item.get("id").and_then(Value::as_i64) else { continue };
            let text = |pointer: &str| item.pointer(pointer).and_then(Value::as_str);
            let subject = format!("{repo}/deployments/{id}");
            events.append_row(params![
                run_id,
                listing_ids.first().copied().unwrap_or_default(),
                at,
                "gitlab",
                text("/created_at").and_then(crate::time::parse_api_time),
                "deployment.created",
                text("/environment/name"),
                repo,
                None::<String>,
                text("/sha"),
                outcome(item),
                text("/user/username"),
                subject,
            ])?;
            summary.deployments += 1;
            if item.get("deployable").is_some_and(Value::is_object) {
                record(
                    "gitlab.deployment_job",
                    "deploy_events",
                    &subject,
                    listing_ids.first().copied(),
                    at,
                    &Seen::Visible,
                )?;
            }
            if project.protected.is_none() {
                let off = Seen::FeatureOff(format!("{} has no deployment approvals: not asked", tier.describe()));
                record("gitlab.deployment_approvals", "deployment_approvals", &subject, None, at, &off)?;
            } else if text("/environment/name")
                .and_then(|e| tiers.get(e))
                .is_some_and(|t| REVIEW_TIERS.contains(&t.as_str()))
            {
                let tier = text("/environment/name").and_then(|e| tiers.get(e)).cloned().unwrap_or_default();
                let skipped = Seen::NotVisible(format!(
                    "its environment's tier is {tier}: approvals of review deployments are not read"
                ));
                record("gitlab.deployment_approvals", "deployment_approvals", &subject, None, at, &skipped)?;
            }
        }
        for (deployment, subject) in project.read.iter().zip(subjects) {
            let detail_id = next_id.next().unwrap_or_default();
            let pipeline_id = deployment.pipeline.as_ref().map(|_| next_id.next().unwrap_or_default());
            let detail_seen = judge(
                "gitlab.deployment",
                "Reporter",
                Some("deployment approvals"),
                tier,
                std::slice::from_ref(&deployment.detail),
            );
            let pipeline_seen = match &deployment.pipeline {
                Some(pipeline) => judge("gitlab.pipeline", "Reporter", None, tier, std::slice::from_ref(pipeline)),
                None => Seen::Visible,
            };
            let seen = if detail_seen == Seen::Visible { pipeline_seen.clone() } else { detail_seen.clone() };
            let at = deployment.detail.received_at;
            record("gitlab.deployment_approvals", "deployment_approvals", subject, Some(detail_id), at, &seen)?;
            summary.count(&seen);
            whole &= seen == Seen::Visible;
            if seen != Seen::Visible {
                continue;
            }
            let body = deployment.detail.json()?;
            let pipeline_number = body.pointer("/deployable/pipeline/id").and_then(Value::as_i64);
            let environment = body.pointer("/environment/name").and_then(Value::as_str);
            for approval in body.get("approvals").and_then(Value::as_array).into_iter().flatten() {
                approvals.append_row(params![
                    run_id,
                    detail_id,
                    at,
                    org,
                    repo,
                    deployment.id,
                    pipeline_number,
                    environment,
                    approval.get("status").and_then(Value::as_str),
                    approval.pointer("/user/username").and_then(Value::as_str),
                    approval.get("comment").and_then(Value::as_str),
                ])?;
            }
            if let (Some(pipeline), Some(evidence_id)) = (&deployment.pipeline, pipeline_id) {
                let run = pipeline.json()?;
                let text = |pointer: &str| run.pointer(pointer).and_then(Value::as_str);
                let time = |pointer: &str| text(pointer).and_then(crate::time::parse_api_time);
                // Who started the pipeline, and who started the deploying job (who played it, when manual).
                let job_user = body
                    .pointer("/deployable/user/username")
                    .or_else(|| body.pointer("/user/username"))
                    .and_then(Value::as_str);
                runs.append_row(params![
                    run_id,
                    evidence_id,
                    pipeline.received_at,
                    org,
                    repo,
                    run.get("id").and_then(Value::as_i64).unwrap_or_default(),
                    1,
                    None::<String>,
                    None::<String>,
                    text("/source"),
                    text("/status"),
                    None::<String>,
                    text("/user/username"),
                    job_user,
                    text("/ref"),
                    text("/sha"),
                    time("/created_at"),
                    time("/started_at"),
                    time("/updated_at"),
                ])?;
            }
        }
        if whole {
            windows.push((repo.as_str(), project.from, now));
        }
    }
    coverage.flush()?;
    environments.flush()?;
    events.flush()?;
    approvals.flush()?;
    runs.flush()?;
    drop((coverage, environments, events, approvals, runs));
    // A deployment read again (its status moved on, or it was approved) keeps only its latest reading.
    conn.execute(
        "DELETE FROM deploy_events_history d WHERE d.source = 'gitlab' AND d.run_id < ?
           AND EXISTS (SELECT 1 FROM deploy_events_history e
                       WHERE e.source = 'gitlab' AND e.run_id = ? AND e.event_key = d.event_key)",
        [run_id, run_id],
    )?;
    crate::collect::watermarks::record(conn, run_id, org, KIND, &windows)?;
    Ok(())
}
