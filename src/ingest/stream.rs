//! JSON Lines audit logs (GitHub, Kubernetes) are read by DuckDB's own JSON reader and normalised in SQL, so a
//! multi-gigabyte log streams at DuckDB's speed with bounded memory (gzip included). The normalisation is the same
//! as `audit_log::event` applies to JSON and CSV exports; a test holds the two to the same rows.

use anyhow::Result;
use duckdb::params;
use serde_json::Value;

use super::audit_log::AuditSource;
use super::json::{is_blank, without_bom};
use super::read::Input;
use super::IngestKind;
use super::{FileOutcome, IngestOptions};
use crate::error::input_error;
use crate::store::Store;

/// How much of the start of a file is read to recognise a JSON Lines audit log.
const HEAD_BYTES: usize = 256 << 10;
/// DuckDB's memory while a large log streams through: it spills to disk beyond this.
const MEMORY_LIMIT: &str = "600MB";

/// Times as the logs write them: epoch seconds or milliseconds, RFC 3339 (any offset), or a naive UTC time.
const MACROS: &str = r#"
CREATE OR REPLACE TEMP MACRO pp_time(t) AS CASE
    WHEN t IS NULL OR t = '' THEN NULL
    WHEN try_cast(t AS DOUBLE) IS NOT NULL THEN
        CASE WHEN abs(t::DOUBLE) >= 1e11 THEN epoch_ms(t::DOUBLE::BIGINT) ELSE epoch_ms((t::DOUBLE * 1000)::BIGINT) END
    WHEN regexp_matches(t, '[+-]\d\d:?\d\d$') THEN
        try_cast(regexp_replace(t, '\s*[+-]\d\d:?\d\d$', '') AS TIMESTAMP)
        - to_minutes((CASE WHEN regexp_extract(t, '([+-])\d\d:?\d\d$', 1) = '-' THEN -1 ELSE 1 END)
                     * (regexp_extract(t, '[+-](\d\d):?\d\d$', 1)::INTEGER * 60
                        + regexp_extract(t, '[+-]\d\d:?(\d\d)$', 1)::INTEGER))
    ELSE try_cast(regexp_replace(trim(t), '( UTC|Z)$', '') AS TIMESTAMP)
END;
CREATE OR REPLACE TEMP MACRO pp_list(t) AS CASE
    WHEN starts_with(t, '[') THEN
        nullif(array_to_string(list_filter(from_json(t, '["VARCHAR"]'), lambda x: x IS NOT NULL), ','), '')
    ELSE nullif(t, '')
END;
"#;

/// GitHub audit-log events: `_document_id` is the event key; `@timestamp` and `created_at` are epoch ms or text.
/// Each record is parsed once; its fields are read by position from one list.
const GITHUB: &str = r#"
WITH records AS (
    SELECT json,
           json_extract_string(json, ['$."@timestamp"', '$.created_at', '$.actor', '$.user', '$.action', '$.repo',
                                      '$.repository', '$.team', '$.name', '$.org', '$.business', '$.actor_ip',
                                      '$.actor_location.ip', '$._document_id']) AS f
    FROM read_ndjson_objects($1, compression = $2, maximum_object_size = 16777216)
),
events AS (
    SELECT $3::BIGINT AS run_id, $4::BIGINT AS evidence_id, $5::TIMESTAMP AS observed_at, 'github' AS source,
           coalesce(pp_time(f[1]), pp_time(f[2])) AS event_time,
           coalesce(nullif(f[3], ''), nullif(f[4], '')) AS actor,
           CASE WHEN nullif(f[5], '') IS NULL THEN error('pp-invalid-record:' || sha256(json::VARCHAR)) ELSE f[5] END AS action,
           coalesce(nullif(f[6], ''), nullif(f[7], ''), nullif(f[8], ''), nullif(f[9], ''), pp_list(f[10]),
                    nullif(f[4], ''), nullif(f[11], '')) AS target,
           coalesce(nullif(f[12], ''), nullif(f[13], '')) AS source_ip,
           CASE WHEN ends_with(f[5], '_failure') OR ends_with(f[5], '.failure') OR contains(f[5], 'failed')
                THEN 'failure'
                WHEN ends_with(f[5], '_success') THEN 'success' END AS outcome,
           coalesce(nullif(f[14], ''), sha256(json::VARCHAR)) AS event_key,
           NULL::BIGINT AS line
    FROM records
)
"#;

