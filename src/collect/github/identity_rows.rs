//! What only GitHub's GraphQL API tells about an organisation's access: its SAML identity provider (single sign-on)
//! and its IP allow list (judged by SRC-02 and MON-03). GraphQL answers `200` even where the token may not read a
//! field, with an `errors` entry whose `path` names it: each field's visibility is kept in the row.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::maybe_text;
use super::endpoints::{Fact, Scope};

/// The query, with the organisation's login as `$login`.
pub const QUERY: &str = "query($login: String!) { organization(login: $login) { \
    samlIdentityProvider { issuer ssoUrl externalIdentities(first: 1) { totalCount } } \
    ipAllowListEnabledSetting ipAllowListForInstalledAppsEnabledSetting \
    ipAllowListEntries(first: 100) { totalCount nodes { isActive } } } }";

/// The organisation's identity row from the GraphQL answer.
pub fn org_identity(_: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let organization = body.pointer("/data/organization").filter(|o| o.is_object());
    let field = |name: &str| organization.and_then(|o| o.get(name)).filter(|v| !v.is_null());
    let denied = |name: &str| field_error(body, name);
    let saml = field("samlIdentityProvider");
    let saml_state = match (saml, denied("samlIdentityProvider")) {
        (Some(_), _) => "configured",
        (None, Some(_)) => "not_visible",
        (None, None) if organization.is_some() => "none",
        (None, None) => "not_visible",
    };
    let allow_list = field("ipAllowListEnabledSetting").and_then(Value::as_str);
    let entries = field("ipAllowListEntries");
    let active = entries
        .and_then(|e| e.get("nodes"))
        .and_then(Value::as_array)
        .map(|nodes| nodes.iter().filter(|n| n.get("isActive").and_then(Value::as_bool) == Some(true)).count() as i32);
    let whole_error = organization.is_none().then(|| query_error(body)).flatten();
    let error_of = |name: &str| denied(name).or_else(|| whole_error.clone());
    Ok(vec![Fact {
        table: "org_identity",
        cells: vec![
            Cell::Null,
            Cell::Text(saml_state.to_string()),
            maybe_text(saml.and_then(|s| s.get("issuer")).and_then(Value::as_str)),
            maybe_text(saml.and_then(|s| s.get("ssoUrl")).and_then(Value::as_str)),
            saml.and_then(|s| s.pointer("/externalIdentities/totalCount"))
                .and_then(Value::as_i64)
                .map_or(Cell::Null, |n| Cell::Int(n as i32)),
            maybe_text(if saml_state == "not_visible" { error_of("samlIdentityProvider") } else { None }.as_deref()),
            maybe_text(allow_list),
            maybe_text(field("ipAllowListForInstalledAppsEnabledSetting").and_then(Value::as_str)),
            entries
                .and_then(|e| e.get("totalCount"))
                .and_then(Value::as_i64)
                .map_or(Cell::Null, |n| Cell::Int(n as i32)),
            active.map_or(Cell::Null, Cell::Int),
            maybe_text(if allow_list.is_none() { error_of("ipAllowListEnabledSetting") } else { None }.as_deref()),
        ],
    }])
}

/// The message of the error GraphQL gave for `organization.<name>`, if any.
fn field_error(body: &Value, name: &str) -> Option<String> {
    errors(body)
        .find(|error| {
            let path = error.get("path").and_then(Value::as_array);
            path.is_some_and(|p| p.len() >= 2 && p[0] == "organization" && p[1] == name)
        })
        .map(describe)
}

/// The first error of the whole query (the organisation could not be read at all).
fn query_error(body: &Value) -> Option<String> {
    errors(body)
        .next()
        .map(describe)
        .or_else(|| body.get("message").and_then(Value::as_str).map(|m| format!("GitHub's GraphQL API answered: {m}")))
}

fn errors(body: &Value) -> impl Iterator<Item = &Value> {
    body.get("errors").and_then(Value::as_array).into_iter().flatten()
}

/// An error as shown: its type and message, and what makes the field visible.
fn describe(error: &Value) -> String {
    let message = error.get("message").and_then(Value::as_str).unwrap_or("not readable");
    match error.get("type").and_then(Value::as_str) {
        Some(kind) => format!("{kind}: {message} (needs an organisation owner's token with read:org)"),
        None => format!("{message} (needs an organisation owner's token with read:org)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn row(body: Value) -> Vec<Cell> {
        let bypass = BTreeMap::new();
        let scope = Scope { org: "acme", repo: None, branch: None, bypass: &bypass };
        org_identity(&scope, &body, None).unwrap().remove(0).cells
    }

    #[test]
    fn a_configured_provider_and_an_enabled_allow_list_are_read() {
        let cells = row(serde_json::json!({"data": {"organization": {
            "samlIdentityProvider": {"issuer": "https://idp.acme.io", "ssoUrl": "https://idp.acme.io/sso",
                                     "externalIdentities": {"totalCount": 12}},
            "ipAllowListEnabledSetting": "ENABLED", "ipAllowListForInstalledAppsEnabledSetting": "DISABLED",
            "ipAllowListEntries": {"totalCount": 3, "nodes": [{"isActive": true}, {"isActive": false}, {"isActive": true}]}
        }}}));
        assert_eq!(cells[1], Cell::Text("configured".into()));
        assert_eq!(cells[4], Cell::Int(12));
        assert_eq!(cells[6], Cell::Text("ENABLED".into()));
        assert_eq!((cells[8].clone(), cells[9].clone()), (Cell::Int(3), Cell::Int(2)));
        assert_eq!(cells[10], Cell::Null);
    }

    #[test]
    fn a_field_the_token_may_not_read_is_not_visible_rather_than_absent() {
        let cells = row(serde_json::json!({
            "data": {"organization": {"samlIdentityProvider": null, "ipAllowListEnabledSetting": "DISABLED",
                                      "ipAllowListEntries": {"totalCount": 0, "nodes": []}}},
            "errors": [{"type": "FORBIDDEN", "path": ["organization", "samlIdentityProvider"],
                        "message": "Resource not accessible by integration"}]
        }));
        assert_eq!(cells[1], Cell::Text("not_visible".into()));
        assert!(matches!(&cells[5], Cell::Text(t) if t.starts_with("FORBIDDEN: Resource not accessible")));
        assert_eq!(cells[6], Cell::Text("DISABLED".into()));
        let none = row(serde_json::json!({"data": {"organization": {"samlIdentityProvider": null}}}));
        assert_eq!(none[1], Cell::Text("none".into()));
        let unreadable = row(serde_json::json!({"data": {"organization": null},
            "errors": [{"type": "NOT_FOUND", "path": ["organization"], "message": "Could not resolve to an Organization"}]}));
        assert_eq!(unreadable[1], Cell::Text("not_visible".into()));
        assert!(matches!(&unreadable[10], Cell::Text(t) if t.contains("Could not resolve")));
    }
}
