//! Whether an answer could be read, and the `api_coverage` row that records it: the states every collector
//! records (each forge judges its own answers into them), read by controls to say unknown instead of judging what
//! was not seen.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Appender};

/// Whether an answer could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Read.
    Visible,
    /// The forge says there is nothing (a 404 the endpoint defines as absence).
    Absent,
    /// The token cannot see it; why and what would fix it.
    NotVisible(String),
    /// The feature is off (or not in the subscription's tier); the forge's words.
    FeatureOff(String),
    /// No usable answer came (server failure, rate limit past what the run waits, a listing cut short or looping,
    /// a redirect off the API origin): why, and when to come back where known. Never a permission verdict.
    Incomplete(String),
}

impl Seen {
    /// The coverage state and reason to record.
    pub fn state(&self) -> (&'static str, Option<&str>) {
        match self {
            Seen::Visible | Seen::Absent => ("visible", None),
            Seen::NotVisible(reason) => ("not_visible", Some(reason)),
            Seen::FeatureOff(reason) => ("feature_off", Some(reason)),
            Seen::Incomplete(reason) => ("incomplete", Some(reason)),
        }
    }
}

/// One `api_coverage` row: what was asked about which subject, and what was seen.
pub struct Coverage<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The organisation (or GitLab group), `owner/repo`, or a narrower subject (`owner/repo#12`, `owner/repo@sha`).
    pub subject: &'a str,
    /// The evidence kind.
    pub kind: &'a str,
    /// The fact view it feeds.
    pub table: &'a str,
    /// Which slice of that view (`''` when the whole).
    pub part: &'a str,
    /// The evidence of its first page, if any.
    pub evidence_id: Option<i64>,
    /// When it was asked.
    pub observed_at: NaiveDateTime,
    /// Whether every page was read.
    pub complete: bool,
}

impl Coverage<'_> {
    /// Appends the row to an `api_coverage_history` appender.
    pub fn append(&self, appender: &mut Appender<'_>, run_id: i64, seen: &Seen) -> Result<()> {
        let (state, reason) = seen.state();
        appender.append_row(params![
            run_id,
            self.evidence_id,
            self.observed_at,
            self.org,
            self.subject,
            self.kind,
            self.table,
            self.part,
            state,
            reason,
            self.complete,
        ])?;
        Ok(())
    }
}
