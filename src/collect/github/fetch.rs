//! Reads one organisation's evidence from the GitHub REST API.

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};
use futures_util::StreamExt;

use super::endpoints::{
    Endpoint, Scope, ORG_ENDPOINTS, PUBLIC_REPO_ENDPOINTS, RELEASE_BRANCH_RULES, RELEASE_REFS, REPO_ENDPOINTS,
};
use super::GithubConfig;
use crate::collect::http::{ApiClient, ApiResponse};

/// Everything read from GitHub in one collection, kept as raw responses.
pub struct GithubSnapshot {
    /// The organisation login.
    pub org: String,
    /// `GET /orgs/{org}`.
    pub org_response: ApiResponse,
    /// `GET /orgs/{org}/repos`, every page.
    pub repo_pages: Vec<ApiResponse>,
    /// `GET /repos/{owner}/{repo}/branches/{branch}/protection`, per in-scope repository's default branch, then per
    /// release branch found.
    pub protections: Vec<BranchProtectionResponse>,
    /// The repositories in scope (`owner/name`); the listing pages are kept whole as evidence regardless.
    pub in_scope: BTreeSet<String>,
    /// How many listed repositories the config's scope left out.
    pub out_of_scope: usize,
    /// The answers of every other endpoint (release-branch listings, organisation-wide, per repository, follow-ups).
    pub fetched: Vec<Fetched>,
}

/// The answers of one endpoint for one organisation or repository.
pub struct Fetched {
    /// The endpoint asked.
    pub endpoint: &'static Endpoint,
    /// `owner/name`, for repository endpoints.
    pub repo: Option<String>,
    /// The repository's default branch.
    pub branch: Option<String>,
    /// The listing item this request followed from (a ruleset, a workflow).
    pub parent: Option<serde_json::Value>,
    /// Every page, the last one possibly an error.
    pub pages: Vec<ApiResponse>,
}

/// One request to make: an endpoint at a path, for a subject.
struct Job {
    endpoint: &'static Endpoint,
    repo: Option<String>,
    branch: Option<String>,
    parent: Option<serde_json::Value>,
    path: String,
}

impl GithubSnapshot {
    /// Every response in the snapshot.
    pub fn responses(&self) -> Vec<&ApiResponse> {
        std::iter::once(&self.org_response)
            .chain(&self.repo_pages)
            .chain(self.protections.iter().map(|p| &p.response))
            .chain(self.fetched.iter().flat_map(|f| &f.pages))
            .collect()
    }
}

/// The protection answer for one repository's default branch or one of its release branches.
pub struct BranchProtectionResponse {
    /// `owner/name`.
    pub repo: String,
    /// The branch asked about.
    pub branch: String,
    /// Whether it is the repository's default branch (else a release branch).
    pub default_branch: bool,
    /// The answer, whatever its status.
    pub response: ApiResponse,
}

