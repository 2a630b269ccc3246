//! An input file: hashed as given (compressed or not), read decompressed within a bound, and stored as evidence.

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
    /// How the file is compressed.
    pub compression: Compression,
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
                compression: Compression::of(&bytes, display)?,
                bytes: Some(bytes),
            });
        }
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut head = Vec::new();
        loop {
            let chunk = reader.fill_buf().map_err(|error| input_error(format!("{display}: cannot read: {error}")))?;
            if chunk.is_empty() {
                break;
            }
            if head.len() < 8 {
                head.extend(chunk.iter().take(8 - head.len()));
            }
            hasher.update(chunk);
            size += chunk.len() as u64;
            let consumed = chunk.len();
            reader.consume(consumed);
        }
        let sha256 = crate::store::hex_digest(hasher);
        Ok(Input {
            path: path.to_path_buf(),
            display: display.to_string(),
            size,
            sha256,
            compression: Compression::of(&head, display)?,
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
        Ok(match self.compression {
            Compression::Gzip => {
                Box::new(BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(BufReader::new(raw))))
            }
            Compression::Zstd => Box::new(BufReader::with_capacity(1 << 20, ZstdFrames::new(BufReader::new(raw)))),
            Compression::None => Box::new(BufReader::with_capacity(1 << 20, raw)),
        })
    }

    /// The whole decompressed content, refused past `max_expanded` bytes (a compressed file that expands without
    /// end, a "zip bomb", must not take the machine's memory).
    pub fn content(&self, max_expanded: u64) -> Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(self.size.min(max_expanded) as usize);
        self.reader()?.take(max_expanded.saturating_add(1)).read_to_end(&mut bytes).map_err(|error| {
            input_error(format!(
                "{}: cannot decompress: {error}: expected a complete {} file",
                self.display,
                self.compression.name()
            ))
        })?;
        if bytes.len() as u64 > max_expanded {
            return Err(input_error(format!(
                "{}: expands past {} MiB ({} MiB {}): refused as a likely decompression bomb; raise the limit with \
                 --max-expanded-mb if the file is genuine",
                self.display,
                max_expanded >> 20,
                self.size >> 20,
                self.compression.name()
            )));
        }
        Ok(bytes)
    }

    /// Up to `limit` bytes of the decompressed content, for recognising the format.
    pub fn head(&self, limit: usize) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.reader()?.take(limit as u64).read_to_end(&mut bytes).map_err(|error| {
            input_error(format!(
                "{}: cannot decompress: {error}: expected a complete {} file",
                self.display,
                self.compression.name()
            ))
        })?;
        Ok(bytes)
    }

    /// The id of evidence already stored for these bytes of this kind and subject, if any.
    pub fn already_stored(&self, conn: &Connection, kind: &str, subject: &str) -> Result<Option<i64>> {
        let mut statement = conn.prepare_cached(
            "SELECT min(evidence_id) FROM evidence WHERE source = 'file' AND kind = ? AND subject = ?
               AND (sha256 = ? OR (provenance::JSON->>'sha256') = ?)",
        )?;
        // A file stored redacted keeps its own digest in its provenance.
        Ok(statement.query_row(params![kind, subject, self.sha256, self.sha256], |row| row.get(0))?)
    }

    /// Stores the file as evidence (the bytes as given; a large file's bytes are already beside the store). A
    /// compressed file whose decompressed content, `plain`, holds credentials is stored decompressed, so they can
    /// be cut (`redact.rs`; inside compressed bytes they could not be).
    pub fn store_evidence(
        &self,
        conn: &Connection,
        run_id: i64,
        what: &Described,
        collected_at: NaiveDateTime,
        plain: Option<&[u8]>,
        kept: Option<&large_bodies::Kept>,
    ) -> Result<i64> {
        let Described { kind, subject, format, document_time, completeness } = *what;
        let mut provenance = serde_json::json!({
            "path": self.display,
            "size": self.size,
            "sha256": self.sha256,
            "format": format,
            "compression": self.compression.name(),
        });
        if let Some(time) = document_time {
            provenance["document_time"] = serde_json::Value::String(time.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        if let Some((state, note)) = completeness {
            provenance["completeness"] = serde_json::Value::String(state.to_string());
            provenance["completeness_note"] = serde_json::Value::String(note.to_string());
        }
        if self.size <= large_bodies::INLINE_BYTES {
            let mut body = self.bytes.as_deref().context("a small file's bytes are read when it is opened")?;
            if let Some(plain) = plain
                .filter(|plain| self.compression != Compression::None && crate::store::redact::redact(plain).is_some())
            {
                provenance["stored_decompressed"] = serde_json::Value::String(
                    "it held credentials, which are cut from the decompressed content".to_string(),
                );
                body = plain;
            }
            let evidence = NewEvidence { source: "file", kind, subject, collected_at, provenance, body };
            return add_evidence(conn, run_id, &evidence);
        }
        let kept =
            kept.with_context(|| format!("{}: store_large_body must run before the file's transaction", self.display))?;
        let stored: i64 =
            conn.query_row("SELECT count(*) FROM blobs WHERE sha256 = ?", [&kept.sha256], |r| r.get(0))?;
        anyhow::ensure!(stored >= 1, "{}: its copy beside the store is not recorded", self.display);
        if let Some(note) = &kept.redacted {
            provenance["redacted"] = note.clone();
        }
        let id = crate::store::next_ids(conn, "evidence_ids", 1)?[0];
        conn.execute(
            "INSERT INTO evidence VALUES (?, ?, ?, 'file', ?, ?, ?, ?)",
            params![id, run_id, kept.sha256, kind, subject, collected_at, provenance.to_string()],
        )?;
        Ok(id)
    }

    /// Stores a large file's bytes beside the store, before (and outside) the file's transaction; small files are
    /// stored inside it by [`Input::store_evidence`].
    pub fn store_large_body(&self, conn: &Connection) -> Result<Option<large_bodies::Kept>> {
        if self.size <= large_bodies::INLINE_BYTES {
            return Ok(None);
        }
        large_bodies::store(conn, &self.path, &self.sha256, self.size).map(Some)
    }
}

/// How a file is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard (one or more frames).
    Zstd,
}

