//! Kubernetes objects exported from a cluster or a GitOps repository (`kubectl get … -o yaml|json`, one object, a
//! `List`, or several YAML documents): the admission policies that verify images (Kyverno `ClusterPolicy`/`Policy`
//! rules with `verifyImages`, Sigstore policy-controller `ClusterImagePolicy`), and how workloads roll out
//! (Argo Rollouts `Rollout`, Flagger `Canary`, and plain `Deployment`s), and who is bound to which role
//! (`ClusterRoleBinding`, `RoleBinding`), and Argo CD `Application`s (read as `--kind argocd` reads one). Other
//! objects are counted and reported as skipped, by kind.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, text};
use crate::facts::{AdmissionPolicy, Facts, RoleBinding, Rollout};

/// What an exported object is, for the kinds read here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Object {
    KyvernoPolicy,
    SigstoreImagePolicy,
    ArgoRollout,
    FlaggerCanary,
    Deployment,
    RoleBinding,
    ArgoApplication,
}

fn object_kind(value: &Value) -> Option<Object> {
    let api = text(value, "/apiVersion")?;
    let group = api.split('/').next().unwrap_or_default();
    match (group, text(value, "/kind")?.as_str()) {
        ("kyverno.io", "ClusterPolicy" | "Policy") => Some(Object::KyvernoPolicy),
        ("policy.sigstore.dev", "ClusterImagePolicy") => Some(Object::SigstoreImagePolicy),
        ("argoproj.io", "Rollout") => Some(Object::ArgoRollout),
        ("flagger.app", "Canary") => Some(Object::FlaggerCanary),
        ("apps", "Deployment") => Some(Object::Deployment),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding" | "RoleBinding") => Some(Object::RoleBinding),
        ("argoproj.io", "Application") => Some(Object::ArgoApplication),
        _ => None,
    }
}

/// Every object in an export: a list of documents, a `List` (or `…List`) with `items`, or one object.
fn objects(document: &Value) -> Vec<&Value> {
    match document {
        Value::Array(items) => items.iter().flat_map(objects).collect(),
        Value::Object(_) if text(document, "/kind").is_some_and(|kind| kind.ends_with("List")) => {
            array(document, "/items").iter().flat_map(objects).collect()
        }
        Value::Object(_) => vec![document],
        _ => Vec::new(),
    }
}

/// Whether a document holds at least one object read here.
pub fn detect(document: &Value) -> bool {
    objects(document).into_iter().any(|object| object_kind(object).is_some())
}

/// Reads the admission policies, rollouts, role bindings and Argo CD Applications of an export.
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("kubernetes", "kubernetes-objects");
    for (index, object) in objects(document).into_iter().enumerate() {
        match object_kind(object) {
            Some(Object::KyvernoPolicy) => facts.admission_policies.extend(kyverno(object)),
            Some(Object::SigstoreImagePolicy) => facts.admission_policies.push(cluster_image_policy(object)),
            Some(Object::ArgoRollout) => facts.rollouts.push(argo_rollout(object)),
            Some(Object::FlaggerCanary) => facts.rollouts.push(flagger_canary(object)),
            Some(Object::Deployment) => facts.rollouts.push(deployment(object)),
            Some(Object::RoleBinding) => facts.role_bindings.extend(role_binding(object)),
            Some(Object::ArgoApplication) => {
                let application = super::deploy_events::parse_argocd(object, origin)?;
                facts.gitops_applications.extend(application.gitops_applications);
                facts.deploy_events.extend(application.deploy_events);
                facts.warnings.extend(application.warnings);
            }
            None => {
                let kind = text(object, "/kind").unwrap_or_else(|| "no kind".into());
                let name = text(object, "/metadata/name").unwrap_or_else(|| format!("object {}", index + 1));
                facts.skip(format!("of a kind pipeproof does not read ({kind})"), name);
            }
        }
    }
    Ok(facts)
}

fn qualified(object: &Value) -> (Option<String>, String) {
    (text(object, "/metadata/namespace"), text(object, "/metadata/name").unwrap_or_default())
}

fn texts(values: &[Value]) -> Vec<String> {
    values.iter().filter_map(|value| value.as_str().map(str::to_string)).collect()
}

