//! The static analysis GitLab ran on each project's default branch: the branch's newest finished pipelines
//! (`/projects/:id/pipelines?ref=…&scope=finished`, child pipelines among them), newest first, and their jobs until
//! one produced a SAST report and succeeded. Every job that produced a SAST report (a job artifact of type `sast`,
//! whatever the job is called) becomes a `code_scanning_analyses` row as GitHub's analyses do, judged by `TST-01`.
//!
//! What a SAST job found is not read here: GitLab's REST API serves a job's artifacts archive, not its report
//! artifacts, so findings come from an ingested report. A configuration that, as GitLab expands it, has no job
//! producing a SAST report is not searched (no pipeline of the branch can hold one); one that has, or that was not
//! read whole, is searched through at most [`PIPELINES_READ`] pipelines, and a search that ends there without a
//! successful SAST job is incomplete, never "none ran".

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::Value;

use super::fetch::{get, get_all, segment};
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{listing_complete, ApiClient, ApiResponse};

/// The coverage kind of the search, for `code_scanning_analyses`.
pub const KIND: &str = "gitlab.sast_runs";
/// The evidence kind of a branch's pipelines listing.
const PIPELINES_KIND: &str = "gitlab.branch_pipelines";
/// The evidence kind of a pipeline's jobs.
const JOBS_KIND: &str = "gitlab.pipeline_jobs";
/// How many of the default branch's newest finished pipelines are searched for a SAST job.
pub const PIPELINES_READ: usize = 5;

/// A project whose default branch's SAST runs are read.
pub struct Project {
    /// The full path (without the `gitlab:` prefix).
    pub path: String,
    /// The project id.
    pub id: i64,
    /// The default branch.
    pub branch: String,
    /// Whether its CI configuration, as GitLab expands it, has a job producing a SAST report; `None` when that
    /// configuration was not read whole.
    pub sast_configured: Option<bool>,
}

/// What was read of one project.
pub struct ProjectRuns {
    /// The project.
    pub project: Project,
    /// The newest finished pipelines of the default branch; `None` when the configuration runs no SAST job.
    pub pipelines: Option<ApiResponse>,
    /// Every page of each pipeline's jobs, newest pipeline first, as far as the search went.
    pub jobs: Vec<Vec<ApiResponse>>,
}

impl ProjectRuns {
    /// Every answer.
    pub fn responses(&self) -> impl Iterator<Item = &ApiResponse> {
        self.pipelines.iter().chain(self.jobs.iter().flatten())
    }
}

/// The newest finished pipelines of a branch (the collector and `doctor` ask alike).
pub fn pipelines_path(id: i64, branch: &str) -> String {
    format!(
        "/projects/{id}/pipelines?ref={}&scope=finished&order_by=id&sort=desc&per_page={PIPELINES_READ}",
        segment(branch)
    )
}

/// The jobs of one pipeline.
pub fn jobs_path(id: i64, pipeline: i64, per_page: u32) -> String {
    format!("/projects/{id}/pipelines/{pipeline}/jobs?per_page={per_page}")
}

/// Whether a job left a SAST report among its artifacts.
fn produced_sast_report(job: &Value) -> bool {
    job.get("artifacts")
        .and_then(Value::as_array)
        .is_some_and(|artifacts| artifacts.iter().any(|a| a.get("file_type").and_then(Value::as_str) == Some("sast")))
}

/// The jobs of a listing's pages that produced a SAST report (pages that are not a list hold none).
fn sast_jobs(pages: &[ApiResponse]) -> Vec<(usize, Value)> {
    let mut found = Vec::new();
    for (index, page) in pages.iter().enumerate().filter(|(_, page)| page.status == 200) {
        let jobs = page.json().ok().and_then(|body| body.as_array().cloned()).unwrap_or_default();
        found.extend(jobs.into_iter().filter(produced_sast_report).map(|job| (index, job)));
    }
    found
}

/// Whether a job finished successfully.
fn succeeded(job: &Value) -> bool {
    job.get("status").and_then(Value::as_str) == Some("success")
}

