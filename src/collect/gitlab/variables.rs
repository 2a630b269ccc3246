//! CI/CD variables that hold secrets: each in-scope project's, and its group's and each ancestor's (a group's
//! variables reach every project under it), into `actions_secrets` beside GitHub's Actions secrets, judged by
//! `BLD-07`.
//!
//! GitLab's REST listing sends each variable's value: every answer is scrubbed before anything keeps it (see
//! `scrub.rs`), so only names and settings are stored. A variable holds a secret when it is masked or hidden, or
//! when its name says so (`…TOKEN`, `…PASSWORD`, `…KEY`…): an unmasked credential is the finding, not a reason to
//! look away. GitLab records no date for a variable, so its rotation is never shown.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::params;
use futures_util::StreamExt;
use serde_json::Value;

use super::fetch::get_all;
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{ApiClient, ApiResponse};

/// Words that say a credential wherever they appear in a variable's name (`DOCKERHUBTOKEN`).
const CREDENTIAL_STEMS: [&str; 5] = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE"];

/// Words that say a credential as a whole word of the name (`SSH_PRIVATE_KEY`, but not `AUTHOR`).
const CREDENTIAL_WORDS: [&str; 9] =
    ["AUTH", "KEY", "APIKEY", "PASS", "PWD", "PRIVATE", "CREDENTIAL", "CREDENTIALS", "CERT"];

/// What was read: each group's variables (the group, then its ancestors: path and pages, or why not asked) and
/// each project's.
pub struct Variables {
    /// Group path and its listing, or why it was not asked.
    pub groups: Vec<(String, Result<Vec<ApiResponse>, String>)>,
    /// Project path and its listing.
    pub projects: Vec<(String, Vec<ApiResponse>)>,
}

impl Variables {
    /// Every answer.
    pub fn responses(&self) -> Vec<&ApiResponse> {
        let groups = self.groups.iter().filter_map(|(_, pages)| pages.as_ref().ok()).flatten();
        groups.chain(self.projects.iter().flat_map(|(_, pages)| pages)).collect()
    }
}

/// Whether a variable holds a secret: masked or hidden, or named like a credential.
pub fn holds_secret(item: &Value) -> bool {
    let flag = |key: &str| item.get(key).and_then(Value::as_bool) == Some(true);
    let name = item.get("key").and_then(Value::as_str).unwrap_or_default().to_ascii_uppercase();
    flag("masked")
        || flag("hidden")
        || CREDENTIAL_STEMS.iter().any(|stem| name.contains(stem))
        || name.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| CREDENTIAL_WORDS.contains(&word))
}

/// The listing of a project's CI/CD variables (the collector and `doctor` ask alike).
pub fn project_path(id: i64, per_page: u32) -> String {
    format!("/projects/{id}/variables?per_page={per_page}")
}

/// Reads the variables of the groups (path and id; `None` where the group could not be read) and projects (path
/// and id).
pub async fn fetch(
    client: &ApiClient,
    groups: Vec<(String, Option<i64>)>,
    projects: Vec<(String, i64)>,
    per_page: u32,
    concurrency: usize,
) -> Result<Variables> {
    let mut read = Vec::new();
    for (path, id) in groups {
        let pages = match id {
            Some(id) => Ok(get_all(client, &format!("/groups/{id}/variables?per_page={per_page}")).await?),
            None => Err(format!("group {path} could not be read, so neither could its CI/CD variables")),
        };
        read.push((path, pages));
    }
    let reads = projects.into_iter().map(|(path, id)| async move {
        let pages = get_all(client, &project_path(id, per_page)).await?;
        Ok::<_, anyhow::Error>((path, pages))
    });
    let projects = futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await;
    Ok(Variables { groups: read, projects: projects.into_iter().collect::<Result<_>>()? })
}

