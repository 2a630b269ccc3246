//! The one reader of stored evaluations: what an evaluation was (its moment, catalogue, period, waivers and
//! attestations as judged), each control's outcome, each verdict, the evidence they cite, what changed between two
//! evaluations, and the per-framework results over time. Reports, bundles and drift read evaluations only here
//! (`which.rs` says which one).

use std::collections::BTreeMap;

use anyhow::{anyhow, Context, Result};
use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use super::attestations::JudgedAttestation;
use super::throughout::Throughout;
use super::waivers::{JudgedWaiver, Waiver};
use super::{EvaluatedCatalogue, ParamUse, Status};
use crate::period::Period;

/// An evaluation as stored.
pub struct StoredEvaluation {
    /// Its id.
    pub evaluation_id: i64,
    /// The moment evaluated.
    pub as_of: NaiveDateTime,
    /// The pipeproof version that evaluated it.
    pub tool_version: String,
    /// The digest of the catalogue evaluated.
    pub catalogue_sha256: String,
    /// The catalogue evaluated.
    pub catalogue: EvaluatedCatalogue,
    /// The reporting period, when it had one.
    pub period: Option<Period>,
    /// The waivers as judged, as stored (JSON).
    pub waivers_json: Option<String>,
    /// The manual attestations as judged, as stored (JSON).
    pub attestations_json: Option<String>,
    /// The organisations evaluated, as the evidence named them.
    pub organisations: Option<String>,
}

impl StoredEvaluation {
    /// Reads an evaluation; an input error when the store has no such evaluation.
    pub fn load(conn: &Connection, evaluation_id: i64) -> Result<StoredEvaluation> {
        type Columns = (NaiveDateTime, String, String, String, Option<Period>, Option<String>, Option<String>);
        let (as_of, tool_version, catalogue_sha256, catalogue, period, waivers_json, attestations_json): Columns = conn
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
        let organisations: Option<String> =
            conn.query_row("SELECT organisations FROM evaluations WHERE evaluation_id = ?", [evaluation_id], |row| {
                row.get(0)
            })?;
        Ok(StoredEvaluation {
            evaluation_id,
            as_of,
            tool_version,
            catalogue_sha256,
            catalogue: serde_json::from_str(&catalogue).context("the evaluation's stored catalogue is unreadable")?,
            period,
            waivers_json,
            attestations_json,
            organisations,
        })
    }

    /// The waivers as judged.
    pub fn waivers(&self) -> Result<Vec<JudgedWaiver>> {
        match &self.waivers_json {
            Some(text) => serde_json::from_str(text).context("the evaluation's stored waivers are unreadable"),
            None => Ok(Vec::new()),
        }
    }

    /// The manual attestations as judged.
    pub fn attestations(&self) -> Result<Vec<JudgedAttestation>> {
        match &self.attestations_json {
            Some(text) => serde_json::from_str(text).context("the evaluation's stored attestations are unreadable"),
            None => Ok(Vec::new()),
        }
    }
}

/// A control's outcome as stored.
pub struct StoredOutcome {
    /// The control.
    pub control_id: String,
    /// Its rolled-up status.
    pub status: Status,
    /// Why it could not be evaluated, when it could not.
    pub error: Option<String>,
    /// The parameters it used.
    pub params: BTreeMap<String, ParamUse>,
}

/// Every control's outcome, by control id.
pub fn outcomes(conn: &Connection, evaluation_id: i64) -> Result<Vec<StoredOutcome>> {
    let mut statement = conn.prepare(
        "SELECT control_id, status, error, params::VARCHAR FROM control_outcomes WHERE evaluation_id = ? ORDER BY control_id",
    )?;
    let mut rows = statement.query(params![evaluation_id])?;
    let mut outcomes = Vec::new();
    while let Some(row) = rows.next()? {
        let status_text: String = row.get(1)?;
        let params_json: String = row.get(3)?;
        outcomes.push(StoredOutcome {
            control_id: row.get(0)?,
            status: Status::parse(&status_text).ok_or_else(|| anyhow!("stored status {status_text:?} is invalid"))?,
            error: row.get(2)?,
            params: serde_json::from_str(&params_json)?,
        });
    }
    Ok(outcomes)
}

/// One verdict as stored.
pub struct StoredResult {
    /// The control.
    pub control_id: String,
    /// The resource judged.
    pub resource: String,
    /// The verdict.
    pub status: Status,
    /// Why.
    pub reason: String,
    /// The evidence it rests on.
    pub evidence_id: Option<i64>,
    /// The verdict a waiver replaced.
    pub underlying: Option<Status>,
    /// The waiver applied.
    pub waiver: Option<Waiver>,
    /// Whether it held throughout the period.
    pub throughout: Option<Throughout>,
    /// Whether the evidence it rests on is incomplete or partial.
    pub evidence_incomplete: bool,
}

