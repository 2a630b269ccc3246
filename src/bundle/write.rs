//! Writes a bundle as a deterministic zip (sorted entries, the as-of time on every entry, deflate level 6, mode
//! 0644) or as a folder. Evidence is read from the store in batches and re-hashed on the way out.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use duckdb::Connection;

use super::contents::{Content, Contents};
use super::manifest::{MANIFEST, SIGNATURE};
use crate::store::{large_bodies, sha256_hex};

/// How many bytes of blobs to hold in memory at once while writing.
const BLOB_BATCH_BYTES: u64 = 16 << 20;
/// How many blobs to fetch in one query.
const BLOB_BATCH_ITEMS: usize = 1024;

/// Writes the bundle to `output` (a `.zip` path, else a folder that must be absent or empty), with the manifest and,
/// when given, its signature; returns the manifest's bytes.
pub fn write(conn: &Connection, contents: &Contents, signature: Option<&str>, output: &Path) -> Result<Vec<u8>> {
    let manifest = contents.manifest.to_bytes()?;
    // Blobs stream through in batches; a bounded buffer pool keeps DuckDB from caching the whole store on the way.
    conn.execute_batch("SET memory_limit = '1GB'")?;
    let is_zip = output.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("zip"));
    let mut sink = if is_zip { Sink::zip(output, &contents.manifest.as_of)? } else { Sink::folder(output)? };
    let mut blobs = BlobBatches::new(contents);
    // Every name sorts into one list: the manifest and its signature fall between the other files.
    let mut names: Vec<(&str, Option<usize>)> =
        contents.entries.iter().enumerate().map(|(i, e)| (e.file.path.as_str(), Some(i))).collect();
    names.push((MANIFEST, None));
    if signature.is_some() {
        names.push((SIGNATURE, None));
    }
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (name, index) in names {
        match index {
            None if name == MANIFEST => sink.put(name, &manifest)?,
            None => sink.put(name, signature.unwrap_or_default().as_bytes())?,
            Some(index) => {
                let entry = &contents.entries[index];
                match &entry.content {
                    Content::Bytes(bytes) => sink.put(name, bytes)?,
                    Content::Blob if entry.file.size > BLOB_BATCH_BYTES => {
                        write_large_blob(conn, &mut sink, name, &entry.file)?;
                    }
                    Content::Blob => {
                        let body = blobs.take(conn, index)?;
                        if sha256_hex(&body) != entry.file.sha256 {
                            bail!(
                                "the store's copy of {} is corrupt: its bytes no longer match their sha256",
                                entry.file.path
                            );
                        }
                        sink.put(name, &body)?;
                    }
                }
            }
        }
    }
    sink.finish()?;
    Ok(manifest)
}

/// Writes one large blob: from beside the store in pieces (its hash checked as it is read), or from `blobs`.
fn write_large_blob(
    conn: &Connection,
    sink: &mut Sink,
    name: &str,
    file: &super::manifest::ManifestFile,
) -> Result<()> {
    if large_bodies::is_large(conn, &file.sha256)? {
        return sink.put_stream(name, file.size, &mut |out| {
            large_bodies::read(conn, &file.sha256, |piece| Ok(out.write_all(piece)?))
        });
    }
    let body: Vec<u8> = conn.query_row("SELECT body FROM blobs WHERE sha256 = ?", [&file.sha256], |row| row.get(0))?;
    if sha256_hex(&body) != file.sha256 {
        bail!("the store's copy of {} is corrupt: its bytes no longer match their sha256", file.path);
    }
    sink.put(name, &body)
}

/// Reads the blobs the bundle needs, in path order, a bounded batch at a time.
struct BlobBatches<'a> {
    contents: &'a Contents,
    loaded: HashMap<String, Vec<u8>>,
}

impl<'a> BlobBatches<'a> {
    fn new(contents: &'a Contents) -> Self {
        BlobBatches { contents, loaded: HashMap::new() }
    }

