//! `ReportModel`: everything a report shows, built once from a stored evaluation, sorted and free of
//! wall-clock time so the same store and evaluation always give the same bytes.

use schemars::JsonSchema;
use serde::Serialize;

use crate::controls::Framework;
pub use crate::evaluate::rollup::StatusCounts;
use crate::evaluate::waivers::{JudgedWaiver, Waiver};

/// The whole report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportModel {
    /// The report title.
    pub title: String,
    /// The organisation assessed.
    pub organisation: String,
    /// The evaluation reported on.
    pub evaluation_id: i64,
    /// The reporting period, for display (absent when evaluated as of a moment only).
    pub period: Option<String>,
    /// The moment the evidence was evaluated as of, for display.
    pub as_of: String,
    /// The same, as ISO 8601 UTC.
    pub as_of_iso: String,
    /// The start of the reporting period, as ISO 8601 UTC (absent when evaluated as of a moment only).
    pub period_start_iso: Option<String>,
    /// The pipeproof version that evaluated.
    pub tool_version: String,
    /// Digest of the control and framework files evaluated.
    pub catalogue_sha256: String,
    /// Digest over the ids and hashes of every evidence item the findings cite.
    pub evidence_digest: String,
    /// Headline numbers.
    pub summary: Summary,
    /// Per pipeline domain: controls, coverage and compliance.
    pub domains: Vec<DomainSummary>,
    /// Per framework: coverage, compliance and every requirement.
    pub frameworks: Vec<FrameworkSection>,
    /// Per framework, failing and undecided requirements, worst first.
    pub gaps: Vec<FrameworkGaps>,
    /// Every control with its findings.
    pub controls: Vec<ControlSection>,
    /// What could not be observed, and why.
    pub unobserved: Vec<Unobserved>,
    /// Evidence its source deletes before the period can be archived: what to archive, and by when.
    pub retention: Vec<RetentionRow>,
    /// Per control, the population of resources or events it judged, for auditors to sample from.
    pub populations: Vec<PopulationRow>,
    /// Every waiver entry and its state at the evaluation's moment.
    pub waivers: Vec<WaiverRow>,
    /// Waivers in force whose resource is a pattern (`wildcard: true`): the executive summary lists them.
    pub wildcard_waivers: Vec<WildcardWaiver>,
    /// Every manual attestation and its state at the evaluation's moment.
    pub attestations: Vec<AttestationRow>,
    /// Every evidence item the findings cite.
    pub evidence: Vec<EvidenceRow>,
    /// What changed since the previous period's evaluation (or the previous evaluation), when there is one.
    pub drift: Option<super::changes::Drift>,
    /// Per framework, compliance and coverage at each evaluation in the period (the last 90 days without one).
    pub trend: Vec<super::trend::TrendSeries>,
    /// The frameworks the report was limited to (`report --framework`); empty when it covers all.
    pub chosen_frameworks: Vec<String>,
    /// Entries of `unobserved` left out of this view (the HTML and PDF show at most `SHOWN_UNOBSERVED`).
    pub unobserved_omitted: usize,
}

/// Headline numbers.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Summary {
    /// Controls evaluated.
    pub controls_total: usize,
    /// Controls by verdict.
    pub controls: StatusCounts,
    /// Per-resource findings by verdict.
    pub findings: StatusCounts,
    /// Distinct resources judged.
    pub resources: usize,
    /// Controls by verdict as donut segments (pass, fail, unknown, waived, not applicable).
    pub controls_chart: Vec<BarSegment>,
}

/// One pipeline domain's controls, with coverage and compliance kept apart.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DomainSummary {
    /// The domain's name.
    pub domain: String,
    /// Controls evaluated in it.
    pub controls: usize,
    /// Its controls by verdict.
    pub counts: StatusCounts,
    /// Share of its controls with a decided verdict (pass or fail), in percent.
    pub coverage_percent: u32,
    /// Share of decided controls that pass, in percent.
    pub compliance_percent: u32,
}

