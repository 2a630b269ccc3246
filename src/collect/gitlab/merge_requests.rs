//! Operating evidence: the merge requests merged into each project's default branch in the window, who approved
//! each before the merge, and the pipeline of the commit merged; into `merge_requests`, `pr_reviews` and
//! `check_runs`, judged by `SRC-13` as GitHub's pull requests are.
//!
//! GitLab's approvals carry no time: `/merge_requests/:iid/approvals` says who approved and still stood at the
//! merge, and the system notes say when (`approved this merge request`, `unapproved this merge request`, approvals
//! reset by a push, `added N commits`). An approval counts before the merge only with its note before the merge;
//! it was given on the merged commit when no commits were added after it.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use serde_json::Value;

use super::fetch::{get, get_all, segment};
use crate::collect::http::{ApiClient, ApiResponse};

/// The watermark kind of GitLab operating evidence.
pub const KIND: &str = "gitlab.merge_requests";

/// A project whose merged merge requests are read.
pub struct Project {
    /// The full path (without the `gitlab:` prefix).
    pub path: String,
    /// The project id.
    pub id: i64,
    /// The default branch.
    pub branch: String,
    /// The name its merge pipelines' check carries (the branch's required check, when it requires one).
    pub check: String,
}

/// What was read of one project.
pub struct ProjectMerges {
    /// The project.
    pub project: Project,
    /// Where the window starts.
    pub from: NaiveDateTime,
    /// The listing of merge requests merged into the branch and updated since `from`.
    pub listing: Vec<ApiResponse>,
    /// Each one merged in the window.
    pub merged: Vec<Merged>,
}

/// One merged merge request and what was read about it.
pub struct Merged {
    /// Its listing item.
    pub item: Value,
    /// `/merge_requests/:iid/approvals`.
    pub approvals: ApiResponse,
    /// `/merge_requests/:iid/notes`, oldest first, every page.
    pub notes: Vec<ApiResponse>,
    /// `/merge_requests/:iid/pipelines`, the first page (newest first).
    pub pipelines: ApiResponse,
}

impl Merged {
    /// Its per-project number (`iid`).
    pub fn iid(&self) -> i64 {
        self.item.get("iid").and_then(Value::as_i64).unwrap_or_default()
    }

    /// When it was merged.
    pub fn merged_at(&self) -> Option<NaiveDateTime> {
        self.item.get("merged_at").and_then(Value::as_str).and_then(crate::time::parse_api_time)
    }

    /// The head commit merged.
    pub fn sha(&self) -> Option<&str> {
        self.item.get("sha").and_then(Value::as_str)
    }
}

impl ProjectMerges {
    /// Every answer.
    pub fn responses(&self) -> impl Iterator<Item = &ApiResponse> {
        self.listing
            .iter()
            .chain(self.merged.iter().flat_map(|m| std::iter::once(&m.approvals).chain(&m.notes).chain([&m.pipelines])))
    }
}