    /// The bytes of entry `index`, loading it and the blob entries after it (up to the batch size) when needed.
    fn take(&mut self, conn: &Connection, index: usize) -> Result<Vec<u8>> {
        let sha256 = &self.contents.entries[index].file.sha256;
        if !self.loaded.contains_key(sha256) {
            let mut wanted = Vec::new();
            let mut budget = 0u64;
            for entry in self.contents.entries[index..].iter().filter(|e| e.content == Content::Blob) {
                if budget > 0 && (budget + entry.file.size > BLOB_BATCH_BYTES || wanted.len() >= BLOB_BATCH_ITEMS) {
                    break;
                }
                budget += entry.file.size;
                wanted.push(entry.file.sha256.as_str());
            }
            let mut statement =
                conn.prepare_cached("SELECT sha256, body FROM blobs WHERE sha256 IN (SELECT unnest(?::VARCHAR[]))")?;
            let mut rows = statement.query([crate::store::list_text::text_list(wanted)])?;
            while let Some(row) = rows.next()? {
                self.loaded.insert(row.get(0)?, row.get(1)?);
            }
        }
        // A blob named twice (one file cited by two evidence ids shares one path) is read again if needed.
        self.loaded.remove(sha256).ok_or_else(|| anyhow!("the store has lost the bytes with sha256 {sha256}"))
    }
}

enum Sink {
    Zip {
        writer: Box<zip::ZipWriter<BufWriter<File>>>,
        options: zip::write::SimpleFileOptions,
        temp: PathBuf,
        path: PathBuf,
    },
    Folder {
        root: PathBuf,
    },
}

impl Sink {
    fn zip(path: &Path, as_of_iso: &str) -> Result<Sink> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let temp = path.with_extension("zip.partial");
        let file = File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(zip_time(as_of_iso))
            .unix_permissions(0o644)
            .large_file(false);
        Ok(Sink::Zip {
            writer: Box::new(zip::ZipWriter::new(BufWriter::new(file))),
            options,
            temp,
            path: path.to_path_buf(),
        })
    }

    fn folder(root: &Path) -> Result<Sink> {
        if root.exists() {
            let mut entries = std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))?;
            if entries.next().is_some() {
                return Err(crate::error::input_error(format!(
                    "{} is not empty: a bundle folder must be new or empty (or name a .zip file)",
                    root.display()
                )));
            }
        }
        std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        Ok(Sink::Folder { root: root.to_path_buf() })
    }

    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Zip { writer, options, .. } => {
                let options = options.large_file(bytes.len() as u64 >= u32::MAX as u64);
                writer.start_file(name, options)?;
                writer.write_all(bytes)?;
            }
            Sink::Folder { root } => {
                let path = root.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        Ok(())
    }

    /// Writes an entry whose bytes `write` produces in pieces.
    fn put_stream(&mut self, name: &str, size: u64, write: &mut dyn FnMut(&mut dyn Write) -> Result<()>) -> Result<()> {
        match self {
            Sink::Zip { writer, options, .. } => {
                writer.start_file(name, options.large_file(size >= u32::MAX as u64))?;
                write(writer.as_mut())
            }
            Sink::Folder { root } => {
                let path = root.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let file = File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
                let mut out = BufWriter::new(file);
                write(&mut out)?;
                out.flush()?;
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<()> {
        if let Sink::Zip { writer, temp, path, .. } = self {
            writer.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&temp, &path).with_context(|| format!("cannot move the bundle to {}", path.display()))?;
        }
        Ok(())
    }
}

/// The as-of moment as a zip timestamp (zip times start in 1980; earlier moments use 1980-01-01).
fn zip_time(as_of_iso: &str) -> zip::DateTime {
    let parsed = chrono::NaiveDateTime::parse_from_str(as_of_iso, "%Y-%m-%dT%H:%M:%SZ").ok();
    parsed
        .and_then(|t| {
            use chrono::{Datelike, Timelike};
            zip::DateTime::from_date_and_time(
                u16::try_from(t.year()).ok()?,
                t.month() as u8,
                t.day() as u8,
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
            )
            .ok()
        })
        .unwrap_or_default()
}
