//! Release branches: which branch-name prefixes to list for the configured patterns, and which listed branches
//! match them. Their protection is then read like the default branch's, into `branch_rules` rows that are not
//! the default branch's.

use std::collections::BTreeSet;

use anyhow::Result;
use serde_json::Value;

use super::fetch::Fetched;

/// The literal prefixes to list for the patterns: each pattern's text before its first wildcard, without those
/// another prefix already covers (so `release/*` and `release/v*` cost one listing).
pub fn prefixes(patterns: &[String]) -> Vec<String> {
    let literal: BTreeSet<&str> = patterns
        .iter()
        .map(|pattern| pattern.find(['*', '?']).map_or(pattern.as_str(), |wildcard| &pattern[..wildcard]))
        .collect();
    literal
        .iter()
        .filter(|prefix| !literal.iter().any(|other| other != *prefix && prefix.starts_with(other)))
        .map(|prefix| prefix.to_string())
        .collect()
}

/// The path listing a repository's branches that start with `prefix`.
pub fn listing_path(repo: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        format!("/repos/{repo}/git/matching-refs/heads")
    } else {
        format!("/repos/{repo}/git/matching-refs/heads/{}", super::fetch::encode_branch(prefix))
    }
}

/// The release branches found by the listings: `(repository, branch)` for every listed branch a pattern matches,
/// other than the repository's default branch (read already), in order and once each.
pub fn found(listings: &[Fetched], patterns: &[String]) -> Result<Vec<(String, String)>> {
    let mut branches = BTreeSet::new();
    for listing in listings {
        let Some(repo) = &listing.repo else { continue };
        for page in listing.pages.iter().filter(|page| page.status == 200) {
            let body = page.json()?;
            for item in listing.endpoint.items(&body) {
                let Some(branch) = item.get("ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("refs/heads/"))
                else {
                    continue;
                };
                let matched = patterns.iter().any(|pattern| crate::glob::matches(pattern, branch));
                if matched && listing.branch.as_deref() != Some(branch) {
                    branches.insert((repo.clone(), branch.to_string()));
                }
            }
        }
    }
    Ok(branches.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::http::ApiResponse;

    fn patterns(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn patterns_sharing_a_prefix_cost_one_listing() {
        assert_eq!(prefixes(&patterns(&["release/*", "release/v?.*", "hotfix-*"])), ["hotfix-", "release/"]);
        assert_eq!(prefixes(&patterns(&["stable", "*-lts"])), [""]);
        assert_eq!(listing_path("o/r", "release/"), "/repos/o/r/git/matching-refs/heads/release/");
        assert_eq!(listing_path("o/r", ""), "/repos/o/r/git/matching-refs/heads");
    }

    #[test]
    fn only_branches_a_pattern_matches_are_found_and_never_the_default() {
        let body = serde_json::json!([
            {"ref": "refs/heads/release/1.0"},
            {"ref": "refs/heads/release/2.0"},
            {"ref": "refs/heads/release-notes"},
            {"ref": "refs/heads/main"}
        ]);
        let page = ApiResponse {
            url: "http://127.0.0.1/repos/o/r/git/matching-refs/heads/release".into(),
            status: 200,
            body: body.to_string().into_bytes(),
            etag: None,
            api_version: crate::collect::http::GITHUB_API_VERSION,
            api_version_selected: None,
            next: None,
            page: 1,
            received_at: crate::time::now_utc(),
            token_kind: "test token",
            scopes: None,
            rate_limit_remaining: None,
            not_modified: false,
            graphql: None,
            redacted: Vec::new(),
        };
        let listing = Fetched {
            endpoint: &super::super::endpoints::RELEASE_REFS,
            repo: Some("o/r".into()),
            branch: Some("release/2.0".into()),
            parent: None,
            pages: vec![page],
        };
        assert_eq!(
            found(&[listing], &patterns(&["release/*", "main-*"])).unwrap(),
            [("o/r".to_string(), "release/1.0".to_string())]
        );
    }
}
