//! Evidence: raw bytes stored once by sha256, with source, kind, subject and provenance.

use std::collections::HashSet;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use duckdb::{params, Connection};
use sha2::{Digest, Sha256};

/// Evidence about to be stored.
pub struct NewEvidence<'a> {
    /// Where it came from: `github`, `file`.
    pub source: &'a str,
    /// What it is: `github.org`, `github.repos`, `github.branch_protection`, `sarif`.
    pub kind: &'a str,
    /// What it is about: an org, `owner/repo`, `owner/repo@branch`, a file.
    pub subject: &'a str,
    /// When it was read.
    pub collected_at: NaiveDateTime,
    /// How it was obtained (request, status, ETag, page; or file path and size).
    pub provenance: serde_json::Value,
    /// The raw bytes, exactly as received.
    pub body: &'a [u8],
}

/// A stored evidence item, as listed in reports.
#[derive(Debug, Clone)]
pub struct EvidenceRecord {
    /// The evidence id.
    pub evidence_id: i64,
    /// Where it came from.
    pub source: String,
    /// What it is.
    pub kind: String,
    /// What it is about.
    pub subject: String,
    /// When it was read.
    pub collected_at: NaiveDateTime,
    /// The sha256 of its raw bytes.
    pub sha256: String,
}

/// Lower-case hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    hex_digest(hasher)
}

/// The lower-case hex digest of what a streaming sha256 has read.
pub fn hex_digest(hasher: Sha256) -> String {
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Size and lower-case hex sha256 of a file, read in pieces (never whole into memory).
pub fn sha256_file(path: &std::path::Path) -> Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).with_context(|| format!("cannot read {}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, hex_digest(hasher)))
}

/// Stores raw bytes content-addressed (each distinct content once); returns their sha256 in order.
pub fn add_blobs(conn: &Connection, bodies: &[&[u8]]) -> Result<Vec<String>> {
    let hashes: Vec<String> = bodies.iter().map(|body| sha256_hex(body)).collect();
    let wanted = super::list_text::text_list(&hashes);
    let mut stored: HashSet<String> = conn
        .prepare_cached("SELECT sha256 FROM blobs WHERE list_contains(?::VARCHAR[], sha256)")?
        .query_map([wanted], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut blobs = conn.appender("blobs")?;
    for (body, hash) in bodies.iter().zip(&hashes) {
        if stored.insert(hash.clone()) {
            blobs.append_row(params![hash, body.len() as i64, body])?;
        }
    }
    blobs.flush()?;
    Ok(hashes)
}

/// Stores one evidence item (its bytes only if not already present) and returns its id.
pub fn add_evidence(conn: &Connection, run_id: i64, evidence: &NewEvidence<'_>) -> Result<i64> {
    Ok(add_evidence_batch(conn, run_id, std::slice::from_ref(evidence))?[0])
}

/// Stores many evidence items with the Appender (bytes only once per distinct content); returns their ids in order.
pub fn add_evidence_batch(conn: &Connection, run_id: i64, items: &[NewEvidence<'_>]) -> Result<Vec<i64>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let ids = super::next_ids(conn, "evidence_ids", items.len())?;
    // Credential material never reaches the store: each body is stored redacted, its provenance saying what was
    // cut and the digest of what was received.
    let redacted: Vec<Option<super::redact::Redacted>> =
        items.iter().map(|item| super::redact::redact(item.body)).collect();
    let bodies: Vec<&[u8]> =
        items.iter().zip(&redacted).map(|(item, r)| r.as_ref().map_or(item.body, |r| r.bytes.as_slice())).collect();
    let hashes = add_blobs(conn, &bodies)?;
    let mut evidence = conn.appender("evidence")?;
    for (((item, hash), id), redaction) in items.iter().zip(&hashes).zip(&ids).zip(&redacted) {
        let provenance = match redaction {
            Some(redaction) => {
                let mut provenance = item.provenance.clone();
                if let Some(fields) = provenance.as_object_mut() {
                    fields.insert("redacted".into(), redaction.note(item.body));
                }
                provenance
            }
            None => item.provenance.clone(),
        };
        evidence.append_row(params![
            id,
            run_id,
            hash,
            item.source,
            item.kind,
            item.subject,
            item.collected_at,
            provenance.to_string()
        ])?;
    }
    evidence.flush()?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn identical_bodies_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
        let run = store.start_run("test").unwrap();
        let item = NewEvidence {
            source: "file",
            kind: "sarif",
            subject: "a.sarif",
            collected_at: crate::time::now_utc(),
            provenance: serde_json::json!({"path": "a.sarif"}),
            body: b"{}",
        };
        let first = add_evidence(store.conn(), run, &item).unwrap();
        let second = add_evidence(store.conn(), run, &item).unwrap();
        assert_ne!(first, second);
        let blobs: i64 = store.conn().query_row("SELECT count(*) FROM blobs", [], |row| row.get(0)).unwrap();
        assert_eq!(blobs, 1);
        assert_eq!(sha256_hex(b"{}"), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    }
}