/// Every verdict, sorted by control, resource, status and reason.
pub fn results(conn: &Connection, evaluation_id: i64) -> Result<Vec<StoredResult>> {
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
    let mut results = Vec::new();
    while let Some(row) = rows.next()? {
        let status_text: String = row.get(2)?;
        results.push(StoredResult {
            control_id: row.get(0)?,
            resource: row.get(1)?,
            status: Status::parse(&status_text).ok_or_else(|| anyhow!("stored status {status_text:?} is invalid"))?,
            reason: row.get(3)?,
            evidence_id: row.get(4)?,
            underlying: row.get::<_, Option<String>>(5)?.and_then(|s| Status::parse(&s)),
            waiver: row.get::<_, Option<String>>(6)?.and_then(|text| serde_json::from_str(&text).ok()),
            throughout: row.get::<_, Option<String>>(7)?.and_then(|text| serde_json::from_str(&text).ok()),
            evidence_incomplete: row.get(8)?,
        });
    }
    Ok(results)
}

/// An evidence item the verdicts cite.
pub struct CitedEvidence {
    /// Its id.
    pub id: i64,
    /// Where it came from.
    pub source: String,
    /// What it is.
    pub kind: String,
    /// What it is about.
    pub subject: String,
    /// When it was collected.
    pub collected_at: NaiveDateTime,
    /// The sha256 of its bytes as stored.
    pub sha256: String,
}

/// Every evidence item an evaluation's verdicts cite, by id.
pub fn cited_evidence(conn: &Connection, evaluation_id: i64) -> Result<Vec<CitedEvidence>> {
    let mut statement = conn.prepare(
        "SELECT e.evidence_id, e.source, e.kind, e.subject, e.collected_at, e.sha256 FROM evidence e \
         WHERE e.evidence_id IN (SELECT evidence_id FROM control_results WHERE evaluation_id = ?) ORDER BY e.evidence_id",
    )?;
    let rows = statement.query_map(params![evaluation_id], |row| {
        Ok(CitedEvidence {
            id: row.get(0)?,
            source: row.get(1)?,
            kind: row.get(2)?,
            subject: row.get(3)?,
            collected_at: row.get(4)?,
            sha256: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A verdict that differs between two evaluations: its status and reason on each side (absent where there is none).
pub struct ResultChange {
    /// The control.
    pub control_id: String,
    /// The resource.
    pub resource: String,
    /// Status and reason in the earlier evaluation.
    pub before: Option<(String, String)>,
    /// Status and reason in the later evaluation.
    pub after: Option<(String, String)>,
}

/// The verdicts whose status differs between two evaluations, found by one join rather than by loading both.
pub fn changed_results(conn: &Connection, from_id: i64, to_id: i64) -> Result<Vec<ResultChange>> {
    let mut statement = conn.prepare(
        "SELECT coalesce(a.control_id, b.control_id), coalesce(a.resource, b.resource), a.status, a.reason, b.status, b.reason \
         FROM (SELECT control_id, resource, status, reason FROM control_results WHERE evaluation_id = ?) a \
         FULL OUTER JOIN (SELECT control_id, resource, status, reason FROM control_results WHERE evaluation_id = ?) b \
           ON a.control_id = b.control_id AND a.resource = b.resource \
         WHERE a.status IS DISTINCT FROM b.status",
    )?;
    let side = |status: Option<String>, reason: Option<String>| status.map(|s| (s, reason.unwrap_or_default()));
    let rows = statement.query_map(params![from_id, to_id], |row| {
        Ok(ResultChange {
            control_id: row.get(0)?,
            resource: row.get(1)?,
            before: side(row.get(2)?, row.get(3)?),
            after: side(row.get(4)?, row.get(5)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One framework's result at one evaluation.
pub struct FrameworkPoint {
    /// The framework id.
    pub framework_id: String,
    /// Its name.
    pub framework: String,
    /// The evaluation.
    pub evaluation_id: i64,
    /// Its moment.
    pub as_of: NaiveDateTime,
    /// Compliance, in percent.
    pub compliance_percent: u32,
    /// Coverage, in percent.
    pub coverage_percent: u32,
}

/// Every framework's result at every evaluation as of `start` to `end` (both inclusive), by framework and moment.
pub fn framework_results(conn: &Connection, start: NaiveDateTime, end: NaiveDateTime) -> Result<Vec<FrameworkPoint>> {
    let mut statement = conn.prepare(
        "SELECT f.framework_id, f.framework, e.evaluation_id, e.as_of, f.compliance_percent, f.coverage_percent \
         FROM evaluation_frameworks f JOIN evaluations e USING (evaluation_id) \
         WHERE e.as_of BETWEEN ? AND ? ORDER BY f.framework_id, e.as_of, e.evaluation_id",
    )?;
    let rows = statement.query_map(params![start, end], |row| {
        Ok(FrameworkPoint {
            framework_id: row.get(0)?,
            framework: row.get(1)?,
            evaluation_id: row.get(2)?,
            as_of: row.get(3)?,
            compliance_percent: row.get(4)?,
            coverage_percent: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