/// Fetches the organisation, its repositories, the release branches of each in-scope repository and the protection
/// of its default and release branches (`concurrency` at a time, results kept in repository order).
pub async fn fetch_snapshot(client: &ApiClient, config: &GithubConfig) -> Result<GithubSnapshot> {
    let org = config.org.as_str();
    let per_page = config.per_page.clamp(1, 100);
    let org_response = client.get(&client.url(&format!("/orgs/{org}")), 1).await?;
    match org_response.status {
        200 => {}
        crate::collect::http::UNANSWERED => {
            return Err(anyhow!(
                "cannot read organisation {org:?}: {}",
                org_response.error_message().unwrap_or_default()
            ))
        }
        401 => return Err(anyhow!("GitHub rejected the token (HTTP 401): check the token named by github.token_env")),
        status => {
            return Err(anyhow!(
                "cannot read organisation {org:?}: HTTP {status} {}",
                org_response.error_message().unwrap_or_default()
            ))
        }
    }
    let repo_pages = client.get_all_pages(&format!("/orgs/{org}/repos?type=all&per_page={per_page}")).await?;
    if let Some(failed) = repo_pages.iter().find(|page| page.status != 200) {
        let status = match failed.status {
            crate::collect::http::UNANSWERED => "no usable answer".to_string(),
            status => format!("HTTP {status}"),
        };
        return Err(anyhow!(
            "cannot list the repositories of {org:?} (nothing is stored from a partial inventory): {status} on page \
             {} {}",
            failed.page,
            failed.error_message().unwrap_or_default()
        ));
    }
    let listed = listed_repositories(&repo_pages)?;
    let in_scope: BTreeSet<String> =
        listed.iter().filter(|r| config.in_scope(&r.name, r.archived)).map(|r| r.name.clone()).collect();
    let out_of_scope = listed.len() - in_scope.len();
    let listed: Vec<Listed> = listed.into_iter().filter(|r| in_scope.contains(&r.name)).collect();
    let release_listings = run_jobs(client, config, release_listing_jobs(config, &listed)).await?;
    let release_branches = super::release_branches::found(&release_listings, &config.release_branches)?;
    let wanted: Vec<(String, String, bool)> = listed
        .iter()
        .filter_map(|r| Some((r.name.clone(), r.default_branch.clone()?, true)))
        .chain(release_branches.iter().map(|(repo, branch)| (repo.clone(), branch.clone(), false)))
        .collect();
    client.progress().plan(wanted.len());
    let requests = wanted.into_iter().map(|(repo, branch, default_branch)| async move {
        let url = client.url(&format!("/repos/{repo}/branches/{}/protection", encode_branch(&branch)));
        let response = client.get(&url, 1).await?;
        client.progress().done();
        tracing::debug!("{repo}@{branch}: branch protection HTTP {}", response.status);
        Ok::<_, anyhow::Error>(BranchProtectionResponse { repo, branch, default_branch, response })
    });
    let protections: Vec<BranchProtectionResponse> = futures_util::stream::iter(requests)
        .buffered(config.concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let mut fetched = release_listings;
    fetched.extend(fetch_endpoints(client, config, &listed, &release_branches).await?);
    Ok(GithubSnapshot { org: org.to_string(), org_response, repo_pages, protections, in_scope, out_of_scope, fetched })
}

/// The listings of each repository's branches under the release-branch patterns' prefixes (none when no pattern
/// is configured).
fn release_listing_jobs(config: &GithubConfig, repos: &[Listed]) -> Vec<Job> {
    let prefixes = super::release_branches::prefixes(&config.release_branches);
    let mut jobs = Vec::new();
    for repo in repos {
        for prefix in &prefixes {
            jobs.push(Job {
                endpoint: &RELEASE_REFS,
                repo: Some(repo.name.clone()),
                branch: repo.default_branch.clone(),
                parent: None,
                path: super::release_branches::listing_path(&repo.name, prefix),
            });
        }
    }
    jobs
}

/// Asks every organisation and repository endpoint and the rules on each release branch, then the follow-up
/// requests their listings call for.
async fn fetch_endpoints(
    client: &ApiClient,
    config: &GithubConfig,
    repos: &[Listed],
    release_branches: &[(String, String)],
) -> Result<Vec<Fetched>> {
    let org = config.org.as_str();
    let empty = Default::default();
    let mut jobs = Vec::new();
    for endpoint in ORG_ENDPOINTS {
        let scope = Scope { org, repo: None, branch: None, bypass: &empty };
        jobs.push(Job { endpoint, repo: None, branch: None, parent: None, path: endpoint.path_for(&scope) });
    }
    for repo in repos {
        let public: &[Endpoint] = if repo.public { PUBLIC_REPO_ENDPOINTS } else { &[] };
        for endpoint in REPO_ENDPOINTS.iter().chain(public) {
            if endpoint.path.contains("{branch}") && repo.default_branch.is_none() {
                continue;
            }
            let scope = Scope { org, repo: Some(&repo.name), branch: repo.default_branch.as_deref(), bypass: &empty };
            jobs.push(Job {
                endpoint,
                repo: Some(repo.name.clone()),
                branch: repo.default_branch.clone(),
                parent: None,
                path: endpoint.path_for(&scope),
            });
        }
    }
    for (repo, branch) in release_branches {
        let scope = Scope { org, repo: Some(repo), branch: Some(branch), bypass: &empty };
        jobs.push(Job {
            endpoint: &RELEASE_BRANCH_RULES,
            repo: Some(repo.clone()),
            branch: Some(branch.clone()),
            parent: None,
            path: RELEASE_BRANCH_RULES.path_for(&scope),
        });
    }
    let mut fetched = run_jobs(client, config, jobs).await?;
    let mut follow_ups = Vec::new();
    for answer in &fetched {
        let scope = Scope { org, repo: answer.repo.as_deref(), branch: answer.branch.as_deref(), bypass: &empty };
        for page in answer.pages.iter().filter(|page| page.status == 200 && !answer.endpoint.follows.is_empty()) {
            let body = page.json()?;
            for follow in answer.endpoint.follows {
                for item in follow.items(answer.endpoint, &body) {
                    if let Some(path) = (follow.path)(&scope, item) {
                        follow_ups.push(Job {
                            endpoint: follow.endpoint,
                            repo: answer.repo.clone(),
                            branch: answer.branch.clone(),
                            parent: Some(item.clone()),
                            path,
                        });
                    }
                }
            }
        }
    }
    fetched.extend(run_jobs(client, config, follow_ups).await?);
    Ok(fetched)
}

/// Runs the jobs `concurrency` at a time; answers come back in job order.
async fn run_jobs(client: &ApiClient, config: &GithubConfig, jobs: Vec<Job>) -> Result<Vec<Fetched>> {
    let per_page = config.per_page.clamp(1, 100);
    client.progress().plan(jobs.len());
    let requests = jobs.into_iter().map(|job| async move {
        let pages = if job.endpoint.paginated() {
            let separator = if job.path.contains('?') { '&' } else { '?' };
            client.get_all_pages(&format!("{}{separator}per_page={per_page}", job.path)).await?
        } else {
            vec![job.endpoint.ask_once(client, &job.path, &config.org).await?]
        };
        tracing::debug!(
            "{}: {} ({} page(s), HTTP {})",
            job.endpoint.kind,
            job.path,
            pages.len(),
            pages.last().map_or(0, |p| p.status)
        );
        client.progress().done();
        Ok::<_, anyhow::Error>(Fetched {
            endpoint: job.endpoint,
            repo: job.repo,
            branch: job.branch,
            parent: job.parent,
            pages,
        })
    });
    futures_util::stream::iter(requests)
        .buffered(config.concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// A repository as listed: enough to decide scope and what to ask next.
struct Listed {
    name: String,
    default_branch: Option<String>,
    archived: bool,
    public: bool,
}

fn listed_repositories(pages: &[ApiResponse]) -> Result<Vec<Listed>> {
    let mut found = Vec::new();
    for page in pages {
        let listing = page.json()?;
        let repos = listing.as_array().ok_or_else(|| anyhow!("{}: expected a JSON array of repositories", page.url))?;
        for repo in repos {
            let Some(name) = repo.get("full_name").and_then(|v| v.as_str()) else { continue };
            found.push(Listed {
                name: name.to_string(),
                default_branch: repo.get("default_branch").and_then(|v| v.as_str()).map(str::to_string),
                archived: repo.get("archived").and_then(|v| v.as_bool()).unwrap_or(false),
                public: super::cells::visibility_of(repo).as_deref() == Some("public"),
            });
        }
    }
    Ok(found)
}

/// Percent-encodes the characters of a branch name that cannot stand in a URL path segment.
pub fn encode_branch(branch: &str) -> String {
    let mut encoded = String::with_capacity(branch.len());
    for byte in branch.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => encoded.push(byte as char),
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::encode_branch;

    #[test]
    fn branch_names_are_encoded_for_the_path() {
        assert_eq!(encode_branch("release/1.x"), "release/1.x");
        assert_eq!(encode_branch("feat#1 a"), "feat%231%20a");
    }
}