/// One row per `verifyImages` entry of each rule; a policy without any yields none.
fn kyverno(policy: &Value) -> Vec<AdmissionPolicy> {
    let (namespace, name) = qualified(policy);
    let kind = text(policy, "/kind").unwrap_or_default();
    let label = match &namespace {
        Some(namespace) if kind == "Policy" => format!("Policy/{namespace}/{name}"),
        _ => format!("{kind}/{name}"),
    };
    let policy_action = text(policy, "/spec/validationFailureAction");
    let mut rows = Vec::new();
    for rule in array(policy, "/spec/rules") {
        let rule_name = text(rule, "/name").unwrap_or_default();
        let mut namespaces: Vec<String> = array(rule, "/match/any")
            .iter()
            .chain(array(rule, "/match/all"))
            .flat_map(|filter| texts(array(filter, "/resources/namespaces")))
            .chain(texts(array(rule, "/match/resources/namespaces")))
            .collect();
        if kind == "Policy" {
            namespaces = namespace.iter().cloned().collect();
        }
        let entries = array(rule, "/verifyImages");
        for (index, entry) in entries.iter().enumerate() {
            let mut images = texts(array(entry, "/imageReferences"));
            images.extend(text(entry, "/image"));
            let mut authorities: Vec<String> = array(entry, "/attestors")
                .iter()
                .flat_map(|attestor| array(attestor, "/entries"))
                .map(kyverno_authority)
                .collect();
            if text(entry, "/key").is_some() {
                authorities.push("key".into());
            }
            if let Some(subject) = text(entry, "/subject") {
                authorities.push(format!("keyless {subject}"));
            }
            let mode = text(entry, "/failureAction")
                .or_else(|| text(rule, "/validate/failureAction"))
                .or_else(|| policy_action.clone())
                .unwrap_or_else(|| "Audit".into());
            let attestations = array(entry, "/attestations")
                .iter()
                .filter_map(|attestation| first_text(attestation, &["/predicateType", "/type"]))
                .collect();
            rows.push(AdmissionPolicy {
                engine: "kyverno".into(),
                policy: label.clone(),
                rule: if entries.len() > 1 { format!("{rule_name}[{index}]") } else { rule_name.clone() },
                enforced: mode.eq_ignore_ascii_case("enforce"),
                mode: Some(mode),
                images,
                namespaces: namespaces.clone(),
                authorities,
                attestations,
                required: entry.get("required").and_then(Value::as_bool).unwrap_or(true),
            });
        }
    }
    rows
}

/// A Kyverno attestor entry in words: `keyless <issuer> <subject>`, `key`, `certificates`, or what it names.
fn kyverno_authority(entry: &Value) -> String {
    if let Some(keyless) = entry.get("keyless") {
        let subject = first_text(keyless, &["/subject", "/subjectRegExp"]).unwrap_or_else(|| "any subject".into());
        let issuer = first_text(keyless, &["/issuer", "/issuerRegExp"]).unwrap_or_else(|| "any issuer".into());
        return format!("keyless {issuer} {subject}");
    }
    for kind in ["keys", "certificates", "attestor"] {
        if entry.get(kind).is_some() {
            return kind.trim_end_matches('s').to_string();
        }
    }
    "unrecognised attestor".into()
}

/// A `ClusterImagePolicy`: its images and authorities; mode `enforce` unless it says `warn`.
fn cluster_image_policy(policy: &Value) -> AdmissionPolicy {
    let (_, name) = qualified(policy);
    let mode = text(policy, "/spec/mode").unwrap_or_else(|| "enforce".into());
    let authorities = array(policy, "/spec/authorities")
        .iter()
        .map(|authority| {
            if let Some(keyless) = authority.get("keyless") {
                let identities: Vec<String> = array(keyless, "/identities")
                    .iter()
                    .map(|identity| {
                        format!(
                            "{} {}",
                            first_text(identity, &["/issuer", "/issuerRegExp"]).unwrap_or_else(|| "any issuer".into()),
                            first_text(identity, &["/subject", "/subjectRegExp"])
                                .unwrap_or_else(|| "any subject".into())
                        )
                    })
                    .collect();
                format!("keyless {}", if identities.is_empty() { "any identity".into() } else { identities.join(", ") })
            } else if authority.get("key").is_some() {
                "key".into()
            } else if let Some(action) = text(authority, "/static/action") {
                format!("static {action}")
            } else {
                "unrecognised authority".into()
            }
        })
        .collect();
    AdmissionPolicy {
        engine: "sigstore-policy-controller".into(),
        policy: format!("ClusterImagePolicy/{name}"),
        rule: name,
        enforced: mode.eq_ignore_ascii_case("enforce"),
        mode: Some(mode),
        images: array(policy, "/spec/images").iter().filter_map(|image| text(image, "/glob")).collect(),
        namespaces: Vec::new(),
        authorities,
        attestations: array(policy, "/spec/authorities")
            .iter()
            .flat_map(|authority| array(authority, "/attestations"))
            .filter_map(|attestation| text(attestation, "/predicateType"))
            .collect(),
        required: true,
    }
}