/// The listing of a project's merge requests merged into `branch` and updated since `from`, newest first (the
/// collector and `doctor` ask alike).
pub fn listing_path(id: i64, branch: &str, from: NaiveDateTime, per_page: u32) -> String {
    format!(
        "/projects/{id}/merge_requests?state=merged&target_branch={}&updated_after={}&order_by=updated_at&sort=desc\
         &per_page={per_page}",
        segment(branch),
        from.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// Reads every project's merges since its starting point (`starts`, by `gitlab:` repository name; else `floor`).
pub async fn fetch(
    client: &ApiClient,
    projects: Vec<Project>,
    starts: &BTreeMap<String, NaiveDateTime>,
    floor: NaiveDateTime,
    per_page: u32,
    concurrency: usize,
) -> Result<Vec<ProjectMerges>> {
    let reads = projects.into_iter().map(|project| async move {
        let from = starts.get(&format!("{}{}", super::PREFIX, project.path)).copied().unwrap_or(floor);
        let listing = get_all(client, &listing_path(project.id, &project.branch, from, per_page)).await?;
        let mut merged = Vec::new();
        let items: Vec<Value> = listing
            .iter()
            .filter(|page| page.status == 200)
            .filter_map(|page| page.json().ok()?.as_array().cloned())
            .flatten()
            .filter(|item| {
                let at = item.get("merged_at").and_then(Value::as_str).and_then(crate::time::parse_api_time);
                at.is_some_and(|at| at >= from)
            })
            .collect();
        for item in items {
            let iid = item.get("iid").and_then(Value::as_i64).unwrap_or_default();
            let base = format!("/projects/{}/merge_requests/{iid}", project.id);
            let approvals = get(client, &format!("{base}/approvals")).await?;
            let notes =
                get_all(client, &format!("{base}/notes?sort=asc&order_by=created_at&per_page={per_page}")).await?;
            let pipelines = get(client, &format!("{base}/pipelines?per_page={per_page}")).await?;
            merged.push(Merged { item, approvals, notes, pipelines });
        }
        Ok::<_, anyhow::Error>(ProjectMerges { project, from, listing, merged })
    });
    futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await.into_iter().collect()
}

/// One approver of a merged merge request, as the notes date it.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// The approver's username.
    pub user: String,
    /// The note that recorded it (its id), when one did.
    pub note_id: Option<i64>,
    /// When, by that note; `None` when no note before the merge records it.
    pub at: Option<NaiveDateTime>,
    /// Whether no commits were added after it (so it was given on the commit merged).
    pub on_final_commit: bool,
    /// Whether it still stood at the merge (`approved_by`); else it was withdrawn or reset.
    pub standing: bool,
}

/// Dates the approvals of a merge request: `standing` are the usernames of `approved_by`, `notes` its notes (any
/// order), `merged_at` when it was merged.
pub fn approvals(standing: &[String], notes: &[Value], merged_at: NaiveDateTime) -> Vec<Approval> {
    let mut system: Vec<(NaiveDateTime, i64, &str, &str)> = notes
        .iter()
        .filter(|note| note.get("system").and_then(Value::as_bool) == Some(true))
        .filter_map(|note| {
            let at = note.get("created_at").and_then(Value::as_str).and_then(crate::time::parse_api_time)?;
            let id = note.get("id").and_then(Value::as_i64).unwrap_or_default();
            let body = note.get("body").and_then(Value::as_str)?;
            let user = note.pointer("/author/username").and_then(Value::as_str)?;
            Some((at, id, body, user))
        })
        .filter(|(at, ..)| *at <= merged_at)
        .collect();
    system.sort();
    let mut given: BTreeMap<String, (i64, NaiveDateTime)> = BTreeMap::new();
    let mut withdrawn: BTreeMap<String, (i64, NaiveDateTime)> = BTreeMap::new();
    let mut last_push: Option<NaiveDateTime> = None;
    for (at, id, body, user) in system {
        let body = body.trim();
        if body == "approved this merge request" {
            given.insert(user.to_string(), (id, at));
            withdrawn.remove(user);
        } else if body == "unapproved this merge request" {
            if let Some(approval) = given.remove(user) {
                withdrawn.insert(user.to_string(), approval);
            }
        } else if body.starts_with("reset approvals") {
            withdrawn.append(&mut given);
        } else if body.starts_with("added ") && body.contains("commit") {
            last_push = Some(at);
        }
    }
    let mut found: Vec<Approval> = standing
        .iter()
        .map(|user| {
            let dated = given.get(user);
            Approval {
                user: user.clone(),
                note_id: dated.map(|(id, _)| *id),
                at: dated.map(|(_, at)| *at),
                on_final_commit: dated.is_some_and(|(_, at)| last_push.is_none_or(|push| *at > push)),
                standing: true,
            }
        })
        .collect();
    let lapsed = given.into_iter().chain(withdrawn).filter(|(user, _)| !standing.contains(user));
    found.extend(lapsed.map(|(user, (id, at))| Approval {
        user,
        note_id: Some(id),
        at: Some(at),
        on_final_commit: false,
        standing: false,
    }));
    found
}

/// The usernames in an `/approvals` answer's `approved_by`.
pub fn approved_by(body: &Value) -> Vec<String> {
    body.get("approved_by")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(|a| a.pointer("/user/username")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The pipeline that gated merge request `iid` at `sha`, as a check run's status and conclusion: the newest (in a
/// newest-first listing) that ran on `sha`, else the newest merged-results or merge-train pipeline of the merge
/// request (those run on the merge of `sha` into the target, a commit of their own).
pub fn pipeline_of<'a>(
    pipelines: &'a [Value],
    sha: &str,
    iid: i64,
) -> Option<(&'a Value, &'static str, Option<&'static str>)> {
    let on_sha = pipelines.iter().find(|p| p.get("sha").and_then(Value::as_str) == Some(sha));
    let merged_results = || {
        let refs = [format!("refs/merge-requests/{iid}/merge"), format!("refs/merge-requests/{iid}/train")];
        pipelines.iter().find(|p| p.get("ref").and_then(Value::as_str).is_some_and(|r| refs.iter().any(|m| m == r)))
    };
    let pipeline = on_sha.or_else(merged_results)?;
    let (status, conclusion) = match pipeline.get("status").and_then(Value::as_str).unwrap_or_default() {
        "success" => ("completed", Some("success")),
        "failed" => ("completed", Some("failure")),
        "canceled" | "canceling" => ("completed", Some("cancelled")),
        "skipped" => ("completed", Some("skipped")),
        "manual" => ("completed", Some("action_required")),
        _ => ("in_progress", None),
    };
    Some((pipeline, status, conclusion))
}

/// Stores the merges: evidence, coverage, facts, and the windows read whole as watermarks; counts them in
/// `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &super::tier::Tier,
    merges: &[ProjectMerges],
    now: NaiveDateTime,
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    use crate::collect::coverage::{Coverage, Seen};
    use duckdb::params;

    let repos: Vec<String> = merges.iter().map(|m| format!("{}{}", super::PREFIX, m.project.path)).collect();
    let mut subjects: Vec<Vec<String>> = Vec::new();
    for (merge, repo) in merges.iter().zip(&repos) {
        subjects.push(merge.merged.iter().map(|m| format!("{repo}#{}", m.iid())).collect());
    }
    let mut items = Vec::new();
    for ((merge, repo), numbered) in merges.iter().zip(&repos).zip(&subjects) {
        items.extend(super::facts::listing_evidence(KIND, repo, &merge.listing));
        for (merged, subject) in merge.merged.iter().zip(numbered) {
            items.push(super::facts::evidence("gitlab.merge_request_approvals", subject, &merged.approvals, None));
            items.extend(super::facts::listing_evidence("gitlab.merge_request_notes", subject, &merged.notes));
            items.push(super::facts::evidence("gitlab.merge_request_pipelines", subject, &merged.pipelines, None));
        }
    }
    let ids = crate::store::add_evidence_batch(conn, run_id, &items)?;
    summary.evidence += ids.len();
    let mut next_id = ids.into_iter();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut requests = conn.appender("merge_requests_history")?;
    let mut reviews = conn.appender("pr_reviews_history")?;
    let mut checks = conn.appender("check_runs_history")?;
    let mut windows: Vec<(&str, NaiveDateTime, NaiveDateTime)> = Vec::new();
    for ((merge, repo), numbered) in merges.iter().zip(&repos).zip(&subjects) {
        let listing_ids: Vec<i64> = next_id.by_ref().take(merge.listing.len()).collect();
        let seen = super::tier::judge(KIND, "Reporter", None, tier, &merge.listing);
        let observed_at = merge.listing.first().map_or(now, |p| p.received_at);
        let mut record = |kind, table, subject: &str, evidence_id, observed_at, seen: &Seen| {
            let complete = *seen == Seen::Visible;
            Coverage { org, subject, kind, table, part: "", evidence_id, observed_at, complete }.append(
                &mut coverage,
                run_id,
                seen,
            )
        };
        let mut whole = seen == Seen::Visible;
        record(KIND, "merge_requests", repo, listing_ids.first().copied(), observed_at, &seen)?;
        summary.count(&seen);
        for (merged, subject) in merge.merged.iter().zip(numbered) {
            let approvals_id = next_id.next().unwrap_or_default();
            let note_ids: Vec<i64> = next_id.by_ref().take(merged.notes.len()).collect();
            let pipelines_id = next_id.next().unwrap_or_default();
            let page = listing_ids.first().copied().unwrap_or(approvals_id);
            let item = &merged.item;
            let text = |pointer: &str| item.pointer(pointer).and_then(Value::as_str).map(str::to_string);
            let time =
                |pointer: &str| item.pointer(pointer).and_then(Value::as_str).and_then(crate::time::parse_api_time);
            let merger = text("/merge_user/username").or_else(|| text("/merged_by/username"));
            requests.append_row(params![
                run_id,
                page,
                observed_at,
                "gitlab",
                repo,
                merged.iid(),
                text("/title"),
                text("/author/username"),
                "merged",
                text("/target_branch"),
                time("/created_at"),
                merged.merged_at(),
                merger,
                text("/web_url"),
                org,
                merged.sha(),
                text("/merge_commit_sha").or_else(|| text("/squash_commit_sha")),
            ])?;
            summary.merge_requests += 1;
            // Who approved, and when: both the approvals and every page of the notes must be read.
            let approvals_seen = super::tier::judge(
                "gitlab.merge_request_approvals",
                "Reporter",
                None,
                tier,
                std::slice::from_ref(&merged.approvals),
            );
            let notes_seen = super::tier::judge("gitlab.merge_request_notes", "Reporter", None, tier, &merged.notes);
            let reviews_seen = if approvals_seen == Seen::Visible { notes_seen } else { approvals_seen };
            let at = merged.approvals.received_at;
            record("gitlab.merge_request_approvals", "pr_reviews", subject, Some(approvals_id), at, &reviews_seen)?;
            summary.count(&reviews_seen);
            whole &= reviews_seen == Seen::Visible;
            if let (Seen::Visible, Some(merged_at)) = (&reviews_seen, merged.merged_at()) {
                let standing = approved_by(&merged.approvals.json()?);
                let mut notes = Vec::new();
                for page in &merged.notes {
                    notes.extend(page.json()?.as_array().cloned().unwrap_or_default());
                }
                for (index, approval) in approvals(&standing, &notes, merged_at).into_iter().enumerate() {
                    reviews.append_row(params![
                        run_id,
                        note_ids.first().copied().unwrap_or(approvals_id),
                        merged.approvals.received_at,
                        org,
                        repo,
                        merged.iid(),
                        approval.note_id.unwrap_or(-(index as i64) - 1),
                        approval.user,
                        if approval.standing { "APPROVED" } else { "DISMISSED" },
                        approval.at,
                        approval.on_final_commit.then(|| merged.sha()).flatten(),
                    ])?;
                }
            }
            // The pipeline of the merged commit.
            let Some(sha) = merged.sha() else { continue };
            let check_subject = format!("{repo}@{sha}");
            let pipelines = std::slice::from_ref(&merged.pipelines);
            let pipelines_seen = super::tier::judge("gitlab.pipelines", "Reporter", None, tier, pipelines);
            let at = merged.pipelines.received_at;
            record("gitlab.pipelines", "check_runs", &check_subject, Some(pipelines_id), at, &pipelines_seen)?;
            summary.count(&pipelines_seen);
            whole &= pipelines_seen == Seen::Visible;
            if pipelines_seen == Seen::Visible {
                let listed = merged.pipelines.json()?.as_array().cloned().unwrap_or_default();
                if let Some((pipeline, status, conclusion)) = pipeline_of(&listed, sha, merged.iid()) {
                    let finished =
                        pipeline.get("updated_at").and_then(Value::as_str).and_then(crate::time::parse_api_time);
                    checks.append_row(params![
                        run_id,
                        pipelines_id,
                        merged.pipelines.received_at,
                        org,
                        repo,
                        sha,
                        pipeline.get("id").and_then(Value::as_i64).unwrap_or_default(),
                        merge.project.check,
                        status,
                        conclusion,
                        "gitlab-ci",
                        finished,
                    ])?;
                }
            }
        }
        if whole {
            windows.push((repo.as_str(), merge.from, now));
        }
    }
    coverage.flush()?;
    requests.flush()?;
    reviews.flush()?;
    checks.flush()?;
    drop((coverage, requests, reviews, checks));
    crate::collect::watermarks::record(conn, run_id, org, KIND, &windows)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(name: &str) -> Value {
        super::super::recorded_sample(name)[0]["response"].clone()
    }

    #[test]
    fn the_recorded_gitlab_merge_request_was_approved_twice_before_its_merge() {
        let merge_request = recorded("danger-js-getMergeRequestInfo.nock.json");
        let merged_at = crate::time::parse_api_time(merge_request["merged_at"].as_str().unwrap()).unwrap();
        let standing = approved_by(&recorded("danger-js-getMergeRequestApprovals.nock.json"));
        assert_eq!(standing, ["reprazent", "dbalexandre"]);
        let notes = recorded("danger-js-getMergeRequestNotes.nock.json");
        let found = approvals(&standing, notes.as_array().unwrap(), merged_at);
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|a| a.standing && a.on_final_commit && a.at.is_some_and(|at| at < merged_at)));
        assert_eq!(found[0].at.unwrap().format("%H:%M:%S").to_string(), "06:46:03");
    }

    #[test]
    fn a_push_after_an_approval_makes_it_stale_and_an_unapproval_withdraws_it() {
        let note = |id: i64, at: &str, user: &str, body: &str| serde_json::json!({"id": id, "system": true, "created_at": at, "author": {"username": user}, "body": body});
        let notes = [
            note(1, "2026-05-01T10:00:00Z", "ann", "approved this merge request"),
            note(2, "2026-05-01T11:00:00Z", "dev", "added 1 commit\n\n* abc123 - fix"),
            note(3, "2026-05-01T12:00:00Z", "bob", "approved this merge request"),
            note(4, "2026-05-01T12:30:00Z", "bob", "unapproved this merge request"),
            note(5, "2026-05-01T14:00:00Z", "eve", "approved this merge request"),
        ];
        let merged_at = crate::time::parse_api_time("2026-05-01T13:00:00Z").unwrap();
        let found = approvals(&["ann".into(), "eve".into()], &notes, merged_at);
        let ann = &found[0];
        assert!(ann.standing && ann.at.is_some() && !ann.on_final_commit, "{ann:?}");
        let eve = &found[1];
        assert!(eve.standing && eve.at.is_none(), "approved after the merge: no note before it: {eve:?}");
        let bob = &found[2];
        assert!(!bob.standing && bob.user == "bob");
    }

    #[test]
    fn the_pipeline_of_the_merged_commit_decides_the_check() {
        let pipelines = [
            serde_json::json!({"id": 3, "sha": "new", "status": "running"}),
            serde_json::json!({"id": 2, "sha": "abc", "status": "failed"}),
            serde_json::json!({"id": 1, "sha": "abc", "status": "success"}),
        ];
        let (pipeline, status, conclusion) = pipeline_of(&pipelines, "abc", 7).unwrap();
        assert_eq!((pipeline["id"].as_i64(), status, conclusion), (Some(2), "completed", Some("failure")));
        assert!(pipeline_of(&pipelines, "zzz", 7).is_none());
        let merged_results = [serde_json::json!({"id": 4, "sha": "merge-of-abc", "ref": "refs/merge-requests/7/merge",
                                                 "status": "success"})];
        let (pipeline, _, conclusion) = pipeline_of(&merged_results, "abc", 7).unwrap();
        assert_eq!((pipeline["id"].as_i64(), conclusion), (Some(4), Some("success")));
        assert!(pipeline_of(&merged_results, "abc", 8).is_none(), "another merge request's pipeline");
    }
}
