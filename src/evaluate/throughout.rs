//! "Held throughout the period" (SOC 2 Type II): a state control is re-evaluated at every snapshot inside the
//! period, and each resource learns whether it held at all of them, and when it did not.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{evaluate_control, ParamUse, Sandbox, Scope, Status};
use crate::controls::Control;

/// How a resource fared across the period's snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughout {
    /// Snapshots judged (including the state carried into the period, when evidence predates it).
    pub snapshots: usize,
    /// True only if it passed (or did not apply) at every snapshot and the evidence reaches back to the period start.
    pub held: bool,
    /// Snapshots at which it failed.
    pub failed_on: Vec<NaiveDateTime>,
    /// Snapshots at which it could not be decided or was not observed.
    pub unknown_on: Vec<NaiveDateTime>,
    /// The first snapshot, when the evidence starts after the period began.
    pub observed_from: Option<NaiveDateTime>,
}

impl Throughout {
    /// One sentence for the report.
    pub fn summary(&self) -> String {
        let dates = |moments: &[NaiveDateTime]| {
            moments.iter().map(|m| m.format("%Y-%m-%d %H:%M").to_string()).collect::<Vec<_>>().join(", ")
        };
        if !self.failed_on.is_empty() {
            format!(
                "Did not hold on {} ({} of {} snapshots in the period)",
                dates(&self.failed_on),
                self.failed_on.len(),
                self.snapshots
            )
        } else if !self.unknown_on.is_empty() {
            format!(
                "Could not be shown to hold on {} ({} snapshots in the period)",
                dates(&self.unknown_on),
                self.snapshots
            )
        } else if let Some(first) = self.observed_from {
            format!(
                "Held at all {} snapshots since {} UTC; no evidence from earlier in the period",
                self.snapshots,
                first.format("%Y-%m-%d %H:%M")
            )
        } else {
            format!("Held throughout the period ({} snapshots)", self.snapshots)
        }
    }
}

/// The moments to judge: the period start (when evidence predates it) and each snapshot inside the period. A
/// snapshot is one run: it is judged once, when that run had written the last of the control's tables, so a run
/// whose writes straddle a second is neither counted twice nor judged half-written. A run whose writes straddle
/// the period start is the state carried in: it is judged once, when it finished, not also half-written at the start.
fn moments(sandbox: &Sandbox, control: &Control, scope: &Scope) -> Result<(Vec<NaiveDateTime>, bool)> {
    let Some(period) = &scope.period else { return Ok((Vec::new(), false)) };
    // Per run, when it began and finished writing the control's tables.
    let mut runs: BTreeMap<i64, (NaiveDateTime, NaiveDateTime)> = BTreeMap::new();
    let mut carried_in = false;
    for table in control.requires.iter().filter(|table| table.as_str() != super::MANUAL_ATTESTATIONS) {
        carried_in |= sandbox.has_snapshot_at_or_before(table, period.start)?;
        for (run, began, written) in sandbox.snapshot_times(table, scope.as_of)? {
            let span = runs.entry(run).or_insert((began, written));
            *span = (span.0.min(began), span.1.max(written));
        }
    }
    let inside: Vec<(NaiveDateTime, NaiveDateTime)> =
        runs.into_values().filter(|(_, written)| *written > period.start).collect();
    let straddled = inside.iter().any(|(began, _)| *began <= period.start);
    let mut moments: std::collections::BTreeSet<NaiveDateTime> = inside.iter().map(|(_, written)| *written).collect();
    if carried_in && !straddled {
        moments.insert(period.start);
    }
    Ok((moments.into_iter().collect(), carried_in))
}

/// Judges each resource of a state control at every snapshot in the period; empty without a period.
pub fn assess(
    sandbox: &Sandbox,
    control: &Control,
    params: &BTreeMap<String, ParamUse>,
    scope: &Scope,
) -> Result<BTreeMap<String, Throughout>> {
    let (moments, carried_in) = moments(sandbox, control, scope)?;
    if moments.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut by_resource: BTreeMap<String, Vec<(NaiveDateTime, Option<Status>)>> = BTreeMap::new();
    let mut judged_at = Vec::new();
    for moment in &moments {
        sandbox.set_as_of(*moment)?;
        let outcome = evaluate_control(sandbox, control, params.clone(), moment);
        judged_at.push((*moment, outcome));
    }
    sandbox.set_as_of(scope.as_of)?;
    for (_, outcome) in &judged_at {
        for result in &outcome.results {
            by_resource.entry(result.resource.clone()).or_default();
        }
    }
    for (moment, outcome) in &judged_at {
        // A resource judged twice at one moment counts with its first verdict in result order.
        let mut status_of: std::collections::HashMap<&str, Status> = std::collections::HashMap::new();
        for result in &outcome.results {
            status_of.entry(result.resource.as_str()).or_insert(result.status);
        }
        for (resource, statuses) in by_resource.iter_mut() {
            statuses.push((*moment, status_of.get(resource.as_str()).copied()));
        }
    }
    let first = moments.first().copied();
    Ok(by_resource
        .into_iter()
        .map(|(resource, statuses)| {
            let failed_on: Vec<NaiveDateTime> =
                statuses.iter().filter(|(_, s)| *s == Some(Status::Fail)).map(|(m, _)| *m).collect();
            let unknown_on: Vec<NaiveDateTime> =
                statuses.iter().filter(|(_, s)| matches!(s, None | Some(Status::Unknown))).map(|(m, _)| *m).collect();
            let observed_from = if carried_in { None } else { first };
            let held = failed_on.is_empty() && unknown_on.is_empty() && observed_from.is_none();
            (resource, Throughout { snapshots: statuses.len(), held, failed_on, unknown_on, observed_from })
        })
        .collect())
}
