//! What a report summarises per subject: the repositories and releases the store held at an evaluation's moment,
//! and each repository's latest known revision of its default branch (the subject of a source verification summary).

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Connection};

/// A repository as last observed by the evaluation's moment.
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryRef {
    /// The organisation (or group) it belongs to.
    pub org: String,
    /// `owner/name`.
    pub repo: String,
    /// Whether it was archived.
    pub archived: bool,
    /// Its default branch, when known.
    pub default_branch: Option<String>,
}

/// A release published in a window.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRef {
    /// The repository.
    pub repo: String,
    /// Its tag.
    pub tag: String,
    /// When it was published.
    pub published_at: NaiveDateTime,
}

impl ReleaseRef {
    /// How controls name it as a resource: `owner/name tag`.
    pub fn resource(&self) -> String {
        format!("{} {}", self.repo, self.tag)
    }
}

/// A revision known to be on a repository's default branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The commit id (hex).
    pub commit: String,
    /// The default branch it is on.
    pub branch: String,
    /// The web address of the repository, when an answer named it.
    pub web_url: Option<String>,
    /// When it reached the branch.
    pub at: NaiveDateTime,
}

/// The repositories of each organisation's latest collection up to `as_of`, sorted.
pub fn repositories(conn: &Connection, as_of: NaiveDateTime) -> Result<Vec<RepositoryRef>> {
    let mut statement = conn.prepare(
        "SELECT org, repo, coalesce(archived, false), default_branch FROM repositories_history h
         WHERE h.run_id = (SELECT max(x.run_id) FROM repositories_history x WHERE x.org = h.org AND x.observed_at <= ?)
         ORDER BY repo",
    )?;
    let rows = statement.query_map(params![as_of], |row| {
        Ok(RepositoryRef { org: row.get(0)?, repo: row.get(1)?, archived: row.get(2)?, default_branch: row.get(3)? })
    })?;
    let mut repositories: Vec<RepositoryRef> = rows.collect::<Result<_, _>>()?;
    repositories.dedup_by(|a, b| a.repo == b.repo);
    Ok(repositories)
}

/// The releases (not drafts) published between `start` and `end`, as last observed by `end`, sorted.
pub fn releases(conn: &Connection, start: NaiveDateTime, end: NaiveDateTime) -> Result<Vec<ReleaseRef>> {
    let mut statement = conn.prepare(
        "SELECT repo, tag_name, published_at FROM releases_history WHERE observed_at <= ?
         QUALIFY row_number() OVER (PARTITION BY repo, release_id ORDER BY observed_at DESC, run_id DESC) = 1
            AND NOT coalesce(draft, false) AND tag_name IS NOT NULL AND published_at BETWEEN ? AND ?
         ORDER BY repo, published_at, tag_name",
    )?;
    let rows = statement.query_map(params![end, start, end], |row| {
        Ok(ReleaseRef { repo: row.get(0)?, tag: row.get(1)?, published_at: row.get(2)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The web address of `repo` from one of its pull requests' addresses (`https://host/owner/name/pull/12`): only an
/// `https` address of a plain host whose path is exactly the repository, so an answer cannot put anything else into
/// a statement pipeproof signs.
pub fn repository_address(pull_request_url: &str, repo: &str) -> Option<String> {
    let (base, number) = pull_request_url.rsplit_once("/pull/")?;
    let rest = base.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let plain_host = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !host.contains('@');
    (plain_host && path == repo && number.chars().all(|c| c.is_ascii_digit()) && !number.is_empty())
        .then(|| base.to_string())
}

/// Per repository, the merge commit of the last change merged into its default branch by `end`.
pub fn default_branch_revisions(conn: &Connection, end: NaiveDateTime) -> Result<BTreeMap<String, Revision>> {
    let mut statement = conn.prepare(
        "SELECT m.repo, m.merge_commit_sha, m.url, m.merged_at, r.default_branch FROM merge_requests_history m
         JOIN (SELECT repo, default_branch FROM repositories_history WHERE observed_at <= ?
               QUALIFY row_number() OVER (PARTITION BY repo ORDER BY observed_at DESC, run_id DESC) = 1) r
           ON r.repo = m.repo AND r.default_branch = m.target_branch
         WHERE m.merged_at IS NOT NULL AND m.merged_at <= ? AND m.observed_at <= ?
           AND regexp_full_match(coalesce(m.merge_commit_sha, ''), '[0-9a-f]{40}([0-9a-f]{24})?')
         QUALIFY row_number() OVER (PARTITION BY m.repo ORDER BY m.merged_at DESC, m.number DESC, m.observed_at DESC) = 1",
    )?;
    let rows = statement.query_map(params![end, end, end], |row| {
        let repo: String = row.get(0)?;
        let url: Option<String> = row.get(2)?;
        let web_url = url.as_deref().and_then(|url| repository_address(url, &repo));
        Ok((repo, Revision { commit: row.get(1)?, branch: row.get(4)?, web_url, at: row.get(3)? }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_address_comes_only_from_a_plain_https_pull_request_address() {
        let repo = "acme/web";
        assert_eq!(
            repository_address("https://github.com/acme/web/pull/12", repo).as_deref(),
            Some("https://github.com/acme/web")
        );
        assert_eq!(
            repository_address("https://ghe.example.com:8443/acme/web/pull/3", repo).as_deref(),
            Some("https://ghe.example.com:8443/acme/web")
        );
        for hostile in [
            "http://github.com/acme/web/pull/12",
            "https://evil.example/other/repo/pull/12",
            "https://user:pass@github.com/acme/web/pull/12",
            "https://github.com/acme/web/pull/12?x",
            "javascript:alert(1)/acme/web/pull/1",
        ] {
            assert_eq!(repository_address(hostile, repo), None, "{hostile}");
        }
    }
}
