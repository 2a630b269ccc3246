//! An input file: hashed as given (gzip or not), read decompressed, and stored as evidence.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use duckdb::{params, Connection};
use sha2::{Digest, Sha256};

use crate::error::input_error;
use crate::store::{add_evidence, large_bodies, NewEvidence};

/// What an ingested file is, for its evidence row.
#[derive(Clone, Copy)]
pub struct Described<'a> {
    /// The evidence kind (`trivy`, `cyclonedx`, …).
    pub kind: &'a str,
    /// What the file is about.
    pub subject: &'a str,
    /// The detected format and version.
    pub format: &'a str,
    /// The time the document states it was made; freshness counts from it when given.
    pub document_time: Option<NaiveDateTime>,
    /// How far the worst of its scans got (`partial` or `failed`, with why); `None` when complete.
    pub completeness: Option<(&'a str, &'a str)>,
}

/// A file to ingest.
pub struct Input {
    path: PathBuf,
    display: String,
    /// Size in bytes as given.
    pub size: u64,
    /// sha256 of the bytes as given.
    pub sha256: String,
    /// Whether the file is gzip-compressed.
    pub gzip: bool,
    /// The bytes as given, held for files stored in the `blobs` table: read once, hashed, parsed and stored from
    /// the same copy.
    bytes: Option<Vec<u8>>,
}

impl Input {
    /// Opens and hashes a file: a small one read into memory once, a large one in one streaming pass.
    pub fn open(path: &Path, display: &str) -> Result<Input> {
        let file = File::open(path).map_err(|error| input_error(format!("{display}: cannot read: {error}")))?;
        let metadata = file.metadata().map_err(|error| input_error(format!("{display}: cannot read: {error}")))?;
        if metadata.is_dir() {
            return Err(input_error(format!("{display}: is a directory: expected an evidence file")));
        }
        if metadata.len() <= large_bodies::INLINE_BYTES {
            let mut bytes = Vec::with_capacity(metadata.len() as usize);
            BufReader::new(file)
                .read_to_end(&mut bytes)
                .map_err(|error| input_error(format!("{display}: cannot read: {error}")))?;
            return Ok(Input {
                path: path.to_path_buf(),
                display: display.to_string(),
                size: bytes.len() as u64,
                sha256: crate::store::sha256_hex(&bytes),
                gzip: bytes.starts_with(&[0x1f, 0x8b]),
                bytes: Some(bytes),
            });
        }
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut head = [0u8; 2];
        loop {
            let chunk = reader.fill_buf().map_err(|error| input_error(format!("{display}: cannot read: {error}")))?;
            if chunk.is_empty() {
                break;
            }
            if size == 0 && chunk.len() >= 2 {
                head.copy_from_slice(&chunk[..2]);
            }
            hasher.update(chunk);
            size += chunk.len() as u64;
            let consumed = chunk.len();
            reader.consume(consumed);
        }
        let sha256 = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
        Ok(Input {
            path: path.to_path_buf(),
            display: display.to_string(),
            size,
            sha256,
            gzip: head == [0x1f, 0x8b],
            bytes: None,
        })
    }

    /// The file's name, for a subject when the content names none.
    pub fn file_name(&self) -> String {
        self.path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_else(|| self.display.clone())
    }

    /// A reader over the decompressed content.
    pub fn reader(&self) -> Result<Box<dyn BufRead + '_>> {
        let raw: Box<dyn Read + '_> = match &self.bytes {
            Some(bytes) => Box::new(bytes.as_slice()),
            None => Box::new(File::open(&self.path).with_context(|| format!("{}: cannot read", self.display))?),
        };
        Ok(if self.gzip {
            Box::new(BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(BufReader::new(raw))))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, raw))
        })
    }

    /// The whole decompressed content.
    pub fn content(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(self.size as usize);
        self.reader()?.read_to_end(&mut bytes).map_err(|error| {
            input_error(format!("{}: cannot decompress: {error}: expected a complete gzip file", self.display))
        })?;
        Ok(bytes)
    }

    /// Up to `limit` bytes of the decompressed content, for recognising the format.
    pub fn head(&self, limit: usize) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.reader()?.take(limit as u64).read_to_end(&mut bytes).map_err(|error| {
            input_error(format!("{}: cannot decompress: {error}: expected a complete gzip file", self.display))
        })?;
        Ok(bytes)
    }

    /// The id of evidence already stored for these bytes of this kind and subject, if any.
    pub fn already_stored(&self, conn: &Connection, kind: &str, subject: &str) -> Result<Option<i64>> {
        let mut statement = conn.prepare_cached(
            "SELECT min(evidence_id) FROM evidence WHERE source = 'file' AND sha256 = ? AND kind = ? AND subject = ?",
        )?;
        Ok(statement.query_row(params![self.sha256, kind, subject], |row| row.get(0))?)
    }

    /// Stores the file as evidence (the bytes as given; a large file's bytes are already beside the store).
    pub fn store_evidence(
        &self,
        conn: &Connection,
        run_id: i64,
        what: &Described,
        collected_at: NaiveDateTime,
    ) -> Result<i64> {
        let Described { kind, subject, format, document_time, completeness } = *what;
        let mut provenance = serde_json::json!({
            "path": self.display,
            "size": self.size,
            "sha256": self.sha256,
            "format": format,
            "compression": if self.gzip { "gzip" } else { "none" },
        });
        if let Some(time) = document_time {
            provenance["document_time"] = serde_json::Value::String(time.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        if let Some((state, note)) = completeness {
            provenance["completeness"] = serde_json::Value::String(state.to_string());
            provenance["completeness_note"] = serde_json::Value::String(note.to_string());
        }
        if self.size <= large_bodies::INLINE_BYTES {
            let body = self.bytes.as_deref().context("a small file's bytes are read when it is opened")?;
            let evidence = NewEvidence { source: "file", kind, subject, collected_at, provenance, body };
            return add_evidence(conn, run_id, &evidence);
        }
        let stored: i64 =
            conn.query_row("SELECT count(*) FROM blobs WHERE sha256 = ?", [&self.sha256], |r| r.get(0))?;
        anyhow::ensure!(stored == 1, "{}: store_large_body must run before the file's transaction", self.display);
        let id: i64 = conn.query_row("SELECT nextval('evidence_ids')", [], |row| row.get(0))?;
        conn.execute(
            "INSERT INTO evidence VALUES (?, ?, ?, 'file', ?, ?, ?, ?)",
            params![id, run_id, self.sha256, kind, subject, collected_at, provenance.to_string()],
        )?;
        Ok(id)
    }

    /// Stores a large file's bytes beside the store, before (and outside) the file's transaction; small files are
    /// stored inside it by [`Input::store_evidence`].
    pub fn store_large_body(&self, conn: &Connection) -> Result<()> {
        if self.size <= large_bodies::INLINE_BYTES {
            return Ok(());
        }
        large_bodies::store(conn, &self.path, &self.sha256, self.size)
    }
}