/// The pipeline ids of a pipelines answer, newest first; `None` when it is not a list of pipelines.
fn pipeline_ids(answer: &ApiResponse) -> Option<Vec<i64>> {
    let body = answer.json().ok()?;
    body.as_array()?.iter().map(|pipeline| pipeline.get("id")?.as_i64()).collect()
}

/// Reads each project's newest default-branch pipelines and their jobs until a SAST job succeeded.
pub async fn fetch(
    client: &ApiClient,
    projects: Vec<Project>,
    per_page: u32,
    concurrency: usize,
) -> Result<Vec<ProjectRuns>> {
    let reads = projects.into_iter().map(|project| async move {
        if project.sast_configured == Some(false) {
            return Ok::<_, anyhow::Error>(ProjectRuns { project, pipelines: None, jobs: Vec::new() });
        }
        let pipelines = get(client, &pipelines_path(project.id, &project.branch)).await?;
        let mut jobs = Vec::new();
        if pipelines.status == 200 {
            for pipeline in pipeline_ids(&pipelines).unwrap_or_default().into_iter().take(PIPELINES_READ) {
                let pages = get_all(client, &jobs_path(project.id, pipeline, per_page)).await?;
                let done = pages.iter().any(|page| page.status != 200)
                    || sast_jobs(&pages).iter().any(|(_, job)| succeeded(job));
                jobs.push(pages);
                if done {
                    break;
                }
            }
        }
        Ok(ProjectRuns { project, pipelines: Some(pipelines), jobs })
    });
    futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await.into_iter().collect()
}

/// What the answers of one project show (`found`: the SAST jobs of each jobs listing read): everything searched,
/// or why the search says nothing.
fn seen(read: &ProjectRuns, found: &[Vec<(usize, Value)>], tier: &Tier) -> Seen {
    let Some(pipelines) = &read.pipelines else { return Seen::Visible };
    let listed = judge(PIPELINES_KIND, "Reporter", None, tier, std::slice::from_ref(pipelines));
    if listed != Seen::Visible {
        return listed;
    }
    let Some(ids) = pipeline_ids(pipelines) else {
        return Seen::Incomplete(format!("{}: GitLab's answer is not a list of pipelines", pipelines.url));
    };
    for pages in &read.jobs {
        let jobs = judge(JOBS_KIND, "Reporter", None, tier, pages);
        if jobs != Seen::Visible {
            return jobs;
        }
        if listing_complete(pages) == Some(false) {
            let url = pages.first().map(|page| page.url.as_str()).unwrap_or_default();
            return Seen::Incomplete(format!("the jobs of a pipeline were not read to the end ({url})"));
        }
    }
    let ran = found.iter().flatten().any(|(_, job)| succeeded(job));
    if !ran && ids.len() >= PIPELINES_READ {
        let configured = match read.project.sast_configured {
            Some(_) => "its CI configuration has a job producing a SAST report",
            None => "whether its CI configuration has a SAST job is not known, as it was not read whole",
        };
        return Seen::Incomplete(format!(
            "No SAST job succeeded in the newest {PIPELINES_READ} finished pipelines of {}, and older ones were not \
             read ({configured})",
            read.project.branch
        ));
    }
    Seen::Visible
}