/// Stores the variables: evidence (values already removed), coverage, and a row per variable holding a secret;
/// counts them in `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    tier: &Tier,
    read: &Variables,
    now: NaiveDateTime,
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let prefix = super::PREFIX;
    let subjects: Vec<(String, String, bool, &[ApiResponse])> = read
        .groups
        .iter()
        .filter_map(|(path, pages)| {
            let pages = pages.as_deref().ok()?;
            Some((format!("{prefix}{path}"), format!("{prefix}{path}"), true, pages))
        })
        .chain(read.projects.iter().map(|(path, pages)| {
            let org = read.groups.first().map_or_else(String::new, |(group, _)| format!("{prefix}{group}"));
            (org, format!("{prefix}{path}"), false, pages.as_slice())
        }))
        .collect();
    let mut kept = Vec::new();
    for (_, subject, group, pages) in &subjects {
        let kind = if *group { "gitlab.group_variables" } else { "gitlab.variables" };
        kept.extend(super::facts::listing_evidence(kind, subject, pages));
    }
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let mut next_id = ids.into_iter();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut secrets = conn.appender("actions_secrets_history")?;
    // A group whose variables could not even be asked for.
    for (path, pages) in &read.groups {
        if let Err(why) = pages {
            let subject = format!("{prefix}{path}");
            let seen = Seen::NotVisible(why.clone());
            let row = Coverage {
                org: &subject,
                subject: &subject,
                kind: "gitlab.group_variables",
                table: "actions_secrets",
                part: "",
                evidence_id: None,
                observed_at: now,
                complete: false,
            };
            row.append(&mut coverage, run_id, &seen)?;
            summary.count(&seen);
        }
    }
    for (org, subject, group, pages) in &subjects {
        let page_ids: Vec<i64> = next_id.by_ref().take(pages.len()).collect();
        let (kind, role) =
            if *group { ("gitlab.group_variables", "Owner") } else { ("gitlab.variables", "Maintainer") };
        let seen = judge(kind, role, None, tier, pages);
        let observed_at = pages.first().map_or(now, |p| p.received_at);
        let row = Coverage {
            org,
            subject,
            kind,
            table: "actions_secrets",
            part: "",
            evidence_id: page_ids.first().copied(),
            observed_at,
            complete: seen == Seen::Visible,
        };
        row.append(&mut coverage, run_id, &seen)?;
        summary.count(&seen);
        if seen != Seen::Visible {
            continue;
        }
        for (page, evidence_id) in pages.iter().zip(&page_ids) {
            let items = page.json()?;
            let items = items.as_array().ok_or_else(|| anyhow::anyhow!("{}: expected a JSON array", page.url))?;
            for item in items.iter().filter(|item| holds_secret(item)) {
                let flag = |key: &str| item.get(key).and_then(Value::as_bool);
                let masked = match (flag("masked"), flag("hidden")) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), _) => Some(false),
                    (None, _) => None,
                };
                secrets.append_row(params![
                    run_id,
                    evidence_id,
                    page.received_at,
                    org,
                    (!*group).then_some(subject.as_str()),
                    item.get("key").and_then(Value::as_str).unwrap_or_default(),
                    None::<String>,
                    None::<NaiveDateTime>,
                    None::<NaiveDateTime>,
                    flag("protected"),
                    masked,
                    item.get("environment_scope").and_then(Value::as_str),
                ])?;
            }
        }
    }
    coverage.flush()?;
    secrets.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_variable_holds_a_secret_when_masked_hidden_or_named_like_a_credential() {
        let recorded = super::super::recorded_sample("gitlab4j-project-variables.json");
        let names: Vec<bool> = recorded.as_array().unwrap().iter().map(holds_secret).collect();
        assert_eq!(names, [false; 4], "TEST_VARIABLE_n: plain settings");
        for secret in ["DEPLOY_TOKEN", "aws_secret_access_key", "SSH_PRIVATE_KEY", "DB_PASS", "NPM_AUTH"] {
            assert!(holds_secret(&json!({"key": secret, "masked": false})), "{secret}");
        }
        assert!(holds_secret(&json!({"key": "LOG_LEVEL", "masked": true})));
        assert!(holds_secret(&json!({"key": "LOG_LEVEL", "hidden": true})));
        assert!(!holds_secret(&json!({"key": "DOCKER_DRIVER", "masked": false})));
        assert!(!holds_secret(&json!({"key": "AUTHOR_NAME"})), "a word, not a fragment");
    }
}
