//! Audit logs: GitHub audit-log exports (JSON, JSON Lines, CSV), Kubernetes audit events (JSON Lines) and GitLab
//! audit events and webhooks, normalised into one shape.

use anyhow::Result;
use serde_json::Value;

use super::json::{first_text, text, time};
use crate::error::input_error;
use crate::facts::AuditEvent;

/// Which audit log a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditSource {
    /// GitHub organisation or enterprise audit log.
    Github,
    /// Kubernetes API server audit log.
    Kubernetes,
    /// GitLab audit events API and webhooks.
    Gitlab,
}

impl AuditSource {
    /// The evidence kind and `source` column value.
    pub fn name(self) -> &'static str {
        match self {
            AuditSource::Github => "github",
            AuditSource::Kubernetes => "kubernetes",
            AuditSource::Gitlab => "gitlab",
        }
    }

    /// The evidence kind stored for files of this source.
    pub fn evidence_kind(self) -> &'static str {
        match self {
            AuditSource::Github => "github-audit-log",
            AuditSource::Kubernetes => "k8s-audit",
            AuditSource::Gitlab => "gitlab-audit",
        }
    }

    /// What a record of this source must look like, for errors.
    pub fn expected(self) -> &'static str {
        match self {
            AuditSource::Github => "a GitHub audit-log event (an object with \"action\")",
            AuditSource::Kubernetes => {
                "a Kubernetes audit Event (kind \"Event\" with auditID, verb and stage; apiVersion audit.k8s.io/v1)"
            }
            AuditSource::Gitlab => "a GitLab audit event (author_id, entity_type, details) or webhook (object_kind)",
        }
    }

    /// Recognises the source of one record.
    pub fn detect(record: &Value) -> Option<AuditSource> {
        if is_kubernetes(record) {
            Some(AuditSource::Kubernetes)
        } else if record.get("author_id").is_some() && record.get("entity_type").is_some()
            || record.get("object_kind").is_some_and(Value::is_string)
        {
            Some(AuditSource::Gitlab)
        } else if record.get("action").is_some_and(Value::is_string)
            && ["_document_id", "@timestamp", "actor", "created_at"].iter().any(|key| record.get(*key).is_some())
        {
            Some(AuditSource::Github)
        } else {
            None
        }
    }
}

fn is_kubernetes(record: &Value) -> bool {
    text(record, "/kind").as_deref() == Some("Event")
        && record.get("auditID").is_some()
        && (record.get("verb").is_some() || text(record, "/apiVersion").is_some_and(|a| a.starts_with("audit.k8s.io")))
}

