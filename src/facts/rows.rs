//! The typed rows a parsed evidence file yields, one struct per fact table.

use chrono::NaiveDateTime;

/// A static-analysis, IaC or posture finding (`code_findings`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CodeFinding {
    /// The tool that reported it.
    pub tool: String,
    /// The tool's version, if stated.
    pub tool_version: Option<String>,
    /// The rule id.
    pub rule_id: Option<String>,
    /// The rule's name or short description.
    pub rule_name: Option<String>,
    /// `error`, `warning`, `note` or `none`.
    pub level: String,
    /// A CVSS-like 0–10 severity, if any.
    pub security_severity: Option<f64>,
    /// The message text.
    pub message: Option<String>,
    /// The first location, as `uri:line`.
    pub location: Option<String>,
    /// A stable fingerprint, if any.
    pub fingerprint: Option<String>,
    /// Whether an accepted suppression applies.
    pub suppressed: bool,
}

/// One tool run over a subject (`code_scans` for code findings, `scans` for the rest).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scan {
    /// `code`, `vulnerability`, `secret` or `dast`.
    pub category: &'static str,
    /// The tool name.
    pub tool: String,
    /// The tool version.
    pub tool_version: Option<String>,
    /// How many results the run reported.
    pub result_count: usize,
    /// Whether the run reached its end, as the report says.
    pub completion: Completion,
    /// Why it is partial or failed, in the tool's words.
    pub completion_note: Option<String>,
}

/// Whether a scan ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Completion {
    /// It did, or the report does not say otherwise.
    #[default]
    Complete,
    /// It ran, but reported errors for parts of what it scanned: its results cover less than the subject.
    Partial,
    /// It did not finish: its results say nothing about what it did not reach, so it counts as no scan.
    Failed,
}

impl Completion {
    /// The word stored in `completion`.
    pub fn as_str(self) -> &'static str {
        match self {
            Completion::Complete => "complete",
            Completion::Partial => "partial",
            Completion::Failed => "failed",
        }
    }
}

impl Scan {
    /// Marks the scan partial or failed with why; the worse state wins, and notes add up.
    pub fn mark(&mut self, completion: Completion, note: impl Into<String>) {
        let worse = |c: Completion| match c {
            Completion::Complete => 0,
            Completion::Partial => 1,
            Completion::Failed => 2,
        };
        if worse(completion) > worse(self.completion) {
            self.completion = completion;
        }
        let note = note.into();
        self.completion_note = Some(match self.completion_note.take() {
            Some(earlier) => format!("{earlier}; {note}"),
            None => note,
        });
    }
}

/// A known vulnerability in a package (`vulnerabilities`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vulnerability {
    /// The scanner that reported it.
    pub scanner: String,
    /// The file, layer or lock file within the subject.
    pub target: Option<String>,
    /// The package name.
    pub package: Option<String>,
    /// The installed version.
    pub version: Option<String>,
    /// The package URL.
    pub purl: Option<String>,
    /// The vulnerability id (CVE, GHSA, OSV id).
    pub vuln_id: String,
    /// Other ids for the same vulnerability.
    pub aliases: Vec<String>,
    /// `critical`, `high`, `medium`, `low`, `negligible` or `unknown`.
    pub severity: String,
    /// The highest CVSS base score stated.
    pub cvss: Option<f64>,
    /// The first version that fixes it.
    pub fixed_version: Option<String>,
    /// `affected`, `fixed`, `not_affected`, `under_investigation` or `suppressed`.
    pub status: String,
    /// Why, when the status is not `affected`.
    pub justification: Option<String>,
}

/// A leaked credential (`secret_findings`); never the secret itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecretFinding {
    /// The scanner.
    pub scanner: String,
    /// The rule that matched.
    pub rule_id: String,
    /// What kind of secret.
    pub title: Option<String>,
    /// The scanner's severity, lower-cased.
    pub severity: String,
    /// The file it was found in.
    pub file: Option<String>,
    /// The line.
    pub line: Option<i64>,
    /// The commit it was found in.
    pub commit_sha: Option<String>,
    /// A stable fingerprint.
    pub fingerprint: Option<String>,
}

