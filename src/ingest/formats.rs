//! The evidence file formats `ingest` reads, in one table: each format's name (`--kind` and the config's `files:`),
//! how its content is recognised, and what a file of it must contain. The table's order is the order formats are
//! tried in (specific markers first, loose shapes last); a format recognised only when named is `KindOnly`. A test
//! checks that every kind has exactly one row.

use serde_json::Value;

use super::audit_log::AuditSource;
use super::{
    checkov, cyclonedx, dependency_snapshot, deploy_events, gitlab, gitleaks, grype, intoto, kubernetes, legitify,
    nuclei, osv, semgrep, sigstore, spdx, syft, trivy, vex, zap,
};

/// Evidence file formats `ingest` understands (the same names in the config's `files:`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum IngestKind {
    /// SARIF 2.1.0 static-analysis results.
    Sarif,
    /// Trivy JSON: reports, legacy arrays, Kubernetes reports, Trivy Operator resources, ASFF.
    Trivy,
    /// Grype JSON, current and legacy 0.7 schema.
    Grype,
    /// OSV-Scanner JSON.
    OsvScanner,
    /// CycloneDX JSON 1.2–1.7 (SBOM, vulnerabilities, VEX).
    Cyclonedx,
    /// SPDX 2.2 or 2.3 JSON.
    Spdx,
    /// Syft JSON SBOM.
    Syft,
    /// GitHub dependency-submission snapshot.
    DependencySnapshot,
    /// in-toto Statement, DSSE envelope or Sigstore bundle (also JSON Lines of them).
    Attestation,
    /// GitHub audit-log export: JSON, JSON Lines or CSV.
    GithubAuditLog,
    /// Kubernetes audit log (JSON Lines of audit.k8s.io Events).
    K8sAudit,
    /// GitLab audit events or webhook events.
    GitlabAudit,
    /// CDEvents JSON (one event, a list, or JSON Lines).
    Cdevents,
    /// Argo CD Application with its sync status and history.
    Argocd,
    /// Kubernetes objects (JSON or YAML, one, a List, or several documents): Kyverno and Sigstore image policies,
    /// Argo Rollouts, Flagger Canaries, Deployments, role bindings.
    Kubernetes,
    /// Semgrep JSON.
    Semgrep,
    /// Checkov JSON.
    Checkov,
    /// Gitleaks JSON (the secret itself is never stored).
    Gitleaks,
    /// GitLab security report: SAST, dependency or container scanning, secret detection.
    GitlabReport,
    /// GitLab Code Quality report.
    GitlabCodeQuality,
    /// GitLab merge requests as listed by the API.
    GitlabMergeRequests,
    /// Legitify JSON (SCM posture).
    Legitify,
    /// OWASP ZAP JSON report.
    Zap,
    /// Nuclei JSON Lines or JSON export.
    Nuclei,
    /// OpenVEX document.
    Openvex,
    /// CSAF 2.0 VEX advisory.
    Csaf,
    /// JSON Lines or CSV log read through a mapping file (--mapping).
    Generic,
}

/// How a format is recognised.
#[derive(Clone, Copy)]
pub enum Detect {
    /// By the whole document.
    Document(fn(&Value) -> bool),
    /// By its first record (JSON Lines, lists of events).
    FirstRecord(fn(&Value) -> bool),
    /// Only when named with `--kind`.
    KindOnly,
}

/// One evidence file format.
pub struct Format {
    /// Its name.
    pub kind: IngestKind,
    /// What a file of it must contain, for errors.
    pub expected: &'static str,
    /// How it is recognised.
    pub detect: Detect,
}

