//! Whether an answer could be read, and the `api_coverage` row that records it: one judgement for every kind of
//! GitHub evidence (endpoints, operating evidence, the audit log) and for `doctor`.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Appender};

use crate::collect::http::ApiResponse;

/// Whether an answer could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Read.
    Visible,
    /// GitHub says there is nothing (a 404 the endpoint defines as absence).
    Absent,
    /// The token cannot see it; why and what would fix it.
    NotVisible(String),
    /// The feature is off; GitHub's words.
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

/// Judges the pages of one answer about `kind`: the first page that is not `200`/`204` decides. `needs` says what
/// would make it visible; `absent_on_404` when GitHub answers 404 for "there is none".
pub fn judge(kind: &str, needs: &str, absent_on_404: bool, pages: &[ApiResponse]) -> Seen {
    let Some(failed) = pages.iter().find(|page| page.status != 200 && page.status != 204) else {
        return Seen::Visible;
    };
    if failed.status == crate::collect::http::UNANSWERED {
        let why = failed.error_message().unwrap_or_else(|| "no usable answer".to_string());
        return Seen::Incomplete(format!("{kind} was not read completely: {why}"));
    }
    if failed.status == 404 && absent_on_404 {
        return Seen::Absent;
    }
    let message = failed.error_message().unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    let feature_off = ["disabled", "must be enabled", "not enabled", "no analysis found", "not available"]
        .iter()
        .any(|phrase| lower.contains(phrase));
    let quoted = if message.is_empty() { String::new() } else { format!(" \"{message}\"") };
    if feature_off && matches!(failed.status, 403 | 404 | 422) {
        return Seen::FeatureOff(format!("GitHub answered HTTP {}{quoted}: the feature is off", failed.status));
    }
    Seen::NotVisible(format!("GitHub answered HTTP {}{quoted} for {kind}: needs {needs}", failed.status))
}

/// One `api_coverage` row: what was asked about which subject, and what was seen.
pub struct Coverage<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The organisation, `owner/repo`, or a narrower subject (`owner/repo#12`, `owner/repo@sha`).
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