/// A dynamic-testing finding (`dast_findings`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DastFinding {
    /// The scanner.
    pub scanner: String,
    /// The rule, plugin or template id.
    pub rule_id: String,
    /// Its name.
    pub title: Option<String>,
    /// The severity, lower-cased.
    pub severity: String,
    /// The URL it was found at.
    pub url: Option<String>,
}

/// An SBOM document (`sboms`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sbom {
    /// `cyclonedx`, `spdx` or `syft`.
    pub format: String,
    /// The specification version.
    pub spec_version: String,
    /// The document or main component name.
    pub document_name: Option<String>,
    /// The serial number or document namespace.
    pub serial_number: Option<String>,
    /// When the SBOM was made.
    pub created: Option<NaiveDateTime>,
    /// The tools that made it.
    pub tools: Vec<String>,
    /// How many dependency relationships it records.
    pub relationship_count: usize,
}

/// A component listed by an SBOM (`sbom_components`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Component {
    /// The name.
    pub name: String,
    /// The version.
    pub version: Option<String>,
    /// The package URL.
    pub purl: Option<String>,
    /// library, application, container, operating-system, …
    pub component_type: Option<String>,
    /// The supplier or publisher.
    pub supplier: Option<String>,
    /// Licence ids or expressions.
    pub licenses: Vec<String>,
    /// Its sha256, when stated.
    pub sha256: Option<String>,
}

/// One artifact an attestation speaks about (`attestations`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attestation {
    /// `statement`, `dsse` or `sigstore-bundle-0.x`.
    pub envelope: String,
    /// The in-toto statement type.
    pub statement_type: Option<String>,
    /// The predicate type (SLSA provenance, VSA, SBOM, …).
    pub predicate_type: Option<String>,
    /// The subject's name.
    pub artifact: Option<String>,
    /// The subject's sha256.
    pub artifact_sha256: Option<String>,
    /// The SLSA builder id.
    pub builder_id: Option<String>,
    /// The SLSA build type.
    pub build_type: Option<String>,
    /// The source repository.
    pub source_repo: Option<String>,
    /// The source ref.
    pub source_ref: Option<String>,
    /// The source commit.
    pub source_digest: Option<String>,
    /// The certificate's identity (SAN).
    pub signer_identity: Option<String>,
    /// The certificate's OIDC issuer.
    pub signer_issuer: Option<String>,
    /// The transparency-log index.
    pub rekor_log_index: Option<i64>,
    /// How many signatures the envelope carries.
    pub signature_count: usize,
    /// Whether a signature was checked and held.
    pub verified: bool,
    /// What was and was not checked, or why it failed.
    pub verification: String,
}

/// A VEX statement (`vex_statements`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VexStatement {
    /// `openvex`, `csaf` or `cyclonedx`.
    pub format: String,
    /// The vulnerability id.
    pub vuln_id: String,
    /// The product (purl or id), if named.
    pub product: Option<String>,
    /// `not_affected`, `affected`, `fixed` or `under_investigation`.
    pub status: String,
    /// The justification or impact statement.
    pub justification: Option<String>,
    /// When the statement was made.
    pub stated_at: Option<NaiveDateTime>,
}

/// An audit-log event (`audit_events`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditEvent {
    /// `github`, `kubernetes`, `gitlab` or `generic`.
    pub source: String,
    /// When it happened.
    pub event_time: Option<NaiveDateTime>,
    /// Who did it.
    pub actor: Option<String>,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// From where.
    pub source_ip: Option<String>,
    /// success, failure, or the status code.
    pub outcome: Option<String>,
    /// The source's own event id, else a hash of the event.
    pub event_key: String,
    /// The 1-based line or record number in the file.
    pub line: Option<i64>,
}