/// Kubernetes audit Events: `auditID:stage` is the event key (one request logs several stages). A record that is
/// not an audit Event stops the file with its record number.
const KUBERNETES: &str = r#"
WITH records AS (
    SELECT json,
           json_extract_string(json, ['$.stageTimestamp', '$.requestReceivedTimestamp', '$.timestamp',
                                      '$.user.username', '$.kind', '$.auditID', '$.verb', '$.apiVersion',
                                      '$.objectRef.resource', '$.objectRef.subresource', '$.objectRef.namespace',
                                      '$.objectRef.name', '$.requestURI', '$.sourceIPs[0]',
                                      '$.annotations."authorization.k8s.io/decision"', '$.responseStatus.code',
                                      '$.stage', '$.impersonatedUser.username']) AS f
    FROM read_ndjson_objects($1, compression = $2, maximum_object_size = 16777216)
),
events AS (
    SELECT $3::BIGINT AS run_id, $4::BIGINT AS evidence_id, $5::TIMESTAMP AS observed_at, 'kubernetes' AS source,
           coalesce(pp_time(f[1]), pp_time(f[2]), pp_time(f[3])) AS event_time,
           CASE WHEN nullif(f[18], '') IS NOT NULL THEN coalesce(nullif(f[4], ''), '?') || ' as ' || f[18]
                ELSE nullif(f[4], '') END AS actor,
           CASE WHEN f[5] = 'Event' AND f[6] IS NOT NULL AND (f[7] IS NOT NULL OR starts_with(f[8], 'audit.k8s.io'))
                THEN coalesce(nullif(f[7], ''), 'unknown')
                     || coalesce(' ' || nullif(f[9], '') || coalesce('/' || nullif(f[10], ''), ''), '')
                ELSE error('pp-invalid-record:' || sha256(json::VARCHAR)) END AS action,
           coalesce(nullif(f[11], '') || '/' || nullif(f[12], ''), nullif(f[12], ''), nullif(f[11], ''),
                    nullif(f[13], '')) AS target,
           nullif(f[14], '') AS source_ip,
           CASE WHEN nullif(f[15], '') IS NOT NULL AND nullif(f[16], '') IS NOT NULL THEN f[15] || ' (' || f[16] || ')'
                ELSE coalesce(nullif(f[15], ''), nullif(f[16], '')) END AS outcome,
           coalesce(nullif(f[6], ''), sha256(json::VARCHAR)) || ':' || coalesce(f[17], '') AS event_key,
           NULL::BIGINT AS line
    FROM records
)
"#;

/// Every record of the file goes in; then, for this evidence item only, the rows an earlier item already holds (same
/// source and key) and the repeats within the file are deleted. The insert's row count is the record count, and the
/// checks read only the new rows' stored columns instead of parsing the file twice.
/// `line` stays NULL: numbering records would force DuckDB to read in order on one thread (half the speed); the
/// event key (`_document_id`, `auditID:stage`, or the record's sha256) names the record in the file instead.
const STORE_EVENTS: &str = "INSERT INTO audit_events_history SELECT * FROM events";

/// Deletes this evidence item's events that an earlier item already holds. An event held twice is the same event,
/// at the same time, so only the earlier events inside this item's span of times are looked up (every earlier one
/// when one of this item's events has no time, and earlier ones without a time always): a store that grows by a
/// log a day searches a day, not its whole history, and the search is built on what it finds, not on this item.
const DELETE_ALREADY_STORED: &str = r#"
DELETE FROM audit_events_history h
USING (
    SELECT DISTINCT o.source, o.event_key
    FROM audit_events_history o,
         (SELECT min(event_time) AS first, max(event_time) AS last,
                 count(*) FILTER (WHERE event_time IS NULL) AS untimed
          FROM audit_events_history WHERE evidence_id = $1) span
    WHERE o.evidence_id <> $1 AND o.source = $2
      AND (span.untimed > 0 OR o.event_time IS NULL OR o.event_time BETWEEN span.first AND span.last)
) o
WHERE h.evidence_id = $1 AND h.source = o.source AND h.event_key = o.event_key
"#;

