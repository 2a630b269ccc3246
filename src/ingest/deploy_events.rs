//! Delivery events: CDEvents (any `dev.cdevents.*` type) and Argo CD Applications (sync history as events; sync
//! policy and live sync state as a GitOps application).

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, text, time};
use crate::facts::{DeployEvent, Facts, GitopsApplication};

/// Whether a document is a CDEvent.
pub fn is_cdevent(document: &Value) -> bool {
    text(document, "/context/type").is_some_and(|kind| kind.starts_with("dev.cdevents."))
}

/// Whether a document is an Argo CD Application.
pub fn is_argocd_application(document: &Value) -> bool {
    text(document, "/apiVersion").is_some_and(|api| api.starts_with("argoproj.io/"))
        && text(document, "/kind").as_deref() == Some("Application")
}

/// Reads CDEvents, one per record.
pub fn parse_cdevents(records: &[(usize, Value)], _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("cdevents", "cdevents");
    for (_, event) in records {
        let full_type = text(event, "/context/type").unwrap_or_default();
        let event_type = short_type(&full_type);
        let content = event.pointer("/subject/content").unwrap_or(&Value::Null);
        facts.format = format!("cdevents-{}", text(event, "/context/specversion").unwrap_or_else(|| "?".into()));
        facts.deploy_events.push(DeployEvent {
            source: "cdevents".into(),
            event_time: time(event, "/context/timestamp"),
            event_type: event_type.clone(),
            environment: first_text(content, &["/environment/id", "/name"]).filter(|_| {
                event_type.starts_with("service.")
                    || event_type.starts_with("environment.")
                    || content.get("environment").is_some()
            }),
            service: first_text(content, &["/service/id", "/pipelineName", "/repository/id"])
                .or_else(|| event_type.starts_with("service.").then(|| text(event, "/subject/id")).flatten()),
            artifact: first_text(content, &["/artifactId"])
                .or_else(|| event_type.starts_with("artifact.").then(|| text(event, "/subject/id")).flatten()),
            revision: None,
            outcome: first_text(content, &["/outcome", "/decision", "/status", "/resolution"]),
            actor: first_text(content, &["/responder", "/updatedBy", "/creator", "/user"]),
            event_key: format!(
                "{}:{}:{}",
                text(event, "/context/source").unwrap_or_default(),
                text(event, "/context/id").unwrap_or_default(),
                full_type
            ),
        });
    }
    Ok(facts)
}

/// `dev.cdevents.service.deployed.0.3.0` → `service.deployed`.
fn short_type(full: &str) -> String {
    let rest = full.trim_start_matches("dev.cdevents.");
    rest.split('.')
        .take_while(|part| !part.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(".")
}

/// Reads an Application: its sync history (one deploy event per entry), its last sync operation, and its sync policy
/// and state.
pub fn parse_argocd(document: &Value, origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("argocd", "argocd-application");
    let name = text(document, "/metadata/name").unwrap_or_default();
    let namespace = text(document, "/metadata/namespace");
    let application = match namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.clone(),
    };
    facts.subject = Some(format!("argocd:{application}"));
    let environment = first_text(document, &["/spec/destination/name", "/spec/destination/server"]).map(|cluster| {
        match text(document, "/spec/destination/namespace") {
            Some(namespace) => format!("{cluster}/{namespace}"),
            None => cluster,
        }
    });
    let health = text(document, "/status/health/status");
    let automated = document.pointer("/spec/syncPolicy/automated").filter(|value| value.is_object());
    let enabled = |flag: &str| automated.and_then(|a| a.get(flag)).and_then(Value::as_bool) == Some(true);
    facts.gitops_applications.push(GitopsApplication {
        application: application.clone(),
        project: text(document, "/spec/project"),
        destination: environment.clone(),
        source: first_text(document, &["/spec/source/repoURL", "/spec/sources/0/repoURL"]),
        target_revision: first_text(document, &["/spec/source/targetRevision", "/spec/sources/0/targetRevision"]),
        automated: automated.is_some_and(|a| a.get("enabled").and_then(Value::as_bool) != Some(false)),
        self_heal: enabled("selfHeal"),
        prune: enabled("prune"),
        sync_status: text(document, "/status/sync/status"),
        synced_revision: first_text(document, &["/status/sync/revision", "/status/sync/revisions/0"]),
        health_status: health.clone(),
        reconciled_at: time(document, "/status/reconciledAt"),
    });
    for entry in array(document, "/status/history") {
        facts.deploy_events.push(DeployEvent {
            source: "argocd".into(),
            event_time: time(entry, "/deployedAt"),
            event_type: "application.synced".into(),
            environment: environment.clone(),
            service: Some(application.clone()),
            artifact: first_text(entry, &["/source/repoURL", "/source/chart"]),
            revision: text(entry, "/revision"),
            outcome: Some("succeeded".into()),
            actor: None,
            event_key: format!("argocd:{application}:history:{}", text(entry, "/id").unwrap_or_default()),
        });
    }
    if let Some(operation) = document.pointer("/status/operationState") {
        let finished = text(operation, "/finishedAt");
        facts.deploy_events.push(DeployEvent {
            source: "argocd".into(),
            event_time: time(operation, "/finishedAt").or_else(|| time(operation, "/startedAt")),
            event_type: "application.sync_operation".into(),
            environment: environment.clone(),
            service: Some(application.clone()),
            artifact: first_text(document, &["/spec/source/repoURL", "/spec/source/chart"]),
            revision: text(operation, "/syncResult/revision"),
            outcome: text(operation, "/phase").map(|phase| match &health {
                Some(health) => format!("{phase} ({health})"),
                None => phase,
            }),
            actor: first_text(operation, &["/operation/initiatedBy/username"])
                .or_else(|| operation.pointer("/operation/initiatedBy/automated").map(|_| "automated".into())),
            event_key: format!("argocd:{application}:operation:{}", finished.unwrap_or_default()),
        });
    }
    if facts.deploy_events.is_empty() {
        facts.warnings.push(format!(
            "{origin}: the Application {application} has no sync history or operation state: nothing shows it was deployed"
        ));
    }
    Ok(facts)
}