/// Stores each project's answers, coverage and a `code_scanning_analyses` row per job that produced a SAST report;
/// counts them in `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    read: &[ProjectRuns],
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let repos: Vec<String> = read.iter().map(|r| format!("{}{}", super::PREFIX, r.project.path)).collect();
    let mut kept = Vec::new();
    for (runs, repo) in read.iter().zip(&repos) {
        kept.extend(runs.pipelines.iter().map(|answer| super::facts::evidence(PIPELINES_KIND, repo, answer, None)));
        for pages in &runs.jobs {
            kept.extend(super::facts::listing_evidence(JOBS_KIND, repo, pages));
        }
    }
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let mut next_id = ids.into_iter();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut rows = conn.appender("code_scanning_analyses_history")?;
    for (runs, repo) in read.iter().zip(&repos) {
        let listing_id = runs.pipelines.as_ref().map(|_| next_id.next().unwrap_or_default());
        let found: Vec<Vec<(usize, Value)>> = runs.jobs.iter().map(|pages| sast_jobs(pages)).collect();
        let seen = seen(runs, &found, tier);
        let observed_at = runs.pipelines.as_ref().map(|p| p.received_at).unwrap_or_else(crate::time::now_utc);
        Coverage {
            org,
            subject: repo,
            kind: KIND,
            table: "code_scanning_analyses",
            part: "",
            evidence_id: listing_id,
            observed_at,
            complete: seen == Seen::Visible,
        }
        .append(&mut coverage, run_id, &seen)?;
        summary.count(&seen);
        for (pages, jobs) in runs.jobs.iter().zip(found) {
            let page_ids: Vec<i64> = next_id.by_ref().take(pages.len()).collect();
            for (index, job) in jobs {
                let text = |name: &str| job.get(name).and_then(Value::as_str);
                let status = text("status").unwrap_or("unknown");
                let error = (!succeeded(&job)).then(|| match text("failure_reason") {
                    Some(reason) => format!("the job ended {status} ({reason})"),
                    None => format!("the job ended {status}"),
                });
                let finished = text("finished_at").or(text("created_at")).and_then(crate::time::parse_api_time);
                rows.append_row(duckdb::params![
                    run_id,
                    page_ids.get(index).copied().unwrap_or_default(),
                    pages[index].received_at,
                    org,
                    repo,
                    job.get("id").and_then(Value::as_i64).unwrap_or_default(),
                    text("name"),
                    None::<String>,
                    text("ref").map(|branch| format!("refs/heads/{branch}")),
                    "sast",
                    finished,
                    None::<i64>,
                    error,
                ])?;
            }
        }
    }
    coverage.flush()?;
    rows.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> ApiResponse {
        crate::collect::gitlab::test_answer(200, body)
    }

    fn judged(read: &ProjectRuns, tier: &Tier) -> Seen {
        let found: Vec<_> = read.jobs.iter().map(|pages| sast_jobs(pages)).collect();
        seen(read, &found, tier)
    }

    fn runs(sast_configured: Option<bool>, pipelines: &str, jobs: &[&str]) -> ProjectRuns {
        ProjectRuns {
            project: Project { path: "g/p".into(), id: 1, branch: "main".into(), sast_configured },
            pipelines: Some(answer(pipelines)),
            jobs: jobs.iter().map(|body| vec![answer(body)]).collect(),
        }
    }

    #[test]
    fn a_recorded_job_is_no_sast_job_until_it_leaves_a_sast_report() {
        let recorded = crate::collect::gitlab::recorded_sample("gitlab4j-job.json");
        assert!(!produced_sast_report(&recorded), "archive, metadata, trace and junit artifacts are no SAST report");
        let mut sast = recorded.clone();
        sast["artifacts"].as_array_mut().unwrap().push(serde_json::json!({"file_type": "sast", "size": 10}));
        assert!(produced_sast_report(&sast));
        assert!(!succeeded(&sast), "the recorded job failed");
    }

    #[test]
    fn a_search_cut_at_the_limit_without_a_successful_sast_job_is_incomplete() {
        let tier = Tier::Paid("premium".into());
        let five = "[{\"id\":5},{\"id\":4},{\"id\":3},{\"id\":2},{\"id\":1}]";
        let failed = r#"[{"id":9,"status":"failed","artifacts":[{"file_type":"sast"}]}]"#;
        let passed = r#"[{"id":9,"status":"success","artifacts":[{"file_type":"sast"}]}]"#;
        let none = r#"[{"id":8,"status":"success","artifacts":[]}]"#;
        assert!(matches!(
            judged(&runs(Some(true), five, &[none, failed, none, none, none]), &tier),
            Seen::Incomplete(_)
        ));
        assert!(matches!(judged(&runs(None, five, &[none; 5]), &tier), Seen::Incomplete(_)));
        assert_eq!(judged(&runs(Some(true), five, &[none, passed]), &tier), Seen::Visible);
        assert_eq!(judged(&runs(None, "[{\"id\":1}]", &[none]), &tier), Seen::Visible, "every pipeline was read");
        assert!(matches!(judged(&runs(None, "{\"message\":\"x\"}", &[]), &tier), Seen::Incomplete(_)));
    }
}