/// A delivery event (`deploy_events`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeployEvent {
    /// `cdevents` or `argocd`.
    pub source: String,
    /// When it happened.
    pub event_time: Option<NaiveDateTime>,
    /// The event type, e.g. `service.deployed`.
    pub event_type: String,
    /// The environment.
    pub environment: Option<String>,
    /// The service or application.
    pub service: Option<String>,
    /// The artifact deployed.
    pub artifact: Option<String>,
    /// The revision (commit) deployed.
    pub revision: Option<String>,
    /// The outcome or health.
    pub outcome: Option<String>,
    /// Who triggered it.
    pub actor: Option<String>,
    /// The event id.
    pub event_key: String,
}

/// A GitOps application's configuration and live sync state (`gitops_applications`), e.g. an Argo CD Application.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GitopsApplication {
    /// `namespace/name`.
    pub application: String,
    /// The Argo CD project.
    pub project: Option<String>,
    /// Where it deploys: cluster (name or server) and namespace.
    pub destination: Option<String>,
    /// The Git repository or Helm chart repository it deploys from.
    pub source: Option<String>,
    /// The revision it tracks (`HEAD`, a branch, a tag, a commit, a chart version).
    pub target_revision: Option<String>,
    /// Whether Git changes are applied automatically.
    pub automated: bool,
    /// Whether changes made to the live state outside Git are reverted (`selfHeal`).
    pub self_heal: bool,
    /// Whether resources removed from Git are removed from the cluster.
    pub prune: bool,
    /// `Synced`, `OutOfSync` or `Unknown`; `None` when the manifest carries no status.
    pub sync_status: Option<String>,
    /// The revision the live state was compared with.
    pub synced_revision: Option<String>,
    /// `Healthy`, `Degraded`, `Progressing`, …
    pub health_status: Option<String>,
    /// When Argo CD last compared the live state with Git.
    pub reconciled_at: Option<NaiveDateTime>,
}

/// A rule of an admission controller that verifies images (`admission_policies`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdmissionPolicy {
    /// `kyverno` or `sigstore-policy-controller`.
    pub engine: String,
    /// `ClusterPolicy/<name>`, `Policy/<namespace>/<name>` or `ClusterImagePolicy/<name>`.
    pub policy: String,
    /// The rule (with the entry's index when a rule has several).
    pub rule: String,
    /// The mode as written: `Enforce`/`Audit` (Kyverno), `enforce`/`warn` (policy-controller).
    pub mode: Option<String>,
    /// Whether a failed verification refuses admission.
    pub enforced: bool,
    /// The image patterns it verifies.
    pub images: Vec<String>,
    /// The namespaces it is limited to; empty when the policy selects none.
    pub namespaces: Vec<String>,
    /// Who must have signed, in words: `keyless <issuer> <subject>`, `key`, `static pass`.
    pub authorities: Vec<String>,
    /// The attestation predicate types it requires (SLSA provenance, …).
    pub attestations: Vec<String>,
    /// Whether an image without a signature is refused (Kyverno's `required`).
    pub required: bool,
}

/// How a workload rolls out (`rollouts`): a plain Deployment, an Argo Rollouts Rollout or a Flagger Canary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rollout {
    /// `Deployment`, `Rollout` or `Canary`.
    pub controller: String,
    /// Its namespace.
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// The Deployment a Rollout (`workloadRef`) or Canary (`targetRef`) drives.
    pub target: Option<String>,
    /// `RollingUpdate`, `Recreate`, `canary`, `blueGreen` or `ab-testing`.
    pub strategy: Option<String>,
    /// Whether a health analysis decides promotion.
    pub analysis: bool,
    /// The analysis templates, metrics or webhooks it runs.
    pub analysis_templates: Vec<String>,
    /// Whether a failed analysis rolls back without a person.
    pub auto_rollback: bool,
    /// The controller's phase, when exported with its status.
    pub phase: Option<String>,
}

