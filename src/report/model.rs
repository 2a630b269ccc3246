//! `ReportModel`: everything a report shows, built once from a stored evaluation, sorted and free of
//! wall-clock time so the same store and evaluation always give the same bytes.

use std::collections::BTreeMap;

use anyhow::{anyhow, Context, Result};
use chrono::NaiveDateTime;
use duckdb::{params, Connection};
use schemars::JsonSchema;
use serde::Serialize;

use crate::controls::{Control, Framework, Severity};
use crate::evaluate::attestations::{Attestation, Covers, JudgedAttestation};
pub use crate::evaluate::rollup::StatusCounts;
use crate::evaluate::rollup::{self, percent, Standing};
use crate::evaluate::throughout::Throughout;
use crate::evaluate::waivers::{JudgedWaiver, Waiver};
use crate::evaluate::{EvaluatedCatalogue, ParamUse, Status};
use crate::period::Period;
use crate::store::sha256_hex;

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
fn segments(parts: &[(&str, &str, usize)]) -> Vec<BarSegment> {
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
    /// of its subject, or an API listing GitHub cut short.
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
fn wildcard_waivers(judged: &[JudgedWaiver], controls: &[ControlSection]) -> Vec<WildcardWaiver> {
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
fn describe_waiver(waiver: &Waiver) -> String {
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
    fn from_risk(risk: &crate::evaluate::retention::RetentionRisk) -> RetentionRow {
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

/// Where an evidence bundle keeps the raw bytes with this sha256.
pub fn evidence_file(sha256: &str) -> String {
    format!("evidence/{}/{sha256}", sha256.get(..2).unwrap_or("00"))
}

fn framework_label(id: &str, frameworks: &[Framework]) -> String {
    frameworks.iter().find(|f| f.id == id).map(|f| f.name.clone()).unwrap_or_else(|| id.to_string())
}

fn waiver_row(judged: &JudgedWaiver) -> WaiverRow {
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

type StoredEvaluation = (NaiveDateTime, String, String, String, Option<Period>, Option<String>, Option<String>);

struct StoredOutcome {
    status: Status,
    error: Option<String>,
    params: BTreeMap<String, ParamUse>,
    findings: Vec<FindingRow>,
}

impl ReportModel {
    /// Builds the model for an evaluation (the latest when `evaluation_id` is `None`).
    pub fn load(conn: &Connection, evaluation_id: Option<i64>, organisation: Option<&str>) -> Result<ReportModel> {
        Self::load_parts(conn, evaluation_id, organisation, true)
    }

    /// The model without per-resource findings or evidence: every verdict per control and requirement, cheaply.
    pub fn load_summary(conn: &Connection, evaluation_id: i64) -> Result<ReportModel> {
        Self::load_parts(conn, Some(evaluation_id), None, false)
    }

    fn load_parts(
        conn: &Connection,
        evaluation_id: Option<i64>,
        organisation: Option<&str>,
        with_findings: bool,
    ) -> Result<ReportModel> {
        let evaluation_id = match evaluation_id {
            Some(id) => id,
            None => crate::evaluate::which::latest(conn)?,
        };
        let (as_of, tool_version, catalogue_sha256, catalogue_json, period, waivers_json, attestations_json): StoredEvaluation = conn
            .query_row(
                "SELECT as_of, tool_version, catalogue_sha256, catalogue::VARCHAR, period_label, period_start, period_end, \
                 waivers::VARCHAR, attestations::VARCHAR FROM evaluations WHERE evaluation_id = ?",
                params![evaluation_id],
                |row| {
                    let period = match (row.get(4)?, row.get(5)?, row.get(6)?) {
                        (Some(label), Some(start), Some(end)) => Some(Period { label, start, end }),
                        _ => None,
                    };
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, period, row.get(7)?, row.get(8)?))
                },
            )
            .map_err(|_| crate::error::input_error(format!("evaluation {evaluation_id} is not in the store")))?;
        let catalogue: EvaluatedCatalogue =
            serde_json::from_str(&catalogue_json).context("the evaluation's stored catalogue is unreadable")?;
        let outcomes = load_outcomes(conn, evaluation_id, with_findings)?;
        let judged: Vec<JudgedWaiver> = match waivers_json {
            Some(text) => serde_json::from_str(&text).context("the evaluation's stored waivers are unreadable")?,
            None => Vec::new(),
        };
        let waivers = judged.iter().map(waiver_row).collect();
        let attestations: Vec<JudgedAttestation> = match attestations_json {
            Some(text) => serde_json::from_str(&text).context("the evaluation's stored attestations are unreadable")?,
            None => Vec::new(),
        };
        let organisation = match organisation {
            Some(name) => name.to_string(),
            None => conn
                .query_row("SELECT organisations FROM evaluations WHERE evaluation_id = ?", [evaluation_id], |row| {
                    row.get::<_, Option<String>>(0)
                })?
                .unwrap_or_else(|| "Unnamed organisation".to_string()),
        };
        let trend_start = period.as_ref().map(|p| p.start).unwrap_or(as_of - chrono::Duration::days(90));
        let trend = super::trend::load(conn, trend_start, as_of)?;
        let evidence = if with_findings { load_evidence(conn, evaluation_id)? } else { Vec::new() };
        let digest_input: String = evidence.iter().map(|e| format!("{} {}\n", e.id, e.sha256)).collect();
        let mut model = build(BuildInput {
            organisation,
            attestations,
            waivers,
            evaluation_id,
            period,
            as_of,
            tool_version,
            catalogue_sha256,
            evidence_digest: sha256_hex(digest_input.as_bytes()),
            catalogue,
            outcomes,
            evidence,
        });
        model.trend = trend;
        model.wildcard_waivers = wildcard_waivers(&judged, &model.controls);
        model.retention =
            crate::evaluate::retention::load(conn, evaluation_id)?.iter().map(RetentionRow::from_risk).collect();
        Ok(model)
    }

    /// The evidence appendix by id, for renderers that look items up per finding.
    pub fn evidence_by_id(&self) -> BTreeMap<i64, &EvidenceRow> {
        self.evidence.iter().map(|e| (e.id, e)).collect()
    }

    /// The model as pretty JSON (stable key order).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }
}

fn load_outcomes(
    conn: &Connection,
    evaluation_id: i64,
    with_findings: bool,
) -> Result<BTreeMap<String, StoredOutcome>> {
    let mut outcomes = BTreeMap::new();
    let mut statement = conn.prepare(
        "SELECT control_id, status, error, params::VARCHAR FROM control_outcomes WHERE evaluation_id = ? ORDER BY control_id",
    )?;
    let mut rows = statement.query(params![evaluation_id])?;
    while let Some(row) = rows.next()? {
        let control_id: String = row.get(0)?;
        let status_text: String = row.get(1)?;
        let params_json: String = row.get(3)?;
        outcomes.insert(
            control_id.clone(),
            StoredOutcome {
                status: Status::parse(&status_text)
                    .ok_or_else(|| anyhow!("stored status {status_text:?} is invalid"))?,
                error: row.get(2)?,
                params: serde_json::from_str(&params_json)?,
                findings: Vec::new(),
            },
        );
    }
    if !with_findings {
        return Ok(outcomes);
    }
    let mut statement = conn.prepare(
        "SELECT r.control_id, r.resource, r.status, r.reason, r.evidence_id, r.underlying_status, r.waiver::VARCHAR, \
                r.throughout::VARCHAR, \
                coalesce((e.provenance->>'completeness') IN ('partial', 'failed') \
                         OR (e.provenance->>'pagination_complete') = 'false', false) \
         FROM control_results r LEFT JOIN evidence e ON e.evidence_id = r.evidence_id \
         WHERE r.evaluation_id = ? \
         ORDER BY r.control_id, r.resource, r.status, r.reason",
    )?;
    let mut rows = statement.query(params![evaluation_id])?;
    while let Some(row) = rows.next()? {
        let control_id: String = row.get(0)?;
        let status_text: String = row.get(2)?;
        let status = Status::parse(&status_text).ok_or_else(|| anyhow!("stored status {status_text:?} is invalid"))?;
        let throughout: Option<Throughout> =
            row.get::<_, Option<String>>(7)?.and_then(|text| serde_json::from_str(&text).ok());
        if let Some(outcome) = outcomes.get_mut(&control_id) {
            outcome.findings.push(FindingRow {
                control: control_id,
                resource: row.get(1)?,
                status: status.as_str().to_string(),
                status_label: status.label().to_string(),
                reason: row.get(3)?,
                evidence_id: row.get(4)?,
                underlying_status: row
                    .get::<_, Option<String>>(5)?
                    .and_then(|s| Status::parse(&s))
                    .map(|s| s.label().to_string()),
                waiver: row
                    .get::<_, Option<String>>(6)?
                    .and_then(|text| serde_json::from_str::<Waiver>(&text).ok())
                    .map(|waiver| describe_waiver(&waiver)),
                held_throughout: throughout.as_ref().map(|t| t.held),
                throughout: throughout.as_ref().map(Throughout::summary),
                incomplete_evidence: row.get(8)?,
            });
        }
    }
    Ok(outcomes)
}

fn load_evidence(conn: &Connection, evaluation_id: i64) -> Result<Vec<EvidenceRow>> {
    let mut statement = conn.prepare(
        "SELECT e.evidence_id, e.source, e.kind, e.subject, e.collected_at, e.sha256 FROM evidence e \
         WHERE e.evidence_id IN (SELECT evidence_id FROM control_results WHERE evaluation_id = ?) ORDER BY e.evidence_id",
    )?;
    let mut rows = statement.query(params![evaluation_id])?;
    let mut evidence = Vec::new();
    while let Some(row) = rows.next()? {
        let collected_at: NaiveDateTime = row.get(4)?;
        let sha256: String = row.get(5)?;
        evidence.push(EvidenceRow {
            id: row.get(0)?,
            source: row.get(1)?,
            kind: row.get(2)?,
            subject: row.get(3)?,
            collected_at: crate::time::display_utc(&collected_at),
            collected_at_iso: collected_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            file: evidence_file(&sha256),
            sha256,
        });
    }
    Ok(evidence)
}

struct BuildInput {
    organisation: String,
    attestations: Vec<JudgedAttestation>,
    waivers: Vec<WaiverRow>,
    evaluation_id: i64,
    period: Option<Period>,
    as_of: NaiveDateTime,
    tool_version: String,
    catalogue_sha256: String,
    evidence_digest: String,
    catalogue: EvaluatedCatalogue,
    outcomes: BTreeMap<String, StoredOutcome>,
    evidence: Vec<EvidenceRow>,
}

fn build(input: BuildInput) -> ReportModel {
    let BuildInput {
        organisation,
        attestations,
        waivers,
        evaluation_id,
        period,
        as_of,
        tool_version,
        catalogue_sha256,
        evidence_digest,
        catalogue,
        outcomes,
        evidence,
    } = input;
    let control_status = |id: &str| outcomes.get(id).map(|o| o.status).unwrap_or(Status::Unknown);
    let attested = rollup::attested_requirements(&attestations);
    let attestation_rows: Vec<AttestationRow> = attestations
        .iter()
        .map(|judged| {
            let a = judged.attestation.as_ref();
            let covers = match a.map(Attestation::covers) {
                Some(Ok(Covers::Requirement(framework, requirement))) => {
                    format!("{} {requirement}", framework_label(framework, &catalogue.frameworks))
                }
                Some(Ok(Covers::Control(..))) => a.map(Attestation::subject).unwrap_or_default(),
                _ => String::new(),
            };
            AttestationRow {
                entry: judged.entry,
                covers,
                statement: a.map(|a| a.statement.clone()).unwrap_or_default(),
                attested: a.map(|a| format!("{} on {}", a.attested_by, a.attested_at)).unwrap_or_default(),
                state: serde_json::to_value(judged.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                note: judged.note.clone(),
                document: a.map(|a| format!("{} (sha256 {})", a.document, a.document_sha256)).unwrap_or_default(),
            }
        })
        .collect();

    let mut summary = Summary {
        controls_total: 0,
        controls: StatusCounts::default(),
        findings: StatusCounts::default(),
        resources: 0,
        controls_chart: Vec::new(),
    };
    let mut resources = std::collections::BTreeSet::new();
    let mut controls = Vec::new();
    let mut unobserved = Vec::new();
    for control in &catalogue.controls {
        let Some(outcome) = outcomes.get(&control.id) else {
            continue;
        };
        summary.controls_total += 1;
        summary.controls.add(outcome.status);
        let mut counts = StatusCounts::default();
        for finding in &outcome.findings {
            let status = Status::parse(&finding.status).unwrap_or(Status::Unknown);
            counts.add(status);
            summary.findings.add(status);
            resources.insert(finding.resource.clone());
            if status == Status::Unknown {
                unobserved.push(Unobserved {
                    control: control.id.clone(),
                    resource: finding.resource.clone(),
                    reason: finding.reason.clone(),
                });
            }
        }
        if let Some(error) = &outcome.error {
            unobserved.push(Unobserved {
                control: control.id.clone(),
                resource: "(all)".into(),
                reason: error.clone(),
            });
        }
        controls.push(control_section(control, outcome, counts, &catalogue.frameworks));
    }
    summary.resources = resources.len();
    let by_status = &summary.controls;
    summary.controls_chart = segments(&[
        ("pass", "Pass", by_status.pass),
        ("fail", "Fail", by_status.fail),
        ("unknown", "Unknown", by_status.unknown),
        ("waived", "Waived", by_status.waived),
        ("not_applicable", "Not applicable", by_status.not_applicable),
    ]);
    let mut by_domain: BTreeMap<crate::controls::Domain, StatusCounts> = BTreeMap::new();
    for control in &catalogue.controls {
        if let Some(outcome) = outcomes.get(&control.id) {
            by_domain.entry(control.domain).or_default().add(outcome.status);
        }
    }
    let domains = by_domain
        .into_iter()
        .map(|(domain, counts)| {
            let decided = counts.pass + counts.fail;
            DomainSummary {
                domain: domain.label().to_string(),
                controls: counts.total(),
                coverage_percent: percent(decided, counts.total()),
                compliance_percent: percent(counts.pass, decided),
                counts,
            }
        })
        .collect();

    let frameworks: Vec<FrameworkSection> = catalogue
        .frameworks
        .iter()
        .map(|framework| framework_section(framework, &catalogue.controls, &control_status, &attested))
        .collect();
    let gaps = gaps(&frameworks, &catalogue.controls, &outcomes);

    ReportModel {
        title: format!("CI/CD pipeline security assessment: {organisation}"),
        organisation,
        evaluation_id,
        period: period.as_ref().map(Period::describe),
        as_of: crate::time::display_utc(&as_of),
        as_of_iso: as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        period_start_iso: period.as_ref().map(|p| p.start.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        tool_version,
        catalogue_sha256,
        evidence_digest,
        summary,
        domains,
        frameworks,
        gaps,
        populations: controls
            .iter()
            .map(|c: &ControlSection| PopulationRow {
                control: c.id.clone(),
                title: c.title.clone(),
                kind: c.kind.clone(),
                items: c.findings.len(),
                counts: c.counts.clone(),
                file: format!("populations/{}.csv", c.id),
            })
            .collect(),
        controls,
        unobserved,
        retention: Vec::new(),
        attestations: attestation_rows,
        waivers,
        wildcard_waivers: Vec::new(),
        evidence,
        drift: None,
        trend: Vec::new(),
    }
}

fn control_section(
    control: &Control,
    outcome: &StoredOutcome,
    counts: StatusCounts,
    frameworks: &[Framework],
) -> ControlSection {
    ControlSection {
        id: control.id.clone(),
        title: control.title.clone(),
        domain: control.domain.label().to_string(),
        kind: format!("{:?}", control.kind).to_lowercase(),
        severity: control.severity.as_str().to_string(),
        statement: control.statement.trim().to_string(),
        rationale: control.rationale.trim().to_string(),
        remediation: control.remediation.trim().to_string(),
        status: outcome.status.as_str().to_string(),
        status_label: outcome.status.label().to_string(),
        error: outcome.error.clone(),
        params: outcome
            .params
            .iter()
            .map(|(name, used)| ParamRow {
                name: name.clone(),
                value: used.value.to_string(),
                origin: used.origin.clone(),
            })
            .collect(),
        mappings: control
            .mappings
            .iter()
            .map(|(framework, ids)| MappingRow {
                framework: framework_label(framework, frameworks),
                framework_id: framework.clone(),
                requirements: ids.join(", "),
            })
            .collect(),
        counts,
        incomplete_evidence: outcome.findings.iter().filter(|finding| finding.incomplete_evidence).count(),
        findings: outcome.findings.clone(),
    }
}

fn framework_section(
    framework: &Framework,
    controls: &[Control],
    control_status: &dyn Fn(&str) -> Status,
    attested: &BTreeMap<(String, String), String>,
) -> FrameworkSection {
    let rolled = rollup::framework(framework, controls, control_status, attested);
    let requirements: Vec<RequirementRow> = framework
        .requirements
        .iter()
        .zip(rolled.requirements)
        .map(|(requirement, verdict)| {
            let (status, label, attestation) = match verdict.standing {
                Standing::Decided(status) => (status.as_str().to_string(), status.label().to_string(), None),
                Standing::Attested(summary) => ("attested".to_string(), "Attested (manual)".to_string(), Some(summary)),
                Standing::Manual => ("manual".to_string(), "Manual evidence".to_string(), None),
            };
            RequirementRow {
                id: verdict.id,
                label: requirement.label.clone(),
                cicd: requirement.cicd.clone(),
                status,
                status_label: label,
                attestation,
                controls: verdict.controls,
            }
        })
        .collect();
    let counts = rolled.counts;
    let (manual, attested_count) = (rolled.manual, rolled.attested);
    let total = requirements.len();
    let bar = segments(&[
        ("pass", "Pass", counts.pass),
        ("fail", "Fail", counts.fail),
        ("unknown", "Unknown", counts.unknown + counts.not_applicable),
        ("waived", "Waived", counts.waived),
        ("attested", "Attested (manual)", attested_count),
        ("manual", "Manual evidence needed", manual - attested_count),
    ]);
    FrameworkSection {
        id: framework.id.clone(),
        name: framework.name.clone(),
        version: framework.version.clone(),
        source: framework.source.clone(),
        requirements_total: total,
        automated: total - manual,
        coverage_percent: rolled.coverage_percent,
        compliance_percent: rolled.compliance_percent,
        counts,
        manual,
        attested: attested_count,
        bar,
        requirements,
    }
}

fn gaps(
    frameworks: &[FrameworkSection],
    controls: &[Control],
    outcomes: &BTreeMap<String, StoredOutcome>,
) -> Vec<FrameworkGaps> {
    let mut all = Vec::new();
    for framework in frameworks {
        let mut gaps = Vec::new();
        for requirement in &framework.requirements {
            let status = match requirement.status.as_str() {
                "fail" => Status::Fail,
                "unknown" => Status::Unknown,
                _ => continue,
            };
            let behind: Vec<&Control> = controls
                .iter()
                .filter(|c| {
                    requirement.controls.contains(&c.id) && outcomes.get(&c.id).map(|o| o.status) == Some(status)
                })
                .collect();
            let severity = behind.iter().map(|c| c.severity).min().unwrap_or(Severity::Low);
            let resources = behind
                .iter()
                .flat_map(|c| {
                    outcomes[&c.id].findings.iter().filter(|f| f.status == status.as_str()).map(|f| f.resource.clone())
                })
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            gaps.push((
                (status, severity.rank(), std::cmp::Reverse(resources), requirement.id.clone()),
                Gap {
                    requirement: requirement.id.clone(),
                    label: requirement.label.clone(),
                    status: status.as_str().to_string(),
                    status_label: status.label().to_string(),
                    severity: severity.as_str().to_string(),
                    resources,
                    actions: behind
                        .iter()
                        .map(|c| GapAction {
                            control: c.id.clone(),
                            title: c.title.clone(),
                            remediation: c.remediation.trim().to_string(),
                        })
                        .collect(),
                },
            ));
        }
        gaps.sort_by(|a, b| a.0.cmp(&b.0));
        if !gaps.is_empty() {
            all.push(FrameworkGaps {
                framework_id: framework.id.clone(),
                framework: framework.name.clone(),
                gaps: gaps.into_iter().map(|(_, gap)| gap).collect(),
            });
        }
    }
    all
}

/// A large made-up model for benchmarks: every built-in control judges all but every eleventh of `resources`
/// resources (5,000 findings for 500 resources), with mixed verdicts, long reasons and one evidence item each.
pub fn synthetic_model(resources: usize) -> Result<ReportModel> {
    let catalogue = crate::controls::Catalogue::load(&[] as &[&std::path::Path])?;
    let statuses = [Status::Pass, Status::Pass, Status::Fail, Status::Unknown, Status::Pass, Status::NotApplicable];
    let mut outcomes = BTreeMap::new();
    for (index, control) in catalogue.controls.iter().enumerate() {
        let findings: Vec<FindingRow> = (0..resources)
            .filter(|r| (r + index) % 11 != 0)
            .map(|r| {
                let status = statuses[(r * 7 + index * 3) % statuses.len()];
                FindingRow {
                    control: control.id.clone(),
                    resource: format!("synthetic-org/service-{r:04}"),
                    status: status.as_str().into(),
                    status_label: status.label().into(),
                    reason: format!(
                        "Branch release/{r} of synthetic-org/service-{r:04}: required reviews {} and status checks {}                          as of the latest observation",
                        r % 3,
                        if r % 2 == 0 { "enforced" } else { "missing" }
                    ),
                    evidence_id: Some(r as i64 + 1),
                    underlying_status: None,
                    waiver: None,
                    held_throughout: None,
                    throughout: None,
                    incomplete_evidence: r % 13 == 0,
                }
            })
            .collect();
        let status = if findings.iter().any(|f| f.status == "fail") { Status::Fail } else { Status::Pass };
        outcomes.insert(control.id.clone(), StoredOutcome { status, error: None, params: BTreeMap::new(), findings });
    }
    let evidence = (0..resources)
        .map(|r| {
            let sha256 = sha256_hex(format!("synthetic evidence {r}").as_bytes());
            EvidenceRow {
                id: r as i64 + 1,
                source: "github".into(),
                kind: "github.branch_protection".into(),
                subject: format!("synthetic-org/service-{r:04}@main"),
                collected_at: "2026-09-30 10:00:00 UTC".into(),
                collected_at_iso: "2026-09-30T10:00:00Z".into(),
                file: evidence_file(&sha256),
                sha256,
            }
        })
        .collect();
    Ok(build(BuildInput {
        organisation: "Synthetic Org".into(),
        attestations: Vec::new(),
        waivers: Vec::new(),
        evaluation_id: 1,
        period: Some(Period::parse("2026-Q3")?),
        as_of: NaiveDateTime::parse_from_str("2026-09-30 23:59:59", "%Y-%m-%d %H:%M:%S")?,
        tool_version: crate::VERSION.into(),
        catalogue_sha256: catalogue.digest(),
        evidence_digest: "0".repeat(64),
        catalogue: EvaluatedCatalogue {
            controls: catalogue.controls.clone(),
            frameworks: catalogue.frameworks.clone(),
            sources: catalogue.sources.clone(),
        },
        outcomes,
        evidence,
    }))
}

/// A small model built from the built-in catalogue and made-up outcomes, for renderer tests.
#[cfg(test)]
pub fn sample_model() -> ReportModel {
    let catalogue = crate::controls::Catalogue::load(&[] as &[&std::path::Path]).expect("built-in catalogue");
    let finding = |control: &str, resource: &str, status: Status, reason: &str| FindingRow {
        control: control.into(),
        resource: resource.into(),
        status: status.as_str().into(),
        status_label: status.label().into(),
        reason: reason.into(),
        evidence_id: Some(1),
        underlying_status: None,
        waiver: None,
        held_throughout: None,
        throughout: None,
        incomplete_evidence: false,
    };
    let mut outcomes = BTreeMap::new();
    for control in &catalogue.controls {
        let (status, findings) = match control.id.as_str() {
            "SRC-05" => {
                (Status::Fail, vec![finding("SRC-05", "o/a", Status::Fail, "Branch main has no branch protection")])
            }
            "SRC-06" => (Status::Unknown, vec![finding("SRC-06", "o/b", Status::Unknown, "not visible")]),
            _ => (Status::Pass, vec![finding(&control.id, "o/a", Status::Pass, "ok")]),
        };
        outcomes.insert(control.id.clone(), StoredOutcome { status, error: None, params: BTreeMap::new(), findings });
    }
    build(BuildInput {
        organisation: "Example <Org>".into(),
        attestations: Vec::new(),
        waivers: Vec::new(),
        evaluation_id: 7,
        period: Some(Period::parse("2026-Q3").unwrap()),
        as_of: NaiveDateTime::parse_from_str("2026-09-30 23:59:59", "%Y-%m-%d %H:%M:%S").unwrap(),
        tool_version: "test".into(),
        catalogue_sha256: "0".repeat(64),
        evidence_digest: "1".repeat(64),
        catalogue: EvaluatedCatalogue {
            controls: catalogue.controls.clone(),
            frameworks: catalogue.frameworks.clone(),
            sources: catalogue.sources.clone(),
        },
        outcomes,
        evidence: vec![EvidenceRow {
            id: 1,
            source: "github".into(),
            kind: "github.branch_protection".into(),
            subject: "o/a@main".into(),
            collected_at: "2026-09-30 10:00:00 UTC".into(),
            collected_at_iso: "2026-09-30T10:00:00Z".into(),
            sha256: "2".repeat(64),
            file: evidence_file(&"2".repeat(64)),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_roll_up_their_controls_and_coverage_is_separate_from_compliance() {
        let model = sample_model();
        let soc2 = model.frameworks.iter().find(|f| f.id == "soc2").unwrap();
        let cc81 = soc2.requirements.iter().find(|r| r.id == "CC8.1").unwrap();
        assert_eq!(cc81.status, "fail", "SRC-05 fails and maps to CC8.1");
        let pi13 = soc2.requirements.iter().find(|r| r.id == "PI1.3").unwrap();
        assert_eq!(pi13.status, "unknown", "only SRC-06 maps to PI1.3 and it is unknown");
        assert_eq!(soc2.requirements.iter().find(|r| r.id == "CC1.1").unwrap().status, "manual");
        assert_eq!(soc2.automated + soc2.manual, soc2.requirements_total);
        let decided = soc2.counts.pass + soc2.counts.fail;
        assert_eq!(
            soc2.coverage_percent as usize,
            (decided * 100 + soc2.requirements_total / 2) / soc2.requirements_total
        );
        assert_eq!(soc2.compliance_percent as usize, (soc2.counts.pass * 100 + decided / 2) / decided);
    }

    #[test]
    fn domains_keep_coverage_and_compliance_apart() {
        let model = sample_model();
        let catalogue = crate::controls::Catalogue::load(&[] as &[&std::path::Path]).unwrap();
        let total = catalogue.controls.iter().filter(|c| c.domain == crate::controls::Domain::Source).count();
        let source = model.domains.iter().find(|d| d.domain == "Source code").unwrap();
        assert_eq!(source.controls, total);
        assert_eq!(
            (source.counts.pass, source.counts.fail, source.counts.unknown),
            (total - 2, 1, 1),
            "SRC-05 fails, SRC-06 is unknown"
        );
        assert_eq!(source.coverage_percent, percent(total - 1, total));
        assert_eq!(source.compliance_percent, percent(total - 2, total - 1));
    }

    #[test]
    fn gaps_put_failures_before_unknowns() {
        let model = sample_model();
        let soc2 = model.gaps.iter().find(|g| g.framework_id == "soc2").unwrap();
        let first_unknown = soc2.gaps.iter().position(|g| g.status == "unknown").unwrap();
        assert!(soc2.gaps[..first_unknown].iter().all(|g| g.status == "fail"));
        assert!(soc2.gaps[first_unknown..].iter().all(|g| g.status == "unknown"));
    }

    #[test]
    fn the_model_is_the_json_report() {
        let json = sample_model().to_json().unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["organisation"], "Example <Org>");
        assert_eq!(value["as_of_iso"], "2026-09-30T23:59:59Z");
    }
}
