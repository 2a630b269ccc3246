//! Evidence files too large to hold as one DuckDB value live beside the store, content-addressed:
//! `<store>.evidence/<aa>/<sha256>` (a DuckLake: `<data path>/evidence/<aa>/<sha256>`). Their `blobs` row records the size with an empty body.
//!
//! Kept in DuckDB, a multi-gigabyte file's parts made every checkpoint re-read the growing table, so memory grew
//! with the file; beside the store, memory stays flat and the bytes are still checked against their sha256
//! whenever they are read back.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use duckdb::{params, Connection, OptionalExt};
use sha2::{Digest, Sha256};

/// Files up to this size are stored in the `blobs` table; larger ones beside the store.
pub const INLINE_BYTES: u64 = 64 << 20;
/// The size of the pieces large files are copied and read in.
const PIECE_BYTES: usize = 4 << 20;

/// The folder of large evidence files for the store `conn` has open: beside a store file, or in a DuckLake's data
/// folder (`<data path>/evidence`), which every machine writing the lake shares.
pub fn folder(conn: &Connection) -> Result<PathBuf> {
    if super::lake::is_lake(conn)? {
        let data = super::lake::data_path(conn)?;
        anyhow::ensure!(
            !data.contains("://"),
            "large evidence files need a DuckLake data path on a shared file system"
        );
        return Ok(Path::new(&data).join("evidence"));
    }
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

/// A large file as kept beside the store: the digest of the bytes kept, and what was cut from them.
#[derive(Debug, Clone)]
pub struct Kept {
    /// sha256 of the bytes kept (the file's own when nothing was cut).
    pub sha256: String,
    /// The provenance note of what was cut (`redact.rs`), when something was.
    pub redacted: Option<serde_json::Value>,
}

/// Copies `source` (whose sha256 and size are known) beside the store, with credential material cut out (in
/// pieces ending at line breaks, so a secret is never split; a line longer than a piece is cut where it is split;
/// a compressed file is kept as received),
/// and records it in `blobs`; does nothing when it is already kept. Call it outside the file's transaction:
/// content-addressed, so a later rejection is harmless.
pub fn store(conn: &Connection, source: &Path, sha256: &str, size: u64) -> Result<Kept> {
    let mut head = [0u8; 4];
    let compressed = File::open(source)
        .and_then(|mut file| file.read(&mut head))
        .map(|read| super::redact::is_compressed(&head[..read]))
        .unwrap_or(false);
    if let Some(kept) = already_kept(conn, sha256)? {
        return Ok(kept);
    }
    let folder = folder(conn)?;
    std::fs::create_dir_all(&folder)?;
    let partial = folder.join(format!("{sha256}.partial"));
    let mut input = File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
    let mut output = File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let copied = copy_redacted(&mut input, &mut output, compressed).and_then(|copied| {
        output.sync_all()?;
        Ok(copied)
    });
    drop(output);
    let (received, written, cut) = match copied {
        Ok(copied) => copied,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    if received != sha256 {
        let _ = std::fs::remove_file(&partial);
        bail!("{} changed while it was being ingested", source.display());
    }
    let kept_sha256 = written.unwrap_or(received);
    let target = location(&folder, &kept_sha256);
    std::fs::create_dir_all(target.parent().expect("a content address has a folder"))?;
    std::fs::rename(&partial, &target)?;
    let kept_size = std::fs::metadata(&target)?.len();
    let exists: i64 =
        conn.query_row("SELECT count(*) FROM blobs WHERE sha256 = ?", [&kept_sha256], |row| row.get(0))?;
    if exists == 0 {
        conn.execute("INSERT INTO blobs VALUES (?, ?, ?)", params![kept_sha256, kept_size as i64, Vec::<u8>::new()])?;
    }
    let redacted = (!cut.is_empty()).then(|| serde_json::json!({ "cut": cut, "sha256_as_received": sha256 }));
    debug_assert!(redacted.is_some() || kept_size == size);
    Ok(Kept { sha256: kept_sha256, redacted })
}

/// The sha256 of the bytes received and, when something was cut, of the bytes kept; and what was cut.
type Copied = (String, Option<String>, std::collections::BTreeMap<&'static str, usize>);

/// Copies `input` to `output` in pieces ending at line breaks, cutting credential material from each (unless the
/// bytes are `compressed`). Three threads share the work, so the cutting (the slowest part) overlaps reading,
/// hashing and writing: this one reads and splits, one cuts, one hashes and writes; bounded queues keep at most a
/// few pieces in memory.
fn copy_redacted(input: &mut File, output: &mut File, compressed: bool) -> Result<Copied> {
    std::thread::scope(|scope| {
        let (to_cut, pieces) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let (to_write, cut_pieces) = std::sync::mpsc::sync_channel::<(Vec<u8>, Option<Vec<u8>>)>(2);
        let cutter = scope.spawn(move || {
            let mut cut = std::collections::BTreeMap::new();
            for piece in pieces {
                let redacted = if compressed { None } else { super::redact::redact_piece(&piece, &mut cut) };
                if to_write.send((piece, redacted)).is_err() {
                    break;
                }
            }
            cut
        });
        let writer = scope.spawn(move || -> Result<(String, Option<String>)> {
            // The bytes kept are hashed apart from those received only once a piece was cut: until then they are
            // the same.
            let (mut received, mut written): (Sha256, Option<Sha256>) = (Sha256::new(), None);
            for (piece, redacted) in cut_pieces {
                if written.is_none() && redacted.is_some() {
                    written = Some(received.clone());
                }
                let kept = redacted.as_deref().unwrap_or(&piece);
                if let Some(written) = written.as_mut() {
                    written.update(kept);
                }
                received.update(&piece);
                output.write_all(kept)?;
            }
            Ok((super::hex_digest(received), written.map(super::hex_digest)))
        });
        let read = (|| -> Result<()> {
            let mut pending: Vec<u8> = Vec::with_capacity(2 * PIECE_BYTES);
            let mut buffer = vec![0u8; PIECE_BYTES];
            loop {
                let read = input.read(&mut buffer)?;
                if read == 0 {
                    break;
                }
                pending.extend_from_slice(&buffer[..read]);
                let end = match pending.iter().rposition(|b| *b == b'\n') {
                    Some(at) => at + 1,
                    None if pending.len() >= 4 * PIECE_BYTES => pending.len(),
                    None => continue,
                };
                let rest = pending.split_off(end);
                // A writer that stopped says why when joined.
                if to_cut.send(std::mem::replace(&mut pending, rest)).is_err() {
                    return Ok(());
                }
            }
            let _ = to_cut.send(pending);
            Ok(())
        })();
        drop(to_cut);
        let cut = cutter.join().map_err(|_| anyhow::anyhow!("cutting credentials from a copy failed"))?;
        let (received, written) = writer.join().map_err(|_| anyhow::anyhow!("writing a copy failed"))??;
        read?;
        Ok((received, written, cut))
    })
}

/// The copy of a file already kept, found by the file's own digest (as kept, or in a redacted copy's provenance).
fn already_kept(conn: &Connection, sha256: &str) -> Result<Option<Kept>> {
    let stored: i64 = conn.query_row("SELECT count(*) FROM blobs WHERE sha256 = ?", [sha256], |row| row.get(0))?;
    if stored > 0 {
        return Ok(Some(Kept { sha256: sha256.to_string(), redacted: None }));
    }
    let redacted: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT e.sha256, (e.provenance::JSON->'redacted')::VARCHAR FROM evidence e JOIN blobs b USING (sha256)
             WHERE e.source = 'file' AND (e.provenance::JSON->>'$.redacted.sha256_as_received') = ? LIMIT 1",
        )?
        .query_row([sha256], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(redacted.map(|(kept, note)| Kept { sha256: kept, redacted: serde_json::from_str(&note).ok() }))
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
    if super::hex_digest(hasher) != sha256 {
        bail!("the store's copy of {} is corrupt: its bytes no longer match their sha256", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};

    #[test]
    fn a_copy_cut_in_several_pieces_keeps_order_and_names_both_digests() {
        let line = "{\"action\":\"repo.create\",\"actor\":\"alice\",\"note\":\"nothing secret here\"}\n";
        let secret = "{\"config\":{\"url\":\"https://bot:CANARY-pass@hooks.example.com/x\"}}\n";
        let mut text = String::from(secret);
        while text.len() < 3 * super::PIECE_BYTES {
            text.push_str(line);
        }
        text.push_str(secret);
        let mut input = tempfile::tempfile().unwrap();
        input.write_all(text.as_bytes()).unwrap();
        input.rewind().unwrap();
        let mut output = tempfile::tempfile().unwrap();
        let (received, written, cut) = super::copy_redacted(&mut input, &mut output, false).unwrap();
        output.rewind().unwrap();
        let mut kept = String::new();
        std::io::Read::read_to_string(&mut output, &mut kept).unwrap();
        assert_eq!(received, crate::store::sha256_hex(text.as_bytes()));
        assert_eq!(written.as_deref(), Some(crate::store::sha256_hex(kept.as_bytes()).as_str()));
        assert_eq!(cut.get("credentials in URLs"), Some(&2));
        assert_eq!(kept, text.replace("CANARY-pass", crate::store::redact::MARKER), "every piece, in order");
        // Nothing to cut: one digest names both.
        let mut clean = tempfile::tempfile().unwrap();
        clean.write_all(line.repeat(1000).as_bytes()).unwrap();
        clean.rewind().unwrap();
        let (_, written, cut) = super::copy_redacted(&mut clean, &mut tempfile::tempfile().unwrap(), false).unwrap();
        assert!(written.is_none() && cut.is_empty());
    }
}