/// One subject bound to a Kubernetes role (`role_bindings`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleBinding {
    /// `ClusterRoleBinding/<name>` or `RoleBinding/<namespace>/<name>`.
    pub binding: String,
    /// The namespace of a `RoleBinding`; `None` for a cluster-wide binding.
    pub namespace: Option<String>,
    /// `ClusterRole/<name>` or `Role/<name>`.
    pub role: String,
    /// `User`, `Group` or `ServiceAccount`.
    pub subject_kind: String,
    /// The user or group name, or `namespace/name` of a service account.
    pub subject: String,
}

/// A merge or pull request (`merge_requests`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MergeRequest {
    /// `gitlab` or `github`.
    pub source: String,
    /// The project path or owner/name.
    pub repo: String,
    /// The number within the project.
    pub number: i64,
    /// Its title.
    pub title: Option<String>,
    /// Who opened it.
    pub author: Option<String>,
    /// opened, merged, closed.
    pub state: Option<String>,
    /// The branch it merges into.
    pub target_branch: Option<String>,
    /// When it was opened.
    pub created_at: Option<NaiveDateTime>,
    /// When it was merged.
    pub merged_at: Option<NaiveDateTime>,
    /// Who merged it.
    pub merged_by: Option<String>,
    /// Its web address.
    pub url: Option<String>,
}

/// Everything one evidence file yields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// The evidence kind: `sarif`, `trivy`, `cyclonedx`, `github-audit-log`, …
    pub kind: &'static str,
    /// The detected format and version, e.g. `trivy-json-2`, `cyclonedx-1.6`.
    pub format: String,
    /// What the document is about (image, repository), when it says.
    pub subject: Option<String>,
    /// What kind of thing was scanned, when the document says: `image`, `filesystem`, `repository`, `sbom`,
    /// `cluster` or `vm`.
    pub artifact_type: Option<&'static str>,
    /// The repository (owner/name) the document names, when it does.
    pub repository: Option<String>,
    /// The time the document states it was made (scan time, SBOM creation).
    pub document_time: Option<NaiveDateTime>,
    /// Tool runs.
    pub scans: Vec<Scan>,
    /// Code, IaC and posture findings.
    pub code_findings: Vec<CodeFinding>,
    /// Vulnerabilities.
    pub vulnerabilities: Vec<Vulnerability>,
    /// Leaked secrets.
    pub secret_findings: Vec<SecretFinding>,
    /// Dynamic-testing findings.
    pub dast_findings: Vec<DastFinding>,
    /// The SBOM, when the file is one.
    pub sbom: Option<Sbom>,
    /// The SBOM's components.
    pub components: Vec<Component>,
    /// Attestations.
    pub attestations: Vec<Attestation>,
    /// VEX statements.
    pub vex_statements: Vec<VexStatement>,
    /// Audit events.
    pub audit_events: Vec<AuditEvent>,
    /// Deploy events.
    pub deploy_events: Vec<DeployEvent>,
    /// Merge requests.
    pub merge_requests: Vec<MergeRequest>,
    /// GitOps applications.
    pub gitops_applications: Vec<GitopsApplication>,
    /// Admission policy rules that verify images.
    pub admission_policies: Vec<AdmissionPolicy>,
    /// How workloads roll out.
    pub rollouts: Vec<Rollout>,
    /// Who is bound to which Kubernetes role.
    pub role_bindings: Vec<RoleBinding>,
    /// Things worth knowing about an accepted file.
    pub warnings: Vec<String>,
    /// Items of the file that yield no fact, each as (why, where): reported, never dropped silently.
    pub skipped: Vec<(String, String)>,
}

impl Facts {
    /// Empty facts of a kind and format.
    pub fn new(kind: &'static str, format: impl Into<String>) -> Facts {
        Facts { kind, format: format.into(), ..Facts::default() }
    }

    /// How many fact rows the file yields (findings, components, statements, events), for the summary line.
    pub fn row_count(&self) -> usize {
        self.code_findings.len()
            + self.vulnerabilities.len()
            + self.secret_findings.len()
            + self.dast_findings.len()
            + self.components.len()
            + self.attestations.len()
            + self.vex_statements.len()
            + self.audit_events.len()
            + self.deploy_events.len()
            + self.merge_requests.len()
            + self.gitops_applications.len()
            + self.admission_policies.len()
            + self.rollouts.len()
            + self.role_bindings.len()
    }