/// Whether an earlier evidence item holds events of this source: only then can this item's repeat them (the
/// search for repeats costs seconds at ten million events).
const OTHERS_HOLD_EVENTS: &str =
    "SELECT count(*) > 0 FROM (SELECT 1 FROM audit_events_history WHERE evidence_id <> $1 AND source = $2 LIMIT 1)";

/// Deletes all but the first copy of each event this evidence item holds more than once.
const DELETE_REPEATS: &str = r#"
DELETE FROM audit_events_history
WHERE evidence_id = $1
  AND rowid NOT IN (SELECT min(rowid) FROM audit_events_history WHERE evidence_id = $1 GROUP BY source, event_key)
"#;

/// How many of this evidence item's rows repeat a key.
const COUNT_REPEATS: &str =
    "SELECT count(*) - count(DISTINCT (source, event_key)) FROM audit_events_history WHERE evidence_id = $1";

/// Finds which record (1-based, blank lines not counted) has a given sha256, to name it in an error.
const RECORD_NUMBER: &str = r#"
SELECT min(record) FROM (
    SELECT row_number() OVER () AS record, sha256(json::VARCHAR) AS hash
    FROM read_ndjson_objects($1, compression = $2, maximum_object_size = 16777216)
) WHERE hash = $3
"#;

/// The audit source when the file is a JSON Lines GitHub or Kubernetes audit log (and the kind allows it).
fn audit_lines_source(input: &Input, kind: Option<IngestKind>) -> Option<AuditSource> {
    let allowed = match kind {
        None => None,
        Some(IngestKind::GithubAuditLog) => Some(AuditSource::Github),
        Some(IngestKind::K8sAudit) => Some(AuditSource::Kubernetes),
        Some(_) => return None,
    };
    let head = input.head(HEAD_BYTES).ok()?;
    let mut lines = without_bom(&head).split(|b| *b == b'\n').filter(|line| !is_blank(line));
    let first: Value = serde_json::from_slice(lines.next()?).ok()?;
    // A single pretty-printed document is not JSON Lines: its first line alone is not a JSON object.
    if !first.is_object() || (lines.next().is_none() && !head.ends_with(b"\n")) {
        return None;
    }
    let detected = AuditSource::detect(&first).filter(|source| *source != AuditSource::Gitlab);
    match allowed {
        Some(source) => Some(source),
        None => detected,
    }
}

/// Whether the file is streamed through DuckDB's reader.
pub fn wants_streaming(input: &Input, kind: Option<IngestKind>) -> bool {
    audit_lines_source(input, kind).is_some()
}