impl Compression {
    /// The compression a file's first bytes announce; one pipeproof does not read is an error that names it.
    pub fn of(head: &[u8], display: &str) -> Result<Compression> {
        const UNREAD: &[(&[u8], &str, &str)] = &[
            (b"BZh", "bzip2", "bunzip2"),
            (&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz", "unxz"),
            (&[0x04, 0x22, 0x4d, 0x18], "LZ4", "lz4 -d"),
            (&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], "a 7-Zip archive", "7z x"),
            (b"PK\x03\x04", "a zip archive", "unzip"),
            (b"Rar!", "a RAR archive", "unrar x"),
        ];
        if head.starts_with(&[0x1f, 0x8b]) {
            return Ok(Compression::Gzip);
        }
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            return Ok(Compression::Zstd);
        }
        if let Some((_, name, tool)) = UNREAD.iter().find(|(magic, _, _)| head.starts_with(magic)) {
            return Err(input_error(format!(
                "{display}: compressed as {name}, which pipeproof does not read: expand it first ({tool}), or \
                 recompress it with gzip or zstd"
            )));
        }
        Ok(Compression::None)
    }

    /// Its name, as provenance records it and DuckDB's readers take it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// A reader over every Zstandard frame of a stream, one after another (`zstd` concatenates frames when files are
/// joined).
struct ZstdFrames<R: BufRead> {
    frame: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
    done: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> ZstdFrames<R> {
        match ruzstd::decoding::StreamingDecoder::new(source) {
            Ok(frame) => ZstdFrames { frame: Some(frame), done: false },
            Err(_) => ZstdFrames { frame: None, done: false },
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.done {
                return Ok(0);
            }
            let Some(frame) = self.frame.as_mut() else {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a Zstandard frame"));
            };
            let read = frame.read(buffer)?;
            if read > 0 || buffer.is_empty() {
                return Ok(read);
            }
            // This frame is done: another may follow.
            let mut source = self.frame.take().expect("a frame").into_inner();
            if source.fill_buf()?.is_empty() {
                self.done = true;
                return Ok(0);
            }
            self.frame = Some(
                ruzstd::decoding::StreamingDecoder::new(source)
                    .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string()))?,
            );
        }
    }
}