    /// How far the worst of the file's scans got, with why: `None` when every scan completed.
    pub fn completeness(&self) -> Option<(&'static str, String)> {
        let worst = self
            .scans
            .iter()
            .filter(|scan| scan.completion != Completion::Complete)
            .max_by_key(|scan| scan.completion == Completion::Failed)?;
        let notes: Vec<String> = self
            .scans
            .iter()
            .filter(|scan| scan.completion != Completion::Complete)
            .map(|scan| format!("{}: {}", scan.tool, scan.completion_note.as_deref().unwrap_or("no reason given")))
            .collect();
        Some((worst.completion.as_str(), notes.join("; ")))
    }

    /// Records an item of the file that yields no fact: why, and where it is (a JSON pointer).
    pub fn skip(&mut self, why: impl Into<String>, at: impl Into<String>) {
        self.skipped.push((why.into(), at.into()));
    }

    /// Adds a warning for each scan that did not complete, for each kind of item skipped (how many, where), and for a
    /// file that yields no facts at all.
    pub fn warn_about_completeness(&mut self, origin: &str) {
        let mut skipped: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
        for (why, at) in &self.skipped {
            skipped.entry(why.as_str()).or_default().push(at.as_str());
        }
        for (why, places) in skipped {
            let shown: Vec<&str> = places.iter().take(5).copied().collect();
            let more = if places.len() > 5 { format!(" and {} more", places.len() - 5) } else { String::new() };
            self.warnings.push(format!(
                "{origin}: skipped {} item(s) {why}: at {}{more}",
                places.len(),
                shown.join(", ")
            ));
        }
        for scan in &self.scans {
            let note = scan.completion_note.as_deref().unwrap_or("no reason given");
            match scan.completion {
                Completion::Complete => {}
                Completion::Partial => self.warnings.push(format!(
                    "{origin}: the {} scan is partial ({note}): its results cover less than what it was run on",
                    scan.tool
                )),
                Completion::Failed => self.warnings.push(format!(
                    "{origin}: the {} scan did not complete ({note}): it counts as no scan, and controls say unknown \
                     rather than pass on it",
                    scan.tool
                )),
            }
        }
        if self.scans.is_empty() && self.sbom.is_none() && self.row_count() == 0 {
            self.warnings.push(format!(
                "{origin}: yields no facts: nothing in it is a scan, finding, component, event or setting pipeproof \
                 reads (it is kept as evidence)"
            ));
        }
    }

    /// A summary of what the file yields, such as `12 vulnerabilities, 3 secret findings`.
    pub fn summary(&self) -> String {
        let parts = [
            (self.code_findings.len(), "finding"),
            (self.vulnerabilities.len(), "vulnerability"),
            (self.secret_findings.len(), "secret finding"),
            (self.dast_findings.len(), "DAST finding"),
            (self.components.len(), "SBOM component"),
            (self.attestations.len(), "attestation subject"),
            (self.vex_statements.len(), "VEX statement"),
            (self.audit_events.len(), "audit event"),
            (self.deploy_events.len(), "deploy event"),
            (self.merge_requests.len(), "merge request"),
            (self.gitops_applications.len(), "GitOps application"),
            (self.admission_policies.len(), "image verification rule"),
            (self.rollouts.len(), "workload rollout"),
            (self.role_bindings.len(), "role binding subject"),
        ];
        let listed: Vec<String> = parts
            .iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, noun)| format!("{count} {}", plural(noun, *count)))
            .collect();
        if listed.is_empty() {
            "no findings".to_string()
        } else {
            listed.join(", ")
        }
    }
}

fn plural(noun: &str, count: usize) -> String {
    match (count, noun.strip_suffix('y')) {
        (1, _) => noun.to_string(),
        (_, Some(stem)) => format!("{stem}ies"),
        _ => format!("{noun}s"),
    }
}
