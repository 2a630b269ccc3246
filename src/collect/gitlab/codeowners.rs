//! Each project's CODEOWNERS file on its default branch, where GitLab looks for it (the first of `CODEOWNERS`,
//! `docs/CODEOWNERS`, `.gitlab/CODEOWNERS`), checked against GitLab's syntax, into `codeowners` as GitHub's, judged
//! by `SRC-08` with the default branch's "code owner approval required" (GitLab Premium).
//!
//! GitLab has no REST answer listing a CODEOWNERS file's errors, so the file is checked here as GitLab parses it:
//! sections (`[Name]`, `^[Name]`, `[Name][2]`, with default owners), entries whose owners are `@user`, `@group`,
//! `@@role` or an email address, exclusions (`!path`). Whether each named owner exists is not checked.

use anyhow::Result;
use base64::Engine;
use futures_util::StreamExt;
use serde_json::Value;

use super::fetch::{file_not_found, get};
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{ApiClient, ApiResponse};
use crate::store::list_text::text_list;

/// Where GitLab looks, in the order it looks.
pub const LOCATIONS: [&str; 3] = ["CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"];

/// What was read of one project: each location asked, until one held the file or answered otherwise than
/// "404 File Not Found".
pub struct ProjectOwners {
    /// The full path (without the `gitlab:` prefix).
    pub path: String,
    /// The answers, in the order asked.
    pub answers: Vec<ApiResponse>,
}

/// Reads each project's CODEOWNERS file (projects: path, id, default branch).
pub async fn fetch(
    client: &ApiClient,
    projects: Vec<(String, i64, String)>,
    concurrency: usize,
) -> Result<Vec<ProjectOwners>> {
    let reads = projects.into_iter().map(|(path, id, branch)| async move {
        let mut answers = Vec::new();
        for location in LOCATIONS {
            let answer = get(client, &super::ci_config::file_path(id, location, &branch)).await?;
            let go_on = file_not_found(&answer);
            answers.push(answer);
            if !go_on {
                break;
            }
        }
        Ok::<_, anyhow::Error>(ProjectOwners { path, answers })
    });
    futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await.into_iter().collect()
}

/// Whether one word is an owner as GitLab writes them: `@user`, `@group/sub`, `@@role`, or an email address.
fn is_owner(word: &str) -> bool {
    let name = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || "-_./".contains(c));
    match word.strip_prefix("@@") {
        Some(role) => ["developer", "developers", "maintainer", "maintainers", "owner", "owners"].contains(&role),
        None => match word.strip_prefix('@') {
            Some(handle) => name(handle),
            None => word.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.')),
        },
    }
}

/// The words of a line, where `\ ` is a space inside a path.
fn words(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some() => current.push(chars.next().unwrap_or_default()),
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    found.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        found.push(current);
    }
    found
}

/// The errors GitLab's parser would find in a CODEOWNERS file, each naming its line.
pub fn errors(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut section_owners = false;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let header = line.strip_prefix('^').unwrap_or(line);
        if header.starts_with('[') {
            let Some(close) = header.find(']') else {
                found.push(format!("line {number}: a section header without its closing bracket"));
                continue;
            };
            if header[1..close].trim().is_empty() {
                found.push(format!("line {number}: a section without a name"));
            }
            let mut rest = &header[close + 1..];
            if let Some(count) = rest.strip_prefix('[') {
                match count.find(']') {
                    Some(end) if count[..end].parse::<u32>().is_ok_and(|n| n >= 1) => rest = &count[end + 1..],
                    _ => {
                        found.push(format!("line {number}: a section's approval count is not a whole number"));
                        continue;
                    }
                }
            }
            let owners = words(rest);
            for owner in owners.iter().filter(|o| !is_owner(o)) {
                found.push(format!("line {number}: {owner:?} is not an owner (@user, @group, @@role or email)"));
            }
            section_owners = !owners.is_empty();
            continue;
        }
        let parts = words(line);
        let (pattern, owners) = parts.split_first().map(|(p, o)| (p.as_str(), o)).unwrap_or_default();
        if pattern.starts_with('!') {
            continue; // an exclusion names no owners
        }
        if owners.is_empty() && !section_owners {
            found.push(format!("line {number}: {pattern} names no owner, and its section has no default owners"));
        }
        for owner in owners.iter().filter(|o| !is_owner(o)) {
            found.push(format!("line {number}: {owner:?} is not an owner (@user, @group, @@role or email)"));
        }
    }
    found
}

/// Stores each project's CODEOWNERS as a `codeowners` row (present, errors) with its coverage; counts them in
/// `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    read: &[ProjectOwners],
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let repos: Vec<String> = read.iter().map(|p| format!("{}{}", super::PREFIX, p.path)).collect();
    let mut kept = Vec::new();
    for (project, repo) in read.iter().zip(&repos) {
        kept.extend(
            project.answers.iter().map(|answer| super::facts::evidence("gitlab.codeowners", repo, answer, None)),
        );
    }
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let mut next_id = ids.into_iter();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut rows = conn.appender("codeowners_history")?;
    for (project, repo) in read.iter().zip(&repos) {
        let answer_ids: Vec<i64> = next_id.by_ref().take(project.answers.len()).collect();
        let Some(last) = project.answers.last() else { continue };
        let evidence_id = answer_ids.last().copied().unwrap_or_default();
        let seen = if file_not_found(last) || last.status == 200 {
            Seen::Visible
        } else {
            judge("gitlab.codeowners", "Reporter", None, tier, std::slice::from_ref(last))
        };
        Coverage {
            org,
            subject: repo,
            kind: "gitlab.codeowners",
            table: "codeowners",
            part: "",
            evidence_id: Some(evidence_id),
            observed_at: last.received_at,
            complete: seen == Seen::Visible,
        }
        .append(&mut coverage, run_id, &seen)?;
        summary.count(&seen);
        if seen != Seen::Visible {
            continue;
        }
        let found = if last.status == 200 {
            let body = last.json()?;
            let text = body
                .get("content")
                .and_then(Value::as_str)
                .map(|c| c.chars().filter(|c| !c.is_whitespace()).collect::<String>())
                .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok());
            Some(match text {
                Some(text) => errors(&text),
                None => vec!["GitLab did not send the file's content as base64 text".to_string()],
            })
        } else {
            None
        };
        let messages = found.clone().unwrap_or_default();
        duckdb::Appender::append_row(
            &mut rows,
            duckdb::params![
                run_id,
                evidence_id,
                last.received_at,
                org,
                repo,
                found.is_some(),
                messages.len() as i32,
                text_list(&messages)
            ],
        )?;
    }
    coverage.flush()?;
    rows.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_sections_roles_emails_and_exclusions_parse() {
        let file = "# owners\n* @acme/platform\n[Pipeline][2] @acme/release-managers\n.gitlab-ci.yml\n\
                    ^[Docs]\n/docs/ @@maintainer dev@acme.example\n/build\\ scripts/ @ann\n!/docs/generated/\n";
        assert_eq!(errors(file), Vec::<String>::new());
    }

    #[test]
    fn entries_without_owners_and_malformed_owners_are_errors() {
        let file = "/src/ ann\n[Ops\n[Deploy][x] @ops\n[Infra]\n/terraform/\n";
        let found = errors(file);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("line 1: \"ann\" is not an owner"));
        assert!(found[1].contains("closing bracket"));
        assert!(found[2].contains("approval count"));
        assert!(found[3].starts_with("line 5: /terraform/ names no owner"));
    }
}