/// Reads a JSON Lines audit log in one transaction; returns the events stored.
pub fn ingest_lines(
    store: &Store,
    run_id: i64,
    input: &Input,
    path: &std::path::Path,
    options: &IngestOptions,
    outcome: &mut FileOutcome,
) -> Result<usize> {
    let source = audit_lines_source(input, options.kind)
        .ok_or_else(|| anyhow::anyhow!("{}: changed while it was being read", outcome.path))?;
    let origin = outcome.path.clone();
    let kind = source.evidence_kind();
    let format = format!("{kind}-jsonl");
    outcome.format = Some(format.clone());
    let subject = options.repo.clone().unwrap_or_else(|| input.file_name());
    let now = crate::time::now_utc();
    // Row order in the fact tables carries no meaning; not preserving it lets DuckDB stream the insert.
    store
        .conn()
        .execute_batch(&format!("SET memory_limit = '{MEMORY_LIMIT}'; SET preserve_insertion_order = false"))?;
    store.conn().execute_batch(MACROS)?;
    let sql = match source {
        AuditSource::Kubernetes => KUBERNETES,
        _ => GITHUB,
    };
    let compression = match input.compression {
        super::read::Compression::None => "uncompressed",
        other => other.name(),
    };
    let kept = input.store_large_body(store.conn())?;
    let result = store.in_transaction(|conn| {
        if let Some(existing) = input.already_stored(conn, kind, &subject)? {
            return Ok(Err(existing));
        }
        let what = super::read::Described {
            kind,
            subject: &subject,
            format: &format,
            document_time: None,
            completeness: None,
        };
        let evidence_id = input.store_evidence(conn, run_id, &what, now, None, kept.as_ref())?;
        // A large log is read from the copy kept as evidence, whose bytes were hashed as they were copied: the
        // facts come from exactly the bytes the evidence names, even if the original changes meanwhile.
        let kept = match &kept {
            Some(kept) => crate::store::large_bodies::path_of(conn, &kept.sha256)?,
            None => None,
        };
        let file = kept.as_deref().unwrap_or(path).display().to_string();
        let explain = |error: duckdb::Error| explain(error, &origin, &file, compression, source);
        let records = crate::progress::follow_query(input.size, &format!("reading {origin}"), || {
            conn.execute(&format!("{sql}{STORE_EVENTS}"), params![file, compression, run_id, evidence_id, now])
        })
        .map_err(explain)?;
        let others: bool = conn.query_row(OTHERS_HOLD_EVENTS, params![evidence_id, source.name()], |row| row.get(0))?;
        let mut skipped =
            if others { conn.execute(DELETE_ALREADY_STORED, params![evidence_id, source.name()])? } else { 0 };
        let repeats: i64 = conn.query_row(COUNT_REPEATS, [evidence_id], |row| row.get(0))?;
        if repeats > 0 {
            skipped += conn.execute(DELETE_REPEATS, [evidence_id])?;
        }
        let written = records - skipped;
        Ok(Ok((written, skipped)))
    });
    // The settings are this ingest's, not the connection's: what the same process does next (evaluate in `run`)
    // gets DuckDB's defaults back.
    store.conn().execute_batch("RESET memory_limit; RESET preserve_insertion_order")?;
    match result {
        Ok(Ok((written, duplicates))) => {
            outcome.summary = Some(format!("{written} audit event{}", if written == 1 { "" } else { "s" }));
            if duplicates > 0 {
                outcome.warnings.push(format!(
                    "{origin}: {duplicates} event(s) were already stored (same source and event id) and were not added again"
                ));
            }
            Ok(written)
        }
        Ok(Err(existing)) => {
            outcome.summary = Some(format!("already ingested as evidence #{existing}; nothing added"));
            Ok(0)
        }
        Err(error) => Err(error),
    }
}

/// Turns a DuckDB error while reading a log into one that names the file and the record or line.
fn explain(error: duckdb::Error, origin: &str, file: &str, compression: &str, source: AuditSource) -> anyhow::Error {
    let text = error.to_string();
    if let Some((_, hash)) = text.split_once("pp-invalid-record:") {
        let hash: String = hash.chars().take(64).collect();
        // The store's transaction is aborted by now; a scratch connection finds the record.
        let record: Option<i64> = crate::store::base_config()
            .ok()
            .and_then(|config| duckdb::Connection::open_in_memory_with_flags(config).ok())
            .and_then(|scratch| {
                scratch.query_row(RECORD_NUMBER, params![file, compression, hash], |row| row.get(0)).ok()
            })
            .flatten();
        let at = record.map(|r| format!("record {r}")).unwrap_or_else(|| format!("the record with sha256 {hash}"));
        return input_error(format!("{origin}: {at}: expected {}", source.expected()));
    }
    // DuckDB names the file (the copy we read, shown as the user's) and the line of malformed JSON; anything else
    // is our failure, not the file's.
    match text.split_once("Invalid Input Error: ") {
        Some((_, detail)) => {
            input_error(format!("{origin}: {}: expected {}", detail.trim().replace(file, origin), source.expected()))
        }
        None => anyhow::anyhow!("{origin}: could not be read: {text}"),
    }
}
