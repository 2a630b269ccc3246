//! A project's deploy keys and webhooks, and the group's webhooks, as `deploy_keys` and `webhooks` rows (the
//! columns after `org`), judged by `SRC-15` as GitHub's are.

use duckdb::types::{TimeUnit, Value as Cell};
use serde_json::Value;

fn text(item: &Value, key: &str) -> Cell {
    item.get(key).and_then(Value::as_str).map(|t| Cell::Text(t.to_string())).unwrap_or(Cell::Null)
}

fn time(item: &Value, key: &str) -> Cell {
    item.get(key)
        .and_then(Value::as_str)
        .and_then(crate::time::parse_api_time)
        .map(|at| Cell::Timestamp(TimeUnit::Microsecond, at.and_utc().timestamp_micros()))
        .unwrap_or(Cell::Null)
}

fn repo_cell(repo: Option<&str>) -> Cell {
    repo.map(|r| Cell::Text(r.to_string())).unwrap_or(Cell::Null)
}

/// A deploy key of `/projects/:id/deploy_keys`: read-only unless it may push.
pub fn deploy_key(repo: &str, item: &Value) -> Vec<Cell> {
    vec![
        Cell::Text(repo.to_string()),
        item.get("id").and_then(Value::as_i64).map(Cell::BigInt).unwrap_or(Cell::Null),
        text(item, "title"),
        item.get("can_push").and_then(Value::as_bool).map(|push| Cell::Boolean(!push)).unwrap_or(Cell::Null),
        Cell::Null,
        time(item, "created_at"),
        time(item, "last_used_at"),
    ]
}

/// A webhook of `/projects/:id/hooks` (`repo`) or `/groups/:id/hooks` (`None`). Its URL is reduced to scheme and
/// host (it may carry credentials); GitLab never says whether a secret token is set, so `secret_set` stays NULL.
pub fn webhook(repo: Option<&str>, item: &Value) -> Vec<Cell> {
    let url = item.get("url").and_then(Value::as_str).unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", ""));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host =
        host.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(host, |(h, _)| h);
    let events: Vec<String> = item
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| key.ends_with("_events") && value.as_bool() == Some(true))
        .map(|(key, _)| key.trim_end_matches("_events").to_string())
        .collect();
    let active = match item.get("alert_status").and_then(Value::as_str) {
        Some(status) => Cell::Boolean(status != "disabled"),
        None => Cell::Null,
    };
    vec![
        repo_cell(repo),
        item.get("id").and_then(Value::as_i64).map(Cell::BigInt).unwrap_or(Cell::Null),
        active,
        crate::store::list_text::text_list(events),
        if scheme.is_empty() { Cell::Null } else { Cell::Text(scheme.to_ascii_lowercase()) },
        if host.is_empty() { Cell::Null } else { Cell::Text(host.to_ascii_lowercase()) },
        item.get("enable_ssl_verification").and_then(Value::as_bool).map(|on| Cell::Boolean(!on)).unwrap_or(Cell::Null),
        Cell::Null,
        Cell::Null,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Value {
        super::super::recorded_sample(name)
    }

    #[test]
    fn the_recorded_deploy_keys_say_which_may_push() {
        let keys = sample("gitlab4j-deploy-keys.json");
        let rows: Vec<Vec<Cell>> = keys.as_array().unwrap().iter().map(|k| deploy_key("gitlab:a/b", k)).collect();
        assert_eq!((rows[0][3].clone(), rows[1][3].clone()), (Cell::Boolean(true), Cell::Boolean(false)));
    }

    #[test]
    fn the_recorded_webhook_is_reduced_to_scheme_and_host() {
        let row = webhook(Some("gitlab:a/b"), &sample("gitlab4j-project-hook.json"));
        assert_eq!(row[4], Cell::Text("http".into()));
        assert_eq!(row[5], Cell::Text("example.com".into()));
        assert_eq!(row[6], Cell::Boolean(false), "certificates verified");
        assert_eq!(row[7], Cell::Null, "GitLab never says whether a secret is set");
        let with_credentials = serde_json::json!({"id": 2, "url": "https://user:pw@hooks.example:8443/x?token=1"});
        assert_eq!(webhook(None, &with_credentials)[5], Cell::Text("hooks.example".into()));
    }
}
