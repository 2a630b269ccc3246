//! What changed between two evaluations, as reports and scheduled jobs show it: per control and resource, per
//! framework requirement, and the waivers about to expire; in text and Markdown, and which changes are regressions.
//! `drift.rs` computes it from the store; this is its shape and its rendering.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use crate::controls::Severity;
use crate::evaluate::waivers::EXPIRING_WITHIN_DAYS;

/// What kind of change a finding went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// It fails now and did not before (or is new and failing).
    NewFailure,
    /// It can no longer be decided (not visible, stale, no evidence).
    NewlyUnknown,
    /// A failure is now covered by a waiver.
    NewlyWaived,
    /// It failed or was undecided and now passes (or no longer applies).
    Resolved,
    /// The resource was not judged before.
    Added,
    /// The resource is no longer judged.
    Removed,
}

impl ChangeKind {
    /// One such change, in words.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::NewFailure => "New failure",
            ChangeKind::NewlyUnknown => "Newly unknown",
            ChangeKind::NewlyWaived => "Newly waived",
            ChangeKind::Resolved => "Resolved",
            ChangeKind::Added => "Resource added",
            ChangeKind::Removed => "Resource removed",
        }
    }

    /// The heading for a group of such changes.
    pub fn heading(self) -> &'static str {
        match self {
            ChangeKind::NewFailure => "New failures",
            ChangeKind::NewlyUnknown => "Newly unknown",
            ChangeKind::NewlyWaived => "Newly waived",
            ChangeKind::Resolved => "Resolved",
            ChangeKind::Added => "Resources added",
            ChangeKind::Removed => "Resources removed",
        }
    }
}

/// One finding's change.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Change {
    /// The kind of change.
    pub kind: ChangeKind,
    /// The kind, in words.
    pub label: String,
    /// Control id.
    pub control: String,
    /// Control severity.
    pub severity: String,
    /// Resource.
    pub resource: String,
    /// Status before (absent when the resource is new).
    pub from: Option<String>,
    /// Status now (absent when the resource is gone).
    pub to: Option<String>,
    /// The current reason (or the last one, for removed resources).
    pub reason: String,
}

/// A framework requirement whose status changed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RequirementChange {
    /// Framework name.
    pub framework: String,
    /// Requirement id.
    pub requirement: String,
    /// Status before.
    pub from: String,
    /// Status now.
    pub to: String,
}

/// The difference between two evaluations.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Drift {
    /// The earlier evaluation and its as-of moment.
    pub from: (i64, String),
    /// The later evaluation and its as-of moment.
    pub to: (i64, String),
    /// Changed findings, grouped by kind, then control and resource.
    pub changes: Vec<Change>,
    /// Requirement status changes per framework.
    pub requirements: Vec<RequirementChange>,
    /// Waivers in force at the later evaluation that expire within 30 days of it (their findings then fail again).
    pub expiring_waivers: Vec<ExpiringWaiver>,
}

/// A waiver about to expire.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExpiringWaiver {
    /// The control it applies to.
    pub control: String,
    /// The resources it covers (a name or pattern).
    pub resource: String,
    /// When it expires, as written in the waivers file (UTC).
    pub expires: String,
    /// Whole days from the later evaluation's as-of to the expiry.
    pub days_left: i64,
    /// Who approved it.
    pub approver: String,
    /// Its ticket, if any.
    pub ticket: String,
}

/// What counts as a regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regression {
    /// New failures.
    Fail,
    /// New failures or newly unknown findings.
    Unknown,
    /// Any change for the worse, including newly waived ones.
    Any,
}