/// One framework's results.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FrameworkSection {
    /// Framework id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Edition.
    pub version: String,
    /// Where the ids come from.
    pub source: String,
    /// Requirements in the framework.
    pub requirements_total: usize,
    /// Requirements with at least one automated control.
    pub automated: usize,
    /// Requirements by rolled-up verdict (automated ones only).
    pub counts: StatusCounts,
    /// Requirements no automated control covers.
    pub manual: usize,
    /// Of those, requirements covered by a valid manual attestation.
    pub attested: usize,
    /// Share of all requirements with a decided verdict (pass or fail), in percent.
    pub coverage_percent: u32,
    /// Share of decided requirements that pass, in percent.
    pub compliance_percent: u32,
    /// Bar segments for the chart (pass, fail, unknown, waived, attested, manual), in percent of all requirements.
    pub bar: Vec<BarSegment>,
    /// Every requirement in framework order.
    pub requirements: Vec<RequirementRow>,
    /// Which summary the framework's audit expects: `plain`, `levels`, `sections`, `indicators` or `releases`.
    pub summary: String,
    /// Per repository, the highest level met (frameworks with levels).
    pub levels: Option<super::levels::LevelSummary>,
    /// Per section, what the signer needs (frameworks summarised by sections).
    pub sections: Vec<super::sections::SectionSummary>,
    /// Per indicator, a timestamped validation result and its cadence (frameworks summarised by indicators).
    pub indicators: Vec<super::indicators::IndicatorResult>,
    /// Per release published in the period, its mapped requirements (frameworks summarised by releases).
    pub releases: Option<super::releases::ReleaseSummary>,
}

/// A segment of a stacked bar.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BarSegment {
    /// `pass`, `fail`, `unknown`, `waived`, `attested` or `manual`.
    pub status: String,
    /// Label.
    pub label: String,
    /// Count.
    pub count: usize,
    /// Width in percent (one decimal).
    pub percent: String,
    /// Where the segment starts, in percent (one decimal).
    pub offset: String,
}

/// Stacked segments (bar or donut) of (status, label, count) parts, each as a share of their sum.
pub fn segments(parts: &[(&str, &str, usize)]) -> Vec<BarSegment> {
    let total: usize = parts.iter().map(|(_, _, count)| count).sum();
    let width = |part: usize| {
        if total == 0 {
            "0.0".to_string()
        } else {
            format!("{:.1}", part as f64 * 100.0 / total as f64)
        }
    };
    let mut start = 0;
    parts
        .iter()
        .map(|&(status, label, count)| {
            let segment = BarSegment {
                status: status.into(),
                label: label.into(),
                count,
                percent: width(count),
                offset: width(start),
            };
            start += count;
            segment
        })
        .collect()
}

/// One requirement's status.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RequirementRow {
    /// Requirement id.
    pub id: String,
    /// Our short label.
    pub label: String,
    /// CI/CD relevance (H, M, -).
    pub cicd: String,
    /// `pass`, `fail`, `unknown`, `not_applicable`, or `manual` (no automated control).
    pub status: String,
    /// The status for people.
    pub status_label: String,
    /// Ids of the controls evidencing it.
    pub controls: Vec<String>,
    /// The valid manual attestation covering it, in words (only when no automated control does).
    pub attestation: Option<String>,
    /// The section, family or theme the framework files it under.
    pub group: Option<String>,
    /// The levels it applies at.
    pub levels: Vec<u32>,
    /// The id in the framework's own OSCAL catalog, when it has one.
    pub oscal_id: Option<String>,
    /// Controls whose evidence supports it without deciding it.
    pub supported_by: Vec<String>,
    /// Controls that ran with a parameter looser than the framework accepts (which makes it unknown), in words.
    pub limits: Vec<String>,
}

/// A manual attestation as judged at the evaluation's moment.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttestationRow {
    /// Position in the attestations file.
    pub entry: usize,
    /// What it covers: framework name and requirement id, or the control (and the resources, when limited).
    pub covers: String,
    /// What is attested.
    pub statement: String,
    /// Who attested, and when.
    pub attested: String,
    /// `valid`, `not_yet_valid`, `expired` or `invalid`.
    pub state: String,
    /// What the state means, including whether the document's hash was checked.
    pub note: String,
    /// The document and its sha256.
    pub document: String,
}

/// One framework's gaps.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FrameworkGaps {
    /// Framework id.
    pub framework_id: String,
    /// Framework name.
    pub framework: String,
    /// Its failing and undecided requirements, worst first.
    pub gaps: Vec<Gap>,
}

/// A failing or undecided requirement.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Gap {
    /// Requirement id.
    pub requirement: String,
    /// Requirement label.
    pub label: String,
    /// `fail` or `unknown`.
    pub status: String,
    /// The status for people.
    pub status_label: String,
    /// Worst severity among its failing (or undecided) controls.
    pub severity: String,
    /// Resources failing (or undecided) across those controls.
    pub resources: usize,
    /// The controls behind the gap, with what to do.
    pub actions: Vec<GapAction>,
}

