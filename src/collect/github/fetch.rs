//! Reads one organisation's evidence from the GitHub REST API.

use anyhow::{anyhow, Result};
use futures_util::StreamExt;

use crate::collect::http::{ApiClient, ApiResponse};

/// Everything read from GitHub in one collection, kept as raw responses.
pub struct GithubSnapshot {
    /// The organisation login.
    pub org: String,
    /// `GET /orgs/{org}`.
    pub org_response: ApiResponse,
    /// `GET /orgs/{org}/repos`, every page.
    pub repo_pages: Vec<ApiResponse>,
    /// `GET /repos/{owner}/{repo}/branches/{default}/protection`, per repository with a default branch.
    pub protections: Vec<BranchProtectionResponse>,
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

/// Fetches the organisation, its repositories and each default branch's protection (`concurrency` at a time,
/// results kept in repository order).
pub async fn fetch_snapshot(
    client: &ApiClient,
    org: &str,
    per_page: u32,
    concurrency: usize,
) -> Result<GithubSnapshot> {
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
    let requests = repositories_with_default_branch(&repo_pages)?.into_iter().map(|(repo, branch)| async move {
        let url = client.url(&format!("/repos/{repo}/branches/{}/protection", encode_branch(&branch)));
        let response = client.get(&url, 1).await?;
        tracing::debug!("{repo}@{branch}: branch protection HTTP {}", response.status);
        Ok::<_, anyhow::Error>(BranchProtectionResponse { repo, branch, response })
    });
    let protections: Vec<BranchProtectionResponse> = futures_util::stream::iter(requests)
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    Ok(GithubSnapshot { org: org.to_string(), org_response, repo_pages, protections })
}

fn repositories_with_default_branch(pages: &[ApiResponse]) -> Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for page in pages {
        let listing = page.json()?;
        let repos = listing.as_array().ok_or_else(|| anyhow!("{}: expected a JSON array of repositories", page.url))?;
        for repo in repos {
            let name = repo.get("full_name").and_then(|v| v.as_str());
            let branch = repo.get("default_branch").and_then(|v| v.as_str());
            if let (Some(name), Some(branch)) = (name, branch) {
                found.push((name.to_string(), branch.to_string()));
            }
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
