//! Dependabot, code scanning and secret scanning alerts, code scanning analyses and private vulnerability reporting,
//! as fact rows (never the secret itself: secret scanning is always asked with `hide_secret=true`, and no secret
//! field is copied).

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::{flag, int, maybe_text, text, time};
use super::endpoints::{Fact, Scope};

fn repository(scope: &Scope, item: &Value) -> Cell {
    match item.pointer("/repository/full_name").and_then(Value::as_str) {
        Some(name) => Cell::Text(name.to_string()),
        None => maybe_text(scope.repo),
    }
}

fn first_text(item: &Value, pointers: &[&str]) -> Cell {
    pointers
        .iter()
        .find_map(|pointer| item.pointer(pointer).and_then(Value::as_str).filter(|t| !t.is_empty() && *t != "None"))
        .map(|t| Cell::Text(t.to_ascii_lowercase()))
        .unwrap_or(Cell::Null)
}

/// A Dependabot alert.
pub fn dependabot(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let package = match (
        item.pointer("/dependency/package/ecosystem").and_then(Value::as_str),
        item.pointer("/dependency/package/name").and_then(Value::as_str),
    ) {
        (Some(ecosystem), Some(name)) => Cell::Text(format!("{ecosystem}/{name}")),
        (None, Some(name)) => Cell::Text(name.to_string()),
        _ => Cell::Null,
    };
    let rule = item
        .pointer("/security_advisory/cve_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .or_else(|| item.pointer("/security_advisory/ghsa_id").and_then(Value::as_str));
    let dismissed_at = match time(item, "/dismissed_at") {
        Cell::Null => time(item, "/auto_dismissed_at"),
        at => at,
    };
    Ok(vec![Fact {
        table: "security_alerts",
        cells: vec![
            repository(scope, item),
            Cell::Text("dependabot".into()),
            int(item, "/number"),
            text(item, "/state"),
            first_text(item, &["/security_advisory/severity", "/security_vulnerability/severity"]),
            maybe_text(rule),
            package,
            time(item, "/created_at"),
            time(item, "/updated_at"),
            time(item, "/fixed_at"),
            dismissed_at,
            text(item, "/dismissed_reason"),
            text(item, "/dismissed_comment"),
            Cell::Null,
            text(item, "/html_url"),
        ],
    }])
}

/// A code scanning alert.
pub fn code_scanning(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact {
        table: "security_alerts",
        cells: vec![
            repository(scope, item),
            Cell::Text("code_scanning".into()),
            int(item, "/number"),
            text(item, "/state"),
            first_text(item, &["/rule/security_severity_level", "/rule/severity"]),
            text(item, "/rule/id"),
            text(item, "/tool/name"),
            time(item, "/created_at"),
            time(item, "/updated_at"),
            time(item, "/fixed_at"),
            time(item, "/dismissed_at"),
            text(item, "/dismissed_reason"),
            text(item, "/dismissed_comment"),
            Cell::Null,
            text(item, "/html_url"),
        ],
    }])
}

/// A secret scanning alert: revoked secrets count as fixed, other resolutions as dismissed.
pub fn secret_scanning(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let resolution = item.get("resolution").and_then(Value::as_str).filter(|r| *r != "None");
    let revoked = resolution == Some("revoked");
    let resolved_at = time(item, "/resolved_at");
    let (fixed_at, dismissed_at) = if revoked {
        (resolved_at, Cell::Null)
    } else if resolution.is_some() {
        (Cell::Null, resolved_at)
    } else {
        (Cell::Null, Cell::Null)
    };
    Ok(vec![Fact {
        table: "security_alerts",
        cells: vec![
            repository(scope, item),
            Cell::Text("secret_scanning".into()),
            int(item, "/number"),
            text(item, "/state"),
            Cell::Null,
            text(item, "/secret_type"),
            Cell::Null,
            time(item, "/created_at"),
            time(item, "/updated_at"),
            fixed_at,
            dismissed_at,
            maybe_text(resolution.filter(|_| !revoked)),
            text(item, "/resolution_comment"),
            flag(item, "/push_protection_bypassed"),
            text(item, "/html_url"),
        ],
    }])
}

/// A code scanning analysis (one upload of results for a ref, tool and category).
pub fn code_scanning_analysis(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact {
        table: "code_scanning_analyses",
        cells: vec![
            maybe_text(scope.repo),
            int(item, "/id"),
            text(item, "/tool/name"),
            text(item, "/tool/version"),
            text(item, "/ref"),
            text(item, "/category"),
            time(item, "/created_at"),
            int(item, "/results_count"),
            match item.get("error").and_then(Value::as_str) {
                Some("") | None => Cell::Null,
                Some(error) => Cell::Text(error.to_string()),
            },
        ],
    }])
}

/// Whether a public repository accepts private vulnerability reports.
pub fn vulnerability_reporting(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact { table: "vulnerability_reporting", cells: vec![maybe_text(scope.repo), flag(body, "/enabled")] }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<Value> {
        let path = format!("{}/../shared/samples/github-api/{name}", env!("CARGO_MANIFEST_DIR"));
        let body: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("shared samples")).unwrap();
        body.as_array().cloned().unwrap_or_else(|| vec![body])
    }

    fn scope() -> Scope<'static> {
        static EMPTY: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        Scope { org: "o", repo: None, branch: None, bypass: &EMPTY }
    }

    #[test]
    fn recorded_alerts_of_each_tool_become_rows_without_secrets() {
        for (file, extract) in [
            ("octocrab/octocrab-check_dependabot_alerts.json", dependabot as super::super::endpoints::Extract),
            ("octocrab/octocrab-codescanning_alerts_multiple.json", code_scanning),
            ("dd-github-secret-scanning-alerts-many.json", secret_scanning),
            ("dd-github-code-scanning-alerts-many.json", code_scanning),
        ] {
            let items = sample(file);
            assert!(!items.is_empty(), "{file}");
            for item in &items {
                let facts = extract(&scope(), item, None).unwrap();
                assert_eq!(facts[0].cells.len(), 15, "{file}");
                if let Some(secret) = item.get("secret").and_then(Value::as_str) {
                    assert!(!facts[0].cells.contains(&Cell::Text(secret.to_string())), "{file}: secret copied");
                }
            }
        }
    }
}
