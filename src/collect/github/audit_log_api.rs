//! The organisation audit log (GitHub Enterprise Cloud), read from where the last successful collection stopped
//! (less a day) or `operating_days` back, into `audit_events` once per `_document_id`.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::Connection;

use super::coverage::{judge, Coverage, Seen};
use crate::collect::http::{ApiClient, ApiResponse};
use crate::facts::{Facts, Origin};
use crate::ingest::audit_log::{event, AuditSource};
use crate::store::{add_evidence_batch, NewEvidence};

/// The evidence kind, also the watermark's kind.
pub const KIND: &str = "github.audit_log";

/// What the audit log needs to be visible.
pub(super) const NEEDS: &str =
    "GitHub Enterprise Cloud and an owner's token with read:audit_log (Administration: read on the \
                     organisation for an App)";

/// What the audit log answered.
pub struct AuditLogAnswers {
    /// The moment reading started from.
    pub since: NaiveDateTime,
    /// Every page, oldest events first.
    pub pages: Vec<ApiResponse>,
}

/// The audit log's first page of events since `since`, oldest first.
pub(super) fn path(org: &str, per_page: u32, since: NaiveDateTime) -> String {
    let phrase = format!("created%3A%3E%3D{}", since.format("%Y-%m-%d"));
    format!("/orgs/{org}/audit-log?include=all&order=asc&per_page={}&phrase={phrase}", per_page.clamp(1, 100))
}

/// Reads every event since `since` (the API pages with a cursor; the `Link` header is followed as given).
pub async fn fetch(client: &ApiClient, org: &str, per_page: u32, since: NaiveDateTime) -> Result<AuditLogAnswers> {
    let pages = client.get_all_pages(&path(org, per_page, since)).await?;
    Ok(AuditLogAnswers { since, pages })
}

/// What storing the audit log added.
#[derive(Debug, Default)]
pub struct StoredAuditLog {
    /// Evidence items (pages).
    pub evidence: usize,
    /// Events new to the store.
    pub events: usize,
    /// Whether the token could read it.
    pub visible: bool,
    /// Whether it was read only in part (the events read are stored; the watermark stays).
    pub incomplete: bool,
}

/// Stores the pages as evidence, their events (once per event key), coverage, and the watermark.
pub fn store(
    conn: &Connection,
    run_id: i64,
    org: &str,
    answers: &AuditLogAnswers,
    now: NaiveDateTime,
) -> Result<StoredAuditLog> {
    let complete = crate::collect::http::listing_complete(&answers.pages);
    let items: Vec<NewEvidence> = answers
        .pages
        .iter()
        .map(|page| NewEvidence {
            source: "github",
            kind: KIND,
            subject: org,
            collected_at: page.received_at,
            provenance: page.provenance(complete),
            body: &page.body,
        })
        .collect();
    let ids = add_evidence_batch(conn, run_id, &items)?;
    let seen = judge(KIND, NEEDS, false, &answers.pages);
    let visible = seen == Seen::Visible;
    let row = Coverage {
        org,
        subject: org,
        kind: KIND,
        table: "audit_events",
        part: "",
        evidence_id: ids.first().copied(),
        observed_at: answers.pages.first().map(|p| p.received_at).unwrap_or(now),
        complete: visible,
    };
    let mut coverage = conn.appender("api_coverage_history")?;
    row.append(&mut coverage, run_id, &seen)?;
    coverage.flush()?;
    let incomplete = matches!(seen, Seen::Incomplete(_));
    let mut stored = StoredAuditLog { evidence: ids.len(), visible, incomplete, ..StoredAuditLog::default() };
    if !visible && !incomplete {
        return Ok(stored);
    }
    // A listing cut short keeps the events of the pages read (each is stored once per event key); only the
    // watermark waits for a listing read to its end.
    for (page, evidence_id) in answers.pages.iter().zip(&ids).filter(|(page, _)| page.status == 200) {
        let body = page.json()?;
        let records = body.as_array().cloned().unwrap_or_default();
        let mut facts = Facts { kind: "github-audit-log", format: "github-audit-log-api".into(), ..Facts::default() };
        for (index, record) in records.iter().enumerate() {
            let raw = serde_json::to_vec(record)?;
            facts.audit_events.push(event(AuditSource::Github, record, index + 1, &raw, &page.url)?);
        }
        let origin =
            Origin { run_id, evidence_id: *evidence_id, observed_at: page.received_at, subject: org, repo: None };
        stored.events += crate::facts::store_facts(conn, &origin, &facts)?.rows;
    }
    if incomplete {
        return Ok(stored);
    }
    crate::collect::watermarks::record(conn, run_id, org, KIND, &[(org, answers.since, now)])?;
    Ok(stored)
}
