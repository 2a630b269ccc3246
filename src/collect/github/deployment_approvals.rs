//! Who approved each deployment: a deployment made by GitHub Actions links, in its statuses, to the job (or run)
//! that made it; the run's deployment reviews say who approved or rejected it for which environment.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::text;
use crate::collect::http::{ApiClient, ApiResponse};

/// What a deployment status links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunLink {
    /// A workflow run (`…/actions/runs/{id}/job/{job}` or `…/actions/runs/{id}`).
    Run(i64),
    /// A job, shown as a check run (`…/runs/{id}?check_suite_focus=true`, older statuses).
    Job(i64),
}

fn leading_number(text: &str) -> Option<i64> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The run or job a status URL of `repo` points to (any host, so GitHub Enterprise Server too).
pub fn link_in(url: &str, repo: &str) -> Option<RunLink> {
    let (_, path) = url.split_once(&format!("/{repo}/"))?;
    if let Some(rest) = path.strip_prefix("actions/runs/") {
        return leading_number(rest).map(RunLink::Run);
    }
    path.strip_prefix("runs/").and_then(leading_number).map(RunLink::Job)
}

/// The first run or job a deployment's statuses link to (`log_url`, else `target_url`).
pub fn linked_run(repo: &str, statuses: &[ApiResponse]) -> Option<RunLink> {
    statuses.iter().filter(|page| page.status == 200).filter_map(|page| page.json().ok()).find_map(|body| {
        body.as_array()?.iter().find_map(|status| {
            ["log_url", "target_url"]
                .iter()
                .filter_map(|field| status.get(*field).and_then(Value::as_str))
                .find_map(|url| link_in(url, repo))
        })
    })
}

/// One deployment's link to its workflow run and the run's deployment reviews.
pub struct DeploymentApprovals {
    /// The deployment.
    pub deployment_id: i64,
    /// The job lookup, when the status named a job rather than its run.
    pub job: Vec<ApiResponse>,
    /// The run's deployment reviews (empty when the run could not be found).
    pub approvals: Vec<ApiResponse>,
}

/// Reads who approved the deployment, when its statuses link to the run that made it; `None` when they link nothing
/// (a deployment not made by GitHub Actions).
/// `asked` keeps the answers already read for this repository: deployments made by one run (staging, then
/// production) link to the same job and run, which are asked once.
pub async fn fetch(
    client: &ApiClient,
    repo: &str,
    deployment_id: i64,
    statuses: &[ApiResponse],
    asked: &mut std::collections::BTreeMap<String, ApiResponse>,
) -> Result<Option<DeploymentApprovals>> {
    let mut job = Vec::new();
    let run_id = match linked_run(repo, statuses) {
        None => return Ok(None),
        Some(RunLink::Run(id)) => Some(id),
        Some(RunLink::Job(id)) => {
            let page = get_once(client, asked, &format!("/repos/{repo}/actions/jobs/{id}")).await?;
            let run = (page.status == 200)
                .then(|| page.json().ok())
                .flatten()
                .and_then(|body| body.get("run_id").and_then(Value::as_i64));
            job.push(page);
            run
        }
    };
    let approvals = match run_id {
        Some(run) => vec![get_once(client, asked, &format!("/repos/{repo}/actions/runs/{run}/approvals")).await?],
        None => Vec::new(),
    };
    Ok(Some(DeploymentApprovals { deployment_id, job, approvals }))
}

/// One answer per path: the one already read, else a new request.
async fn get_once(
    client: &ApiClient,
    asked: &mut std::collections::BTreeMap<String, ApiResponse>,
    path: &str,
) -> Result<ApiResponse> {
    if let Some(page) = asked.get(path) {
        return Ok(page.clone());
    }
    let page = client.get(&client.url(path), 1).await?;
    asked.insert(path.to_string(), page.clone());
    Ok(page)
}

/// The workflow run an approvals answer is about, from the URL it was read from.
pub fn run_of(page: &ApiResponse) -> Option<i64> {
    page.url.split_once("/actions/runs/").and_then(|(_, rest)| leading_number(rest))
}

/// The cells after `run_id, evidence_id, observed_at, org` for one review of one environment.
pub fn rows(repo: &str, deployment_id: i64, run_id: Option<i64>, review: &Value) -> Vec<Vec<Cell>> {
    let environments: Vec<Cell> = review
        .get("environments")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|environment| text(environment, "/name")).collect())
        .filter(|names: &Vec<Cell>| !names.is_empty())
        .unwrap_or_else(|| vec![Cell::Null]);
    environments
        .into_iter()
        .map(|environment| {
            vec![
                Cell::Text(repo.to_string()),
                Cell::BigInt(deployment_id),
                run_id.map(Cell::BigInt).unwrap_or(Cell::Null),
                environment,
                text(review, "/state"),
                text(review, "/user/login"),
                text(review, "/comment"),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_urls_name_a_run_or_a_job_of_the_same_repository() {
        let repo = "acme/web";
        assert_eq!(link_in("https://github.com/acme/web/actions/runs/9100/job/77001", repo), Some(RunLink::Run(9100)));
        assert_eq!(link_in("https://github.com/acme/web/actions/runs/9100", repo), Some(RunLink::Run(9100)));
        assert_eq!(
            link_in("https://ghe.example.com/acme/web/runs/88001?check_suite_focus=true", repo),
            Some(RunLink::Job(88001))
        );
        assert_eq!(link_in("https://github.com/acme/other/actions/runs/1", repo), None);
        assert_eq!(link_in("https://deploy.example.com/acme/web/status", repo), None);
    }
}