/// A control behind a gap and its remediation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GapAction {
    /// Control id.
    pub control: String,
    /// Control title.
    pub title: String,
    /// What to do.
    pub remediation: String,
}

/// One control's section.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ControlSection {
    /// Control id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Domain label.
    pub domain: String,
    /// `state` or `operation`.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// What must hold.
    pub statement: String,
    /// Why.
    pub rationale: String,
    /// What to do on failure.
    pub remediation: String,
    /// Rolled-up verdict.
    pub status: String,
    /// The verdict for people.
    pub status_label: String,
    /// Why it could not be evaluated, if so.
    pub error: Option<String>,
    /// Parameters used.
    pub params: Vec<ParamRow>,
    /// Framework mappings, e.g. `SOC 2: CC8.1, CC5.2`.
    pub mappings: Vec<MappingRow>,
    /// Findings by verdict.
    pub counts: StatusCounts,
    /// Per-resource findings.
    pub findings: Vec<FindingRow>,
    /// How many of its verdicts rest on incomplete or partial evidence.
    pub incomplete_evidence: usize,
    /// Findings left out of this view (the HTML and PDF show at most `SHOWN_PER_CONTROL`, worst first; the JSON,
    /// CSV and bundle populations hold them all).
    pub findings_omitted: usize,
}

/// A parameter as used.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ParamRow {
    /// Name.
    pub name: String,
    /// Value, as JSON text.
    pub value: String,
    /// `default` or `policy`.
    pub origin: String,
}

/// A control's mapping to one framework.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MappingRow {
    /// Framework name.
    pub framework: String,
    /// Framework id.
    pub framework_id: String,
    /// Requirement ids, comma-separated.
    pub requirements: String,
}

/// One per-resource verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FindingRow {
    /// Control id.
    pub control: String,
    /// Resource.
    pub resource: String,
    /// Verdict.
    pub status: String,
    /// Verdict for people.
    pub status_label: String,
    /// Why.
    pub reason: String,
    /// The evidence item id, if any.
    pub evidence_id: Option<i64>,
    /// For a waived finding: the verdict the waiver covers.
    pub underlying_status: Option<String>,
    /// For a waived finding: the waiver, in words.
    pub waiver: Option<String>,
    /// Over a period: whether the control held at every snapshot (state controls only).
    pub held_throughout: Option<bool>,
    /// Over a period: how it fared across the snapshots, in words.
    pub throughout: Option<String>,
    /// Whether the evidence it cites is incomplete or partial: a scan that did not complete or covered only part
    /// of its subject, or an API listing cut short.
    pub incomplete_evidence: bool,
}

/// A waiver entry as judged at the evaluation's moment.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WaiverRow {
    /// Position in the waivers file.
    pub entry: usize,
    /// Control id (empty when unreadable).
    pub control: String,
    /// Resource pattern.
    pub resource: String,
    /// `active`, `not_yet_valid`, `expired` or `malformed`.
    pub state: String,
    /// What the state means for this entry.
    pub note: String,
    /// Who approved it.
    pub approver: String,
    /// The ticket, if any.
    pub ticket: String,
    /// Why.
    pub justification: String,
}

/// A waiver in force that waives every resource matching a pattern.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WildcardWaiver {
    /// Position in the waivers file.
    pub entry: usize,
    /// The control it waives.
    pub control: String,
    /// The pattern of resources it waives.
    pub pattern: String,
    /// Who approved it.
    pub approver: String,
    /// The ticket, if any.
    pub ticket: String,
    /// When it expires.
    pub expires: String,
    /// How many findings of this evaluation it waived.
    pub waived: usize,
}

/// The waivers in force whose resource is a pattern, with how many findings each waived.
pub(super) fn wildcard_waivers(judged: &[JudgedWaiver], controls: &[ControlSection]) -> Vec<WildcardWaiver> {
    judged
        .iter()
        .filter(|judged| judged.state == crate::evaluate::waivers::WaiverState::Active)
        .filter_map(|judged| judged.waiver.as_ref().map(|waiver| (judged.entry, waiver)))
        .filter(|(_, waiver)| waiver.is_pattern())
        .map(|(entry, waiver)| WildcardWaiver {
            entry,
            control: waiver.control.clone(),
            pattern: waiver.resource.clone(),
            approver: waiver.approver.clone(),
            ticket: waiver.ticket.clone().unwrap_or_default(),
            expires: waiver.expires.clone(),
            waived: controls
                .iter()
                .filter(|control| control.id == waiver.control)
                .flat_map(|control| &control.findings)
                .filter(|finding| {
                    finding.status == "waived" && crate::glob::matches(&waiver.resource, &finding.resource)
                })
                .count(),
        })
        .collect()
}