/// Every format, in the order they are tried.
pub static FORMATS: &[Format] = &[
    Format { kind: IngestKind::Sarif, expected: "a SARIF 2.1.0 log", detect: Detect::Document(is_sarif) },
    Format {
        kind: IngestKind::Cyclonedx,
        expected: "a CycloneDX JSON BOM (\"bomFormat\": \"CycloneDX\")",
        detect: Detect::Document(cyclonedx::detect),
    },
    Format {
        kind: IngestKind::Spdx,
        expected: "an SPDX 2.2 or 2.3 JSON document (\"spdxVersion\")",
        detect: Detect::Document(spdx::detect),
    },
    Format {
        kind: IngestKind::Syft,
        expected: "a Syft JSON SBOM (\"artifacts\" and \"artifactRelationships\")",
        detect: Detect::Document(syft::detect),
    },
    Format {
        kind: IngestKind::DependencySnapshot,
        expected: "a GitHub dependency-submission snapshot (\"detector\" and \"manifests\")",
        detect: Detect::Document(dependency_snapshot::detect),
    },
    Format {
        kind: IngestKind::Grype,
        expected: "a Grype JSON report (grype -o json) with \"matches\"",
        detect: Detect::Document(grype::detect),
    },
    Format {
        kind: IngestKind::Trivy,
        expected: "a Trivy JSON report (trivy --format json)",
        detect: Detect::Document(trivy::detect),
    },
    Format {
        kind: IngestKind::OsvScanner,
        expected: "an OSV-Scanner JSON report with \"results\"",
        detect: Detect::Document(osv::detect),
    },
    Format {
        kind: IngestKind::Semgrep,
        expected: "a Semgrep JSON report (\"results\" and \"errors\")",
        detect: Detect::Document(semgrep::detect),
    },
    Format {
        kind: IngestKind::Checkov,
        expected: "a Checkov JSON report (\"check_type\" and \"results\")",
        detect: Detect::Document(checkov::detect),
    },
    Format {
        kind: IngestKind::Gitleaks,
        expected: "a Gitleaks JSON report (a list of findings with RuleID and File)",
        detect: Detect::Document(gitleaks::detect),
    },
    Format {
        kind: IngestKind::Legitify,
        expected: "a Legitify JSON report (\"type\" and \"content\")",
        detect: Detect::Document(legitify::detect),
    },
    Format {
        kind: IngestKind::GitlabReport,
        expected: "a GitLab security report (\"version\" and \"vulnerabilities\")",
        detect: Detect::Document(gitlab::is_security_report),
    },
    Format {
        kind: IngestKind::GitlabCodeQuality,
        expected: "a GitLab Code Quality report (a list with check_name and fingerprint)",
        detect: Detect::Document(gitlab::is_code_quality),
    },
    Format {
        kind: IngestKind::GitlabMergeRequests,
        expected: "a GitLab merge-request list (objects with iid and target_branch)",
        detect: Detect::Document(gitlab::is_merge_request_list),
    },
    Format {
        kind: IngestKind::Openvex,
        expected: "an OpenVEX document (@context https://openvex.dev/ns/…)",
        detect: Detect::Document(vex::is_openvex),
    },
    Format {
        kind: IngestKind::Csaf,
        expected: "a CSAF advisory (document.csaf_version)",
        detect: Detect::Document(vex::is_csaf),
    },
    Format {
        kind: IngestKind::Zap,
        expected: "an OWASP ZAP JSON report (\"@version\" and \"site\")",
        detect: Detect::Document(zap::detect),
    },
    Format {
        kind: IngestKind::Attestation,
        expected: "an in-toto Statement, a DSSE envelope or a Sigstore bundle",
        detect: Detect::FirstRecord(is_attestation),
    },
    Format {
        kind: IngestKind::Cdevents,
        expected: "CDEvents (context.type dev.cdevents.*)",
        detect: Detect::FirstRecord(deploy_events::is_cdevent),
    },
    Format {
        kind: IngestKind::Argocd,
        expected: "an Argo CD Application (apiVersion argoproj.io/*, kind Application)",
        detect: Detect::Document(deploy_events::is_argocd_application),
    },
    Format {
        kind: IngestKind::Kubernetes,
        expected:
            "Kubernetes objects (Kyverno ClusterPolicy or Policy, ClusterImagePolicy, Argo Rollout, Flagger Canary, \
             Deployment, ClusterRoleBinding or RoleBinding), as JSON or YAML",
        detect: Detect::Document(kubernetes::detect),
    },
    Format {
        kind: IngestKind::Nuclei,
        expected: "Nuclei results (template-id and info)",
        detect: Detect::FirstRecord(nuclei::detect),
    },
    Format {
        kind: IngestKind::K8sAudit,
        expected: "a Kubernetes audit log (JSON Lines of audit.k8s.io Events)",
        detect: Detect::FirstRecord(|v| AuditSource::detect(v) == Some(AuditSource::Kubernetes)),
    },
    Format {
        kind: IngestKind::GitlabAudit,
        expected: "GitLab audit events or webhook events",
        detect: Detect::FirstRecord(|v| AuditSource::detect(v) == Some(AuditSource::Gitlab)),
    },
    Format {
        kind: IngestKind::GithubAuditLog,
        expected: "a GitHub audit-log export (JSON, JSON Lines or CSV)",
        detect: Detect::FirstRecord(|v| AuditSource::detect(v) == Some(AuditSource::Github)),
    },
    Format {
        kind: IngestKind::Generic,
        expected: "a JSON Lines or CSV log described by the mapping file",
        detect: Detect::KindOnly,
    },
];

/// The row of a kind.
pub fn format(kind: IngestKind) -> &'static Format {
    FORMATS.iter().find(|format| format.kind == kind).expect("every kind has a row (tested)")
}

fn is_sarif(document: &Value) -> bool {
    document.get("runs").is_some()
        || document.get("runLogs").is_some()
        || document.get("$schema").and_then(Value::as_str).is_some_and(|schema| schema.contains("sarif"))
}

fn is_attestation(value: &Value) -> bool {
    sigstore::is_bundle(value)
        || sigstore::is_npm_attestations(value)
        || intoto::is_envelope(value)
        || intoto::is_statement(value)
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn every_kind_has_exactly_one_row_and_only_generic_must_be_named() {
        for kind in IngestKind::value_variants() {
            let rows = FORMATS.iter().filter(|format| format.kind == *kind).count();
            assert_eq!(rows, 1, "{kind:?} has {rows} rows in FORMATS");
        }
        let named_only: Vec<IngestKind> =
            FORMATS.iter().filter(|f| matches!(f.detect, Detect::KindOnly)).map(|f| f.kind).collect();
        assert_eq!(named_only, [IngestKind::Generic], "a format nobody can detect must be documented as --kind only");
    }
}
