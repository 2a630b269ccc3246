//! Who and what can reach the organisation's code: people, collaborators, deploy keys, webhooks, GitHub Apps and
//! CODEOWNERS, as fact rows.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::{flag, int, maybe_text, text, texts, time};
use super::endpoints::{Fact, Scope};

fn person(relation: &str, item: &Value) -> Result<Vec<Fact>> {
    if item.get("login").and_then(Value::as_str).is_none() {
        return Ok(Vec::new());
    }
    Ok(vec![Fact {
        table: "org_people",
        cells: vec![
            Cell::Null,
            Cell::Text(relation.to_string()),
            text(item, "/login"),
            text(item, "/type"),
            flag(item, "/site_admin"),
        ],
    }])
}

/// An organisation member.
pub fn member(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    person("member", item)
}

/// An organisation owner.
pub fn owner(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    person("owner", item)
}

/// A member without two-factor authentication.
pub fn member_without_2fa(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    person("member_2fa_disabled", item)
}

/// An outside collaborator.
pub fn outside_collaborator(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    person("outside_collaborator", item)
}

/// An outside collaborator without two-factor authentication.
pub fn outside_collaborator_without_2fa(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    person("outside_collaborator_2fa_disabled", item)
}

/// The role an answer grants: its `role_name`, else the highest of its `permissions` flags, in GitHub's words.
fn role(item: &Value) -> Option<String> {
    item.get("role_name").and_then(Value::as_str).map(str::to_string).or_else(|| {
        let granted = item.get("permissions")?;
        ["admin", "maintain", "push", "triage", "pull"]
            .into_iter()
            .find(|level| granted.get(*level).and_then(Value::as_bool) == Some(true))
            .map(|level| match level {
                "push" => "write",
                "pull" => "read",
                other => other,
            })
            .map(str::to_string)
    })
}

/// A repository collaborator and the role they hold.
pub fn collaborator(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let permission = role(item);
    Ok(vec![Fact {
        table: "repo_collaborators",
        cells: vec![
            maybe_text(scope.repo),
            text(item, "/login"),
            maybe_text(permission.as_deref()),
            flag(item, "/permissions/admin"),
        ],
    }])
}

/// A deploy key (never the key material).
pub fn deploy_key(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact {
        table: "deploy_keys",
        cells: vec![
            maybe_text(scope.repo),
            int(item, "/id"),
            text(item, "/title"),
            flag(item, "/read_only"),
            flag(item, "/verified"),
            time(item, "/created_at"),
            time(item, "/last_used"),
        ],
    }])
}

/// A webhook: where it delivers (scheme and host only) and whether deliveries are verified and signed.
pub fn webhook(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let url = item.pointer("/config/url").and_then(Value::as_str).unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or(host);
    let insecure = match item.pointer("/config/insecure_ssl") {
        Some(Value::String(text)) => Cell::Boolean(text != "0"),
        Some(Value::Number(number)) => Cell::Boolean(number.as_i64() != Some(0)),
        _ => Cell::Null,
    };
    let secret_set = item
        .get("config")
        .filter(|config| config.is_object())
        .map(|config| Cell::Boolean(config.get("secret").is_some_and(|s| !s.is_null())))
        .unwrap_or(Cell::Null);
    Ok(vec![Fact {
        table: "webhooks",
        cells: vec![
            maybe_text(scope.repo),
            int(item, "/id"),
            flag(item, "/active"),
            super::cells::text_list(item, "/events"),
            maybe_text((!scheme.is_empty()).then_some(scheme.to_ascii_lowercase()).as_deref()),
            maybe_text((!host.is_empty()).then_some(host)),
            insecure,
            secret_set,
            text(item, "/config/content_type"),
        ],
    }])
}

