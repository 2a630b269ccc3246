//! When each project was last pushed to: its newest `pushed` event (`/projects/:id/events?action=pushed`), the
//! analogue of GitHub's `pushed_at` (GitLab's `last_activity_at` counts comments and issues too), written into the
//! project's `repositories` row of the run, judged by `SRC-16`. GitLab keeps events for three years: a project
//! with none has no known push date, which is unknown, never recent.

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::Value;

use super::fetch::get;
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{ApiClient, ApiResponse};

/// The newest push event of a project (the collector and `doctor` ask alike).
pub fn path(id: i64) -> String {
    format!("/projects/{id}/events?action=pushed&sort=desc&per_page=1")
}

/// Reads each project's newest push (projects: path and id).
pub async fn fetch(
    client: &ApiClient,
    projects: Vec<(String, i64)>,
    concurrency: usize,
) -> Result<Vec<(String, ApiResponse)>> {
    let reads = projects
        .into_iter()
        .map(|(name, id)| async move { Ok::<_, anyhow::Error>((name, get(client, &path(id)).await?)) });
    futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await.into_iter().collect()
}

/// Stores each answer, its coverage, and the push time in the project's `repositories` row of this run; counts
/// them in `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    read: &[(String, ApiResponse)],
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let repos: Vec<String> = read.iter().map(|(path, _)| format!("{}{path}", super::PREFIX)).collect();
    let kept: Vec<_> = read
        .iter()
        .zip(&repos)
        .map(|((_, answer), repo)| super::facts::evidence("gitlab.push_events", repo, answer, None))
        .collect();
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut update =
        conn.prepare("UPDATE repositories_history SET pushed_at = ? WHERE run_id = ? AND repo = ? AND org = ?")?;
    for (((_, answer), repo), evidence_id) in read.iter().zip(&repos).zip(ids) {
        let seen = judge("gitlab.push_events", "Reporter", None, tier, std::slice::from_ref(answer));
        let pushed_at =
            if seen == Seen::Visible {
                answer.json()?.as_array().and_then(|events| events.first().cloned()).and_then(|event| {
                    event.get("created_at").and_then(Value::as_str).and_then(crate::time::parse_api_time)
                })
            } else {
                None
            };
        Coverage {
            org,
            subject: repo,
            kind: "gitlab.push_events",
            table: "repositories",
            part: "",
            evidence_id: Some(evidence_id),
            observed_at: answer.received_at,
            complete: seen == Seen::Visible,
        }
        .append(&mut coverage, run_id, &seen)?;
        summary.count(&seen);
        if let Some(at) = pushed_at {
            update.execute(duckdb::params![at, run_id, repo, org])?;
        }
    }
    coverage.flush()?;
    Ok(())
}