/// Normalises one record; `line` is its 1-based line or record number and `raw` its bytes (for the event key).
pub fn event(source: AuditSource, record: &Value, line: usize, raw: &[u8], origin: &str) -> Result<AuditEvent> {
    let position = |what: &str| input_error(format!("{origin}: line {line}: expected {what}"));
    if !record.is_object() {
        return Err(position(source.expected()));
    }
    let fallback_key = || crate::store::sha256_hex(raw);
    Ok(match source {
        AuditSource::Github => {
            let action = text(record, "/action").ok_or_else(|| position(source.expected()))?;
            AuditEvent {
                source: "github".into(),
                event_time: time(record, "/@timestamp").or_else(|| time(record, "/created_at")),
                actor: first_text(record, &["/actor", "/user"]),
                action,
                target: first_text(record, &["/repo", "/repository", "/team", "/name"])
                    .or_else(|| organisation(record))
                    .or_else(|| first_text(record, &["/user", "/business"])),
                source_ip: first_text(record, &["/actor_ip", "/actor_location/ip"]),
                outcome: action_outcome(record),
                event_key: text(record, "/_document_id").unwrap_or_else(fallback_key),
                line: Some(line as i64),
            }
        }
        AuditSource::Kubernetes => {
            if !is_kubernetes(record) {
                return Err(position(source.expected()));
            }
            let resource = match (text(record, "/objectRef/resource"), text(record, "/objectRef/subresource")) {
                (Some(resource), Some(sub)) => Some(format!("{resource}/{sub}")),
                (resource, _) => resource,
            };
            let verb = text(record, "/verb").unwrap_or_else(|| "unknown".into());
            let target = match (text(record, "/objectRef/namespace"), text(record, "/objectRef/name")) {
                (Some(namespace), Some(name)) => Some(format!("{namespace}/{name}")),
                (None, Some(name)) => Some(name),
                (Some(namespace), None) => Some(namespace),
                (None, None) => text(record, "/requestURI"),
            };
            let code = text(record, "/responseStatus/code");
            let decision = text(record, "/annotations/authorization.k8s.io~1decision");
            AuditEvent {
                source: "kubernetes".into(),
                event_time: ["/stageTimestamp", "/requestReceivedTimestamp", "/timestamp"]
                    .iter()
                    .find_map(|pointer| time(record, pointer)),
                // A request made with impersonation acted as another identity: both are kept, the one who asked
                // first (`alice as system:serviceaccount:ci:deployer`).
                actor: match (text(record, "/user/username"), text(record, "/impersonatedUser/username")) {
                    (Some(user), Some(impersonated)) => Some(format!("{user} as {impersonated}")),
                    (None, Some(impersonated)) => Some(format!("? as {impersonated}")),
                    (user, None) => user,
                },
                action: match resource {
                    Some(resource) => format!("{verb} {resource}"),
                    None => verb,
                },
                target,
                source_ip: text(record, "/sourceIPs/0"),
                outcome: match (decision, code) {
                    (Some(decision), Some(code)) => Some(format!("{decision} ({code})")),
                    (decision, code) => decision.or(code),
                },
                event_key: format!(
                    "{}:{}",
                    text(record, "/auditID").unwrap_or_else(fallback_key),
                    text(record, "/stage").unwrap_or_default()
                ),
                line: Some(line as i64),
            }
        }
        AuditSource::Gitlab => match text(record, "/object_kind") {
            Some(kind) => AuditEvent {
                source: "gitlab".into(),
                event_time: time(record, "/object_attributes/updated_at").or_else(|| time(record, "/created_at")),
                actor: first_text(record, &["/user/username", "/user_username", "/user/name"]),
                action: match text(record, "/object_attributes/action") {
                    Some(action) => format!("{kind}.{action}"),
                    None => kind,
                },
                target: match (text(record, "/project/path_with_namespace"), text(record, "/object_attributes/iid")) {
                    (Some(project), Some(iid)) => Some(format!("{project}!{iid}")),
                    (project, _) => project,
                },
                source_ip: None,
                outcome: text(record, "/object_attributes/state"),
                event_key: fallback_key(),
                line: Some(line as i64),
            },
            None => {
                let details = record.get("details").unwrap_or(&Value::Null);
                AuditEvent {
                    source: "gitlab".into(),
                    event_time: time(record, "/created_at"),
                    actor: first_text(details, &["/author_name", "/author_email"]),
                    action: first_text(record, &["/event_name"])
                        .or_else(|| first_text(details, &["/event_name", "/custom_message"]))
                        .or_else(|| {
                            ["add", "change", "remove"].iter().find_map(|verb| {
                                text(details, &format!("/{verb}")).map(|what| format!("{verb} {what}"))
                            })
                        })
                        .unwrap_or_else(|| "audit_event".into()),
                    // Where it happened and to what: a project's protected branch is `group/app main`.
                    target: match (text(details, "/entity_path"), text(details, "/target_details")) {
                        (Some(entity), Some(target)) if entity != target => Some(format!("{entity} {target}")),
                        (entity, target) => target.or(entity),
                    },
                    source_ip: text(details, "/ip_address"),
                    outcome: None,
                    event_key: text(record, "/id").map(|id| format!("gitlab:{id}")).unwrap_or_else(fallback_key),
                    line: Some(line as i64),
                }
            }
        },
    })
}

