//! Drift: what changed between two evaluations, per control and resource and per framework requirement, which
//! waivers are about to expire, and whether that is a regression a scheduled job should fail on.

pub mod baseline;
pub mod notify;

use std::collections::BTreeMap;

use anyhow::Result;
use duckdb::Connection;
use serde::Serialize;

use crate::evaluate::waivers::{WaiverState, EXPIRING_WITHIN_DAYS};
pub use crate::report::changes::{Change, ChangeKind, Drift, ExpiringWaiver, Regression, RequirementChange};
use crate::report::ReportModel;

/// The waivers an evaluation applied that expire within [`EXPIRING_WITHIN_DAYS`] of its as-of, soonest first.
pub fn expiring_waivers(conn: &Connection, evaluation_id: i64) -> Result<Vec<ExpiringWaiver>> {
    let stored = crate::evaluate::stored::StoredEvaluation::load(conn, evaluation_id)?;
    let as_of = stored.as_of;
    let judged = stored.waivers()?;
    let mut expiring: Vec<ExpiringWaiver> = judged
        .into_iter()
        .filter(|j| j.state == WaiverState::Active)
        .filter_map(|j| j.waiver)
        .filter_map(|waiver| {
            let end = crate::time::parse_as_of(&waiver.expires).ok()?;
            let days_left = (end - as_of).num_days();
            (days_left <= EXPIRING_WITHIN_DAYS).then(|| ExpiringWaiver {
                control: waiver.control,
                resource: waiver.resource,
                expires: waiver.expires,
                days_left,
                approver: waiver.approver,
                ticket: waiver.ticket.unwrap_or_default(),
            })
        })
        .collect();
    expiring.sort_by(|a, b| (a.days_left, &a.control, &a.resource).cmp(&(b.days_left, &b.control, &b.resource)));
    Ok(expiring)
}

/// The report model of an evaluation (the latest when `None`), with the drift since the previous period's
/// evaluation when there is one.
pub fn report_with_drift(
    conn: &Connection,
    evaluation_id: Option<i64>,
    organisation: Option<&str>,
) -> Result<ReportModel> {
    let mut model = ReportModel::load(conn, evaluation_id, organisation)?;
    if let Some(previous) = crate::evaluate::which::compared_in_report(conn, model.evaluation_id)? {
        model.drift = Some(compare(conn, previous, model.evaluation_id)?);
    }
    Ok(model)
}

/// Compares two stored evaluations.
pub fn compare(conn: &Connection, from_id: i64, to_id: i64) -> Result<Drift> {
    let before = ReportModel::load_summary(conn, from_id)?;
    let after = ReportModel::load_summary(conn, to_id)?;
    let (old, new) = changed_findings(conn, (from_id, &before), (to_id, &after))?;
    let changes = finding_changes(&old, &new);
    let mut requirements = Vec::new();
    for framework in &after.frameworks {
        let Some(earlier) = before.frameworks.iter().find(|f| f.id == framework.id) else { continue };
        for requirement in &framework.requirements {
            if let Some(was) = earlier.requirements.iter().find(|r| r.id == requirement.id) {
                if was.status != requirement.status {
                    requirements.push(RequirementChange {
                        framework: framework.name.clone(),
                        requirement: requirement.id.clone(),
                        from: was.status.clone(),
                        to: requirement.status.clone(),
                    });
                }
            }
        }
    }
    let expiring_waivers = expiring_waivers(conn, to_id)?;
    Ok(Drift { from: (from_id, before.as_of), to: (to_id, after.as_of), changes, requirements, expiring_waivers })
}

/// Findings by (control, resource).
pub type Findings = BTreeMap<(String, String), Judged>;

/// The findings whose status differs between two evaluations, on each side (absent where there is none), found by
/// one join in the store rather than by loading every finding of both.
fn changed_findings(
    conn: &Connection,
    (from_id, before): (i64, &ReportModel),
    (to_id, after): (i64, &ReportModel),
) -> Result<(Findings, Findings)> {
    let severities = |model: &ReportModel| -> BTreeMap<String, String> {
        model.controls.iter().map(|c| (c.id.clone(), c.severity.clone())).collect()
    };
    let (old_severity, new_severity) = (severities(before), severities(after));
    let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
    for change in crate::evaluate::stored::changed_results(conn, from_id, to_id)? {
        let key = (change.control_id, change.resource);
        let side = |side: Option<(String, String)>, severities: &BTreeMap<String, String>| {
            let (status, reason) = side?;
            Some(Judged { severity: severities.get(&key.0)?.clone(), status, reason })
        };
        if let Some(judged) = side(change.before, &old_severity) {
            old.insert(key.clone(), judged);
        }
        if let Some(judged) = side(change.after, &new_severity) {
            new.insert(key, judged);
        }
    }
    Ok((old, new))
}

/// A finding as drift compares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Judged {
    /// Control severity.
    pub severity: String,
    /// Verdict.
    pub status: String,
    /// Why.
    pub reason: String,
}

/// Every finding of a report, by (control, resource).
pub fn findings_of(model: &ReportModel) -> Findings {
    model
        .controls
        .iter()
        .flat_map(|c| {
            c.findings.iter().map(move |f| {
                let judged =
                    Judged { severity: c.severity.clone(), status: f.status.clone(), reason: f.reason.clone() };
                ((c.id.clone(), f.resource.clone()), judged)
            })
        })
        .collect()
}

/// The changes from one set of findings to another, sorted by kind, control and resource.
pub fn finding_changes(old: &Findings, new: &Findings) -> Vec<Change> {
    let mut changes = Vec::new();
    for (key, now) in new {
        let was = old.get(key).map(|f| f.status.as_str());
        let kind = match (was, now.status.as_str()) {
            (Some(a), b) if a == b => continue,
            (Some(_) | None, "fail") => ChangeKind::NewFailure,
            (Some(_) | None, "unknown") => ChangeKind::NewlyUnknown,
            (Some(_), "waived") => ChangeKind::NewlyWaived,
            (Some("fail" | "unknown" | "waived"), _) => ChangeKind::Resolved,
            (None, _) => ChangeKind::Added,
            (Some(_), _) => continue,
        };
        changes.push(Change {
            kind,
            label: kind.label().to_string(),
            control: key.0.clone(),
            severity: now.severity.clone(),
            resource: key.1.clone(),
            from: was.map(str::to_string),
            to: Some(now.status.clone()),
            reason: now.reason.clone(),
        });
    }
    for (key, was) in old {
        if !new.contains_key(key) {
            changes.push(Change {
                kind: ChangeKind::Removed,
                label: ChangeKind::Removed.label().to_string(),
                control: key.0.clone(),
                severity: was.severity.clone(),
                resource: key.1.clone(),
                from: Some(was.status.clone()),
                to: None,
                reason: was.reason.clone(),
            });
        }
    }
    changes.sort_by(|a, b| (a.kind, &a.control, &a.resource).cmp(&(b.kind, &b.control, &b.resource)));
    changes
}
