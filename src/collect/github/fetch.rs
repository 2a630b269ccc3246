//! Reads one organisation's evidence from the GitHub REST API.

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};
use futures_util::StreamExt;

use crate::collect::http::{ApiClient, ApiResponse};
use crate::config::GithubConfig;

/// Everything read from GitHub in one collection, kept as raw responses.
pub struct GithubSnapshot {
    /// The organisation login.
    pub org: String,
    /// `GET /orgs/{org}`.
    pub org_response: ApiResponse,
    /// `GET /orgs/{org}/repos`, every page.
    pub repo_pages: Vec<ApiResponse>,
    /// `GET /repos/{owner}/{repo}/branches/{default}/protection`, per in-scope repository with a default branch.
    pub protections: Vec<BranchProtectionResponse>,
    /// The repositories in scope (`owner/name`); the listing pages are kept whole as evidence regardless.
    pub in_scope: BTreeSet<String>,
    /// How many listed repositories the config's scope left out.
    pub out_of_scope: usize,
}

impl GithubSnapshot {
    /// Every response in the snapshot.
    pub fn responses(&self) -> Vec<&ApiResponse> {
        std::iter::once(&self.org_response)
            .chain(&self.repo_pages)
            .chain(self.protections.iter().map(|p| &p.response))
            .collect()
    }
}

/// The protection answer for one repository's default branch.
pub struct BranchProtectionResponse {
    /// `owner/name`.
    pub repo: String,
    /// The branch asked about.
    pub branch: String,
    /// The answer, whatever its status.
    pub response: ApiResponse,
}

/// Fetches the organisation, its repositories and each in-scope default branch's protection (`concurrency` at a
/// time, results kept in repository order).
pub async fn fetch_snapshot(client: &ApiClient, config: &GithubConfig) -> Result<GithubSnapshot> {
    let org = config.org.as_str();
    let per_page = config.per_page.clamp(1, 100);
    let org_response = client.get(&client.url(&format!("/orgs/{org}")), 1).await?;
    match org_response.status {
        200 => {}
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
        return Err(anyhow!(
            "cannot list the repositories of {org:?}: HTTP {} on page {} {}",
            failed.status,
            failed.page,
            failed.error_message().unwrap_or_default()
        ));
    }
    let listed = listed_repositories(&repo_pages)?;
    let in_scope: BTreeSet<String> =
        listed.iter().filter(|r| config.in_scope(&r.name, r.archived)).map(|r| r.name.clone()).collect();
    let out_of_scope = listed.len() - in_scope.len();
    let wanted =
        listed.into_iter().filter(|r| in_scope.contains(&r.name)).filter_map(|r| Some((r.name, r.default_branch?)));
    let requests = wanted.map(|(repo, branch)| async move {
        let url = client.url(&format!("/repos/{repo}/branches/{}/protection", encode_branch(&branch)));
        let response = client.get(&url, 1).await?;
        tracing::debug!("{repo}@{branch}: branch protection HTTP {}", response.status);
        Ok::<_, anyhow::Error>(BranchProtectionResponse { repo, branch, response })
    });
    let protections: Vec<BranchProtectionResponse> = futures_util::stream::iter(requests)
        .buffered(config.concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    Ok(GithubSnapshot { org: org.to_string(), org_response, repo_pages, protections, in_scope, out_of_scope })
}

/// A repository as listed: enough to decide scope and what to ask next.
struct Listed {
    name: String,
    default_branch: Option<String>,
    archived: bool,
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
            });
        }
    }
    Ok(found)
}

/// Percent-encodes the characters of a branch name that cannot stand in a URL path segment.
fn encode_branch(branch: &str) -> String {
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