/// A GitHub App installed on the organisation, with the permissions it holds.
pub fn installation(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let granted: Vec<(String, String)> = item
        .get("permissions")
        .and_then(Value::as_object)
        .map(|map| map.iter().filter_map(|(name, level)| Some((name.clone(), level.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    let writes = granted.iter().filter(|(_, level)| level == "write" || level == "admin").map(|(name, _)| name.clone());
    Ok(vec![Fact {
        table: "app_installations",
        cells: vec![
            Cell::Null,
            int(item, "/id"),
            text(item, "/app_slug"),
            int(item, "/app_id"),
            text(item, "/repository_selection"),
            texts(granted.iter().map(|(name, level)| format!("{name}:{level}"))),
            texts(writes.collect::<Vec<_>>()),
            Cell::Boolean(item.get("suspended_at").is_some_and(|at| !at.is_null())),
            time(item, "/created_at"),
        ],
    }])
}

/// The path listing a team's repositories, from the team listing item.
pub fn team_repos_path(scope: &Scope, team: &Value) -> Option<String> {
    Some(format!("/orgs/{}/teams/{}/repos", scope.org, team.get("slug")?.as_str()?))
}

/// A repository a team can reach, with the team's role on it.
pub fn team_repo(_: &Scope, item: &Value, team: Option<&Value>) -> Result<Vec<Fact>> {
    let permission = role(item);
    Ok(vec![Fact {
        table: "team_repos",
        cells: vec![
            text(item, "/full_name"),
            team.map(|t| text(t, "/slug")).unwrap_or(Cell::Null),
            maybe_text(permission.as_deref()),
        ],
    }])
}

/// A CODEOWNERS file GitHub could read, with the errors it found in it.
pub fn codeowners(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let errors = body.get("errors").and_then(Value::as_array).cloned().unwrap_or_default();
    let messages = errors.iter().map(|error| {
        let line = error.get("line").and_then(Value::as_i64).unwrap_or_default();
        let path = error.get("path").and_then(Value::as_str).unwrap_or("CODEOWNERS");
        let kind = error.get("kind").and_then(Value::as_str).unwrap_or("error");
        format!("{path}:{line}: {kind}")
    });
    Ok(vec![Fact {
        table: "codeowners",
        cells: vec![
            maybe_text(scope.repo),
            Cell::Boolean(true),
            Cell::Int(errors.len() as i32),
            texts(messages.collect::<Vec<_>>()),
        ],
    }])
}

/// No CODEOWNERS file (GitHub answers 404 for its errors).
pub fn no_codeowners(scope: &Scope) -> Vec<Fact> {
    vec![Fact {
        table: "codeowners",
        cells: vec![maybe_text(scope.repo), Cell::Boolean(false), Cell::Int(0), texts(Vec::new())],
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope<'static> {
        static EMPTY: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        Scope { org: "o", repo: Some("o/r"), branch: None, bypass: &EMPTY }
    }

    #[test]
    fn a_webhook_keeps_scheme_and_host_but_never_credentials_or_paths() {
        let hook = serde_json::json!({"id": 1, "active": true, "events": ["push"],
            "config": {"url": "http://user:pw@hooks.example.com/x?token=abc", "insecure_ssl": "1", "content_type": "json"}});
        let facts = webhook(&scope(), &hook, None).unwrap();
        let cells = &facts[0].cells;
        assert_eq!(cells[4], Cell::Text("http".into()));
        assert_eq!(cells[5], Cell::Text("hooks.example.com".into()));
        assert_eq!(cells[6], Cell::Boolean(true));
        assert_eq!(cells[7], Cell::Boolean(false), "no secret configured");
    }

    #[test]
    fn a_collaborator_role_comes_from_role_name_or_the_highest_permission() {
        let named = serde_json::json!({"login": "a", "role_name": "maintain", "permissions": {"admin": false}});
        assert_eq!(collaborator(&scope(), &named, None).unwrap()[0].cells[2], Cell::Text("maintain".into()));
        let flags = serde_json::json!({"login": "b", "permissions": {"admin": false, "maintain": false, "push": true}});
        assert_eq!(collaborator(&scope(), &flags, None).unwrap()[0].cells[2], Cell::Text("write".into()));
    }
}