/// Describes an applied waiver in one line.
pub(super) fn describe_waiver(waiver: &Waiver) -> String {
    let ticket = waiver.ticket.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
    format!("approved by {}{ticket} until {}: {}", waiver.approver, waiver.expires, waiver.justification)
}

/// One control's population: what an auditor samples from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PopulationRow {
    /// Control id.
    pub control: String,
    /// Control title.
    pub title: String,
    /// `state` (resources as of the period end) or `operation` (events in the period).
    pub kind: String,
    /// Items judged.
    pub items: usize,
    /// Items by verdict.
    pub counts: StatusCounts,
    /// The CSV listing every item with its evidence, inside an evidence bundle.
    pub file: String,
}

/// Something that could not be observed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Unobserved {
    /// Control id.
    pub control: String,
    /// Resource (or `(all)` when the whole control could not run).
    pub resource: String,
    /// Why.
    pub reason: String,
}

/// Evidence its source deletes before the period can be archived.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RetentionRow {
    /// The source, in words.
    pub source: String,
    /// The repository, organisation or log source.
    pub subject: String,
    /// What is at risk.
    pub what: String,
    /// How long the source keeps it, and where that figure comes from.
    pub retention: String,
    /// The day the source starts deleting it (UTC).
    pub deleted_from: String,
    /// The archive date aimed at: the period's end plus the configured delay (UTC).
    pub archive_by: String,
    /// What to do, and by when.
    pub action: String,
}

impl RetentionRow {
    pub(super) fn from_risk(risk: &crate::evaluate::retention::RetentionRisk) -> RetentionRow {
        RetentionRow {
            source: risk.source_label(),
            subject: risk.subject.clone(),
            what: risk.what(),
            retention: format!("{} days: {}", risk.retention_days, risk.retention_origin),
            deleted_from: risk.expires_from.format("%Y-%m-%d").to_string(),
            archive_by: risk.archive_by.format("%Y-%m-%d").to_string(),
            action: risk.action(),
        }
    }
}

/// An evidence item cited by findings.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EvidenceRow {
    /// Evidence id.
    pub id: i64,
    /// Source.
    pub source: String,
    /// Kind.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// When collected (UTC).
    pub collected_at: String,
    /// The same, as ISO 8601 UTC.
    pub collected_at_iso: String,
    /// sha256 of the raw bytes.
    pub sha256: String,
    /// Where an evidence bundle keeps its raw bytes: `evidence/<first two hex digits>/<sha256>`.
    pub file: String,
}

/// The digest over the ids and hashes of evidence items, as `ReportModel::evidence_digest` holds it.
pub fn evidence_digest(evidence: &[EvidenceRow]) -> String {
    let lines: String = evidence.iter().map(|e| format!("{} {}\n", e.id, e.sha256)).collect();
    crate::store::sha256_hex(lines.as_bytes())
}

/// Where an evidence bundle keeps the raw bytes with this sha256.
pub fn evidence_file(sha256: &str) -> String {
    format!("evidence/{}/{sha256}", sha256.get(..2).unwrap_or("00"))
}

pub(super) fn framework_label(id: &str, frameworks: &[Framework]) -> String {
    frameworks.iter().find(|f| f.id == id).map(|f| f.name.clone()).unwrap_or_else(|| id.to_string())
}

pub(super) fn waiver_row(judged: &JudgedWaiver) -> WaiverRow {
    let waiver = judged.waiver.as_ref();
    let text = |pick: fn(&Waiver) -> String| waiver.map(pick).unwrap_or_default();
    WaiverRow {
        entry: judged.entry,
        control: text(|w| w.control.clone()),
        resource: text(|w| w.resource.clone()),
        state: serde_json::to_value(&judged.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        note: judged.note.clone(),
        approver: text(|w| w.approver.clone()),
        ticket: text(|w| w.ticket.clone().unwrap_or_default()),
        justification: text(|w| w.justification.clone()),
    }
}

#[cfg(test)]
pub use super::samples::sample_model;
pub use super::samples::synthetic_model;