/// GitHub writes `org` as a string, a number or a list; the organisation as text.
fn organisation(record: &Value) -> Option<String> {
    match record.get("org")? {
        Value::String(org) => Some(org.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Array(items) => {
            let names: Vec<String> = items
                .iter()
                .filter_map(|item| match item {
                    Value::String(name) => Some(name.clone()),
                    Value::Number(number) => Some(number.to_string()),
                    _ => None,
                })
                .collect();
            (!names.is_empty()).then(|| names.join(","))
        }
        _ => None,
    }
}

fn action_outcome(record: &Value) -> Option<String> {
    let action = text(record, "/action")?;
    if action.ends_with("_failure") || action.ends_with(".failure") || action.contains("failed") {
        Some("failure".into())
    } else if action.ends_with("_success") {
        Some("success".into())
    } else {
        None
    }
}

/// Reads a GitHub audit-log CSV export into JSON records, with their line numbers (times stay text; epoch
/// milliseconds as text parse like numbers).
pub fn csv_records(bytes: &[u8], origin: &str) -> Result<Vec<(usize, Value, Vec<u8>)>> {
    let (headers, records) = super::csv_records::read(bytes, origin)?;
    if !headers.iter().any(|header| header == "action") {
        return Err(input_error(format!(
            "{origin}: line 1: expected a GitHub audit-log CSV header with an \"action\" column (found {})",
            headers.join(", ")
        )));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn github_org_may_be_a_string_a_number_or_a_list() {
        for (org, expected) in [(json!("acme"), "acme"), (json!(42), "42"), (json!(["a", "b"]), "a,b")] {
            let record = json!({"action": "org.update_member", "@timestamp": 1711431195806i64, "org": org});
            let event = event(AuditSource::Github, &record, 1, b"x", "log").unwrap();
            assert_eq!(event.target.as_deref(), Some(expected));
            assert_eq!(event.event_time.unwrap().to_string(), "2024-03-26 05:33:15.806");
        }
    }

    #[test]
    fn csv_exports_become_records_with_line_numbers() {
        let csv = b"@timestamp,action,actor,org,_document_id\n1711431195806,repo.create,octo,acme,abc\n";
        let records = csv_records(csv, "export.csv").unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].0, 2);
        let event = event(AuditSource::Github, &records[0].1, records[0].0, &records[0].2, "export.csv").unwrap();
        assert_eq!((event.action.as_str(), event.event_key.as_str()), ("repo.create", "abc"));
        let error = csv_records(b"time,who\n1,2\n", "other.csv").unwrap_err().to_string();
        assert!(error.contains("other.csv: line 1: expected a GitHub audit-log CSV header"), "{error}");
    }

    #[test]
    fn gitlab_audit_events_use_their_details() {
        let record = json!({"id": 7, "author_id": 1, "entity_id": 6, "entity_type": "Project",
            "details": {"author_name": "Root", "change": "visibility", "from": "private", "to": "public",
                        "target_details": "group/app", "ip_address": "10.0.0.1"},
            "created_at": "2026-08-01T10:00:00.000Z"});
        let event = event(AuditSource::Gitlab, &record, 1, b"x", "g.json").unwrap();
        assert_eq!(event.action, "change visibility");
        assert_eq!(event.actor.as_deref(), Some("Root"));
        assert_eq!(event.event_key, "gitlab:7");
        assert_eq!(event.source_ip.as_deref(), Some("10.0.0.1"));
        let branch = json!({"id": 8, "details": {"custom_message": "Unprotected branch", "target_details": "main",
                                                 "entity_path": "group/app"}, "created_at": "2026-08-01T10:00:00Z"});
        let unprotected = super::event(AuditSource::Gitlab, &branch, 2, b"x", "g.json").unwrap();
        assert_eq!(
            (unprotected.action.as_str(), unprotected.target.as_deref()),
            ("Unprotected branch", Some("group/app main"))
        );
    }

    #[test]
    fn a_record_of_the_wrong_shape_names_its_line() {
        let error = event(AuditSource::Kubernetes, &json!({"kind": 0}), 3, b"x", "k.jsonl").unwrap_err();
        assert!(error.to_string().starts_with("k.jsonl: line 3: expected a Kubernetes audit Event"), "{error}");
    }
}