impl Drift {
    /// The changes that count as a regression under `rule`, for controls at least as severe as `min_severity`.
    pub fn regressions(&self, rule: Regression, min_severity: Severity) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| Severity::parse(&c.severity).unwrap_or(Severity::Low) <= min_severity)
            .filter(|c| match rule {
                Regression::Fail => c.kind == ChangeKind::NewFailure,
                Regression::Unknown => matches!(c.kind, ChangeKind::NewFailure | ChangeKind::NewlyUnknown),
                Regression::Any => {
                    matches!(c.kind, ChangeKind::NewFailure | ChangeKind::NewlyUnknown | ChangeKind::NewlyWaived)
                }
            })
            .collect()
    }

    /// Plain text for terminals and logs.
    pub fn to_text(&self) -> String {
        use crate::terminal::escaped;
        let mut out = format!(
            "drift from evaluation #{} (as of {}) to #{} (as of {})\n",
            self.from.0, self.from.1, self.to.0, self.to.1
        );
        for (kind, changes) in self.grouped() {
            let _ = writeln!(out, "{} ({}):", kind.heading(), changes.len());
            for c in changes {
                let _ = writeln!(
                    out,
                    "  {:<8} {:<32} {} -> {}  {}",
                    escaped(&c.control),
                    escaped(&c.resource),
                    c.from.as_deref().unwrap_or("-"),
                    c.to.as_deref().unwrap_or("-"),
                    escaped(&c.reason)
                );
            }
        }
        if !self.requirements.is_empty() {
            let _ = writeln!(out, "Requirement changes ({}):", self.requirements.len());
            for r in &self.requirements {
                let _ = writeln!(out, "  {} {}: {} -> {}", r.framework, r.requirement, r.from, r.to);
            }
        }
        if self.changes.is_empty() && self.requirements.is_empty() {
            out.push_str("no changes\n");
        }
        if !self.expiring_waivers.is_empty() {
            let _ =
                writeln!(out, "Waivers expiring within {EXPIRING_WITHIN_DAYS} days ({}):", self.expiring_waivers.len());
            for w in &self.expiring_waivers {
                let _ = writeln!(
                    out,
                    "  {:<8} {:<32} expires {} (in {} days; approved by {}{})",
                    escaped(&w.control),
                    escaped(&w.resource),
                    w.expires,
                    w.days_left,
                    escaped(&w.approver),
                    if w.ticket.is_empty() { String::new() } else { format!(", {}", w.ticket) }
                );
            }
        }
        out
    }

    /// Markdown for tickets and chat.
    pub fn to_markdown(&self) -> String {
        let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
        let mut out =
            format!("## Drift: evaluation #{} ({}) → #{} ({})\n\n", self.from.0, self.from.1, self.to.0, self.to.1);
        for (kind, changes) in self.grouped() {
            let _ = writeln!(
                out,
                "### {} ({})\n\n| Control | Resource | Was | Now | Reason |\n|---|---|---|---|---|",
                kind.heading(),
                changes.len()
            );
            for c in changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    cell(&c.control),
                    cell(&c.resource),
                    c.from.as_deref().unwrap_or("-"),
                    c.to.as_deref().unwrap_or("-"),
                    cell(&c.reason)
                );
            }
            out.push('\n');
        }
        if !self.requirements.is_empty() {
            out.push_str("### Requirement changes\n\n| Framework | Requirement | Was | Now |\n|---|---|---|---|\n");
            for r in &self.requirements {
                let _ = writeln!(out, "| {} | {} | {} | {} |", cell(&r.framework), r.requirement, r.from, r.to);
            }
        }
        if !self.expiring_waivers.is_empty() {
            let _ = writeln!(
                out,
                "\n### Waivers expiring within {EXPIRING_WITHIN_DAYS} days\n\n| Control | Resource | Expires | Days left | Approver | Ticket |\n|---|---|---|---|---|---|"
            );
            for w in &self.expiring_waivers {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&w.control),
                    cell(&w.resource),
                    cell(&w.expires),
                    w.days_left,
                    cell(&w.approver),
                    cell(&w.ticket)
                );
            }
        }
        out
    }

    fn grouped(&self) -> BTreeMap<ChangeKind, Vec<&Change>> {
        let mut groups: BTreeMap<ChangeKind, Vec<&Change>> = BTreeMap::new();
        for change in &self.changes {
            groups.entry(change.kind).or_default().push(change);
        }
        groups
    }
}