/// An Argo Rollouts `Rollout`: canary or blue/green, and whether an analysis decides promotion (a failed analysis
/// aborts the rollout and returns traffic to the stable version).
fn argo_rollout(rollout: &Value) -> Rollout {
    let (namespace, name) = qualified(rollout);
    let canary = rollout.pointer("/spec/strategy/canary");
    let blue_green = rollout.pointer("/spec/strategy/blueGreen");
    let mut templates: Vec<String> = Vec::new();
    let mut collect = |analysis: Option<&Value>| {
        if let Some(analysis) = analysis {
            templates.extend(array(analysis, "/templates").iter().filter_map(|t| text(t, "/templateName")));
        }
    };
    if let Some(canary) = canary {
        collect(canary.get("analysis"));
        for step in array(canary, "/steps") {
            collect(step.get("analysis"));
        }
    }
    if let Some(blue_green) = blue_green {
        collect(blue_green.get("prePromotionAnalysis"));
        collect(blue_green.get("postPromotionAnalysis"));
    }
    let analysis = !templates.is_empty();
    Rollout {
        controller: "Rollout".into(),
        namespace,
        name,
        target: text(rollout, "/spec/workloadRef/name"),
        strategy: if canary.is_some() {
            Some("canary".into())
        } else if blue_green.is_some() {
            Some("blueGreen".into())
        } else {
            None
        },
        analysis,
        analysis_templates: templates,
        auto_rollback: analysis,
        // `status.abort` says the controller aborted the rollout (a failed analysis, or by hand) and went back.
        phase: match (text(rollout, "/status/phase"), rollout.pointer("/status/abort").and_then(Value::as_bool)) {
            (Some(phase), Some(true)) => Some(format!("{phase}, aborted")),
            (None, Some(true)) => Some("aborted".into()),
            (phase, _) => phase,
        },
    }
}

/// A Flagger `Canary`: its analysis (metrics or webhooks) and the failed-check threshold that rolls it back.
fn flagger_canary(canary: &Value) -> Rollout {
    let (namespace, name) = qualified(canary);
    let analysis = canary.pointer("/spec/analysis").or_else(|| canary.pointer("/spec/canaryAnalysis"));
    let templates: Vec<String> = analysis
        .map(|analysis| {
            array(analysis, "/metrics")
                .iter()
                .chain(array(analysis, "/webhooks"))
                .filter_map(|check| first_text(check, &["/templateRef/name", "/name"]))
                .collect()
        })
        .unwrap_or_default();
    let strategy = analysis.map(|analysis| {
        if analysis.get("stepWeight").is_some() || analysis.get("stepWeights").is_some() {
            "canary"
        } else if analysis.get("match").is_some() {
            "ab-testing"
        } else {
            "blueGreen"
        }
    });
    let threshold = analysis.and_then(|analysis| analysis.get("threshold")).and_then(Value::as_i64);
    Rollout {
        controller: "Canary".into(),
        namespace,
        name,
        target: text(canary, "/spec/targetRef/name"),
        strategy: strategy.map(str::to_string),
        analysis: !templates.is_empty(),
        auto_rollback: !templates.is_empty() && threshold.is_some_and(|threshold| threshold > 0),
        analysis_templates: templates,
        phase: text(canary, "/status/phase"),
    }
}

/// A plain `Deployment`: Kubernetes replaces its pods by its strategy, with no analysis and no automatic rollback.
fn deployment(deployment: &Value) -> Rollout {
    let (namespace, name) = qualified(deployment);
    Rollout {
        controller: "Deployment".into(),
        namespace,
        name,
        target: None,
        strategy: Some(text(deployment, "/spec/strategy/type").unwrap_or_else(|| "RollingUpdate".into())),
        analysis: false,
        analysis_templates: Vec::new(),
        auto_rollback: false,
        phase: None,
    }
}

/// One row per subject of a `ClusterRoleBinding` or `RoleBinding`.
fn role_binding(binding: &Value) -> Vec<RoleBinding> {
    let (namespace, name) = qualified(binding);
    let kind = text(binding, "/kind").unwrap_or_default();
    let label = match &namespace {
        Some(namespace) if kind == "RoleBinding" => format!("RoleBinding/{namespace}/{name}"),
        _ => format!("{kind}/{name}"),
    };
    let role = format!(
        "{}/{}",
        text(binding, "/roleRef/kind").unwrap_or_else(|| "ClusterRole".into()),
        text(binding, "/roleRef/name").unwrap_or_default()
    );
    array(binding, "/subjects")
        .iter()
        .map(|subject| {
            let subject_kind = text(subject, "/kind").unwrap_or_default();
            let subject_name = text(subject, "/name").unwrap_or_default();
            RoleBinding {
                binding: label.clone(),
                namespace: namespace.clone().filter(|_| kind == "RoleBinding"),
                role: role.clone(),
                subject: match (subject_kind.as_str(), text(subject, "/namespace")) {
                    ("ServiceAccount", Some(namespace)) => format!("{namespace}/{subject_name}"),
                    _ => subject_name,
                },
                subject_kind,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_nested_documents_are_flattened_and_other_objects_skipped() {
        let document = serde_json::json!([
            {"apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "prod"}},
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "prod"}}
            ]},
            {"apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy", "metadata": {"name": "signed"},
             "spec": {"images": [{"glob": "ghcr.io/acme/**"}], "authorities": [{"static": {"action": "pass"}}]}}
        ]);
        assert!(detect(&document));
        let facts = parse(&document, "export.yaml").unwrap();
        assert_eq!(facts.rollouts.len(), 1);
        assert_eq!(facts.admission_policies[0].authorities, ["static pass"]);
        assert!(facts.admission_policies[0].enforced, "policy-controller enforces unless mode: warn");
        assert_eq!(facts.skipped, [("of a kind pipeproof does not read (Service)".to_string(), "api".to_string())]);
        assert!(!detect(&serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"})));
    }
}
