//! Evidence files too large to hold as one DuckDB value live beside the store, content-addressed:
//! `<store>.evidence/<aa>/<sha256>`. Their `blobs` row records the size with an empty body.
//!
//! Kept in DuckDB, a multi-gigabyte file's parts made every checkpoint re-read the growing table, so memory grew
//! with the file; beside the store, memory stays flat and the bytes are still checked against their sha256
//! whenever they are read back.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use duckdb::{params, Connection};
use sha2::{Digest, Sha256};

/// Files up to this size are stored in the `blobs` table; larger ones beside the store.
pub const INLINE_BYTES: u64 = 64 << 20;
/// The size of the pieces large files are copied and read in.
const PIECE_BYTES: usize = 4 << 20;

/// The folder of large evidence files for the store `conn` has open.
pub fn folder(conn: &Connection) -> Result<PathBuf> {
    let path: String =
        conn.query_row("SELECT path FROM duckdb_databases() WHERE database_name = current_database()", [], |row| {
            row.get(0)
        })?;
    anyhow::ensure!(!path.is_empty(), "an in-memory store cannot keep large evidence files");
    Ok(PathBuf::from(format!("{path}.evidence")))
}

fn location(folder: &Path, sha256: &str) -> PathBuf {
    folder.join(&sha256[..2]).join(sha256)
}

/// Where a large blob's bytes are kept, when they are kept beside the store.
pub fn path_of(conn: &Connection, sha256: &str) -> Result<Option<PathBuf>> {
    let stored: i64 = conn.query_row("SELECT count(*) FROM blobs WHERE sha256 = ?", [sha256], |row| row.get(0))?;
    if stored == 0 || !is_large(conn, sha256)? {
        return Ok(None);
    }
    Ok(Some(location(&folder(conn)?, sha256)))
}

/// Copies `source` (whose sha256 and size are known) beside the store and records it in `blobs`; does nothing when
/// it is already there. Call it outside the file's transaction: content-addressed, so a later rejection is harmless.
pub fn store(conn: &Connection, source: &Path, sha256: &str, size: u64) -> Result<()> {
    let stored: i64 = conn.query_row("SELECT count(*) FROM blobs WHERE sha256 = ?", [sha256], |row| row.get(0))?;
    if stored > 0 {
        return Ok(());
    }
    let target = location(&folder(conn)?, sha256);
    std::fs::create_dir_all(target.parent().expect("a content address has a folder"))?;
    let partial = target.with_extension("partial");
    let mut input = File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
    let mut output = File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; PIECE_BYTES];
    loop {
        let read = input.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        output.write_all(&buffer[..read])?;
    }
    output.sync_all()?;
    if hex(hasher) != sha256 {
        let _ = std::fs::remove_file(&partial);
        bail!("{} changed while it was being ingested", source.display());
    }
    std::fs::rename(&partial, &target)?;
    conn.execute("INSERT INTO blobs VALUES (?, ?, ?)", params![sha256, size as i64, Vec::<u8>::new()])?;
    Ok(())
}

/// Whether a blob lives beside the store rather than in `blobs.body`.
pub fn is_large(conn: &Connection, sha256: &str) -> Result<bool> {
    let (size, inline): (i64, i64) =
        conn.query_row("SELECT size, octet_length(body) FROM blobs WHERE sha256 = ?", [sha256], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    Ok(size > 0 && inline == 0)
}

/// Streams a large blob to `each` in pieces, then checks it still has its sha256.
pub fn read(conn: &Connection, sha256: &str, mut each: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let path = location(&folder(conn)?, sha256);
    let mut input =
        File::open(&path).with_context(|| format!("the store has lost the evidence file {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; PIECE_BYTES];
    loop {
        let read = input.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        each(&buffer[..read])?;
    }
    if hex(hasher) != sha256 {
        bail!("the store's copy of {} is corrupt: its bytes no longer match their sha256", path.display());
    }
    Ok(())
}

fn hex(hasher: Sha256) -> String {
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}
