//! A log larger than one stored blob: ingested through DuckDB's reader, its bytes kept beside the store, and written back
//! byte for byte into a bundle (zip and folder) and verified.

use std::io::Write;
use std::path::Path;

use pipeproof::bundle::manifest::{root_hash, Manifest, ManifestFile, FORMAT, FORMAT_VERSION};
use pipeproof::bundle::{Content, Contents, Entry};
use pipeproof::store::{sha256_hex, Store};

const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)";

/// About 70 MB of GitHub audit events (more than the 64 MiB kept as one blob), gzip-compressible.
fn write_log(path: &Path, events: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..events {
        writeln!(
            out,
            "{{\"@timestamp\":{},\"_document_id\":\"doc-{i:09}\",\"action\":\"repo.access\",\"actor\":\"user{}\",\
             \"org\":[\"acme\",{}],\"repo\":\"acme/repo-{}\",\"user_agent\":\"{AGENT}\"}}",
            1_719_792_000_000i64 + i as i64,
            i % 97,
            i % 3,
            i % 500,
        )
        .unwrap();
    }
}

#[test]
fn a_large_log_streams_in_parts_and_comes_back_whole_in_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    write_log(&log, 330_000);
    let bytes = std::fs::read(&log).unwrap();
    assert!(bytes.len() > 64 << 20, "the log must exceed one inline blob: {}", bytes.len());
    let store_path = dir.path().join("store.duckdb");
    let store = Store::open(&store_path).unwrap();
    let run_id = store.start_run("ingest").unwrap();
    let outcome = pipeproof::ingest::ingest_file(&store, run_id, &log, &Default::default());
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.stored, Some(330_000));
    let conn = store.conn();
    let kept = std::path::PathBuf::from(format!("{}.evidence", store_path.display()))
        .join(&sha256_hex(&bytes)[..2])
        .join(sha256_hex(&bytes));
    assert_eq!(std::fs::read(&kept).unwrap(), bytes, "the log is kept beside the store");
    let inline: i64 = conn
        .query_row("SELECT octet_length(body) FROM blobs WHERE sha256 = ?", [sha256_hex(&bytes)], |row| row.get(0))
        .unwrap();
    assert_eq!(inline, 0);
    let orgs: i64 = conn
        .query_row("SELECT count(*) FROM audit_events_history WHERE target IS NULL OR event_time IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(orgs, 0);
    let org_list: String = conn
        .query_row("SELECT target FROM audit_events_history WHERE event_key = 'doc-000000001'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(org_list, "acme/repo-1", "repo wins over org as the target");

    // Ingesting it again adds nothing and stores no second copy.
    let again = pipeproof::ingest::ingest_file(&store, run_id, &log, &Default::default());
    assert_eq!(again.summary.as_deref().map(|s| s.starts_with("already ingested")), Some(true), "{again:?}");
    let copies = std::fs::read_dir(kept.parent().unwrap()).unwrap().count();
    assert_eq!(copies, 1);

    for output in [dir.path().join("bundle.zip"), dir.path().join("bundle")] {
        let file = ManifestFile {
            path: format!("evidence/{}/{}", &sha256_hex(&bytes)[..2], sha256_hex(&bytes)),
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        };
        let files = vec![file.clone()];
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            tool_version: pipeproof::VERSION.into(),
            organisation: "test".into(),
            evaluation_id: 1,
            period: None,
            as_of: "2026-09-30T23:59:59Z".into(),
            catalogue_sha256: "0".repeat(64),
            evidence_digest: "0".repeat(64),
            root_hash: root_hash(&files, FORMAT_VERSION),
            files,
            evidence: Vec::new(),
            catalogue: Vec::new(),
            previous_root_hash: None,
        };
        let contents = Contents { entries: vec![Entry { file: file.clone(), content: Content::Blob }], manifest };
        pipeproof::bundle::write(conn, &contents, None, &output).unwrap();
        let verification = pipeproof::bundle::verify(&output, None, pipeproof::bundle::DEFAULT_MAX_UNPACKED_BYTES);
        assert!(verification.holds(), "{:?}", verification.problems);
        if output.is_dir() {
            assert_eq!(std::fs::read(output.join(&file.path)).unwrap(), bytes);
        }
    }
}

#[test]
fn a_large_file_whose_copy_was_altered_is_refused_when_bundled() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    write_log(&log, 330_000);
    let store_path = dir.path().join("store.duckdb");
    let store = Store::open(&store_path).unwrap();
    let run_id = store.start_run("ingest").unwrap();
    assert!(pipeproof::ingest::ingest_file(&store, run_id, &log, &Default::default()).error.is_none());
    let sha256 = sha256_hex(&std::fs::read(&log).unwrap());
    let kept = std::path::PathBuf::from(format!("{}.evidence", store_path.display())).join(&sha256[..2]).join(&sha256);
    let mut bytes = std::fs::read(&kept).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&kept, bytes).unwrap();
    let mut seen = 0;
    let error = pipeproof::store::large_bodies::read(store.conn(), &sha256, |piece| {
        seen += piece.len();
        Ok(())
    })
    .unwrap_err();
    assert!(error.to_string().contains("is corrupt"), "{error}");
}

#[test]
fn credentials_in_a_large_log_are_cut_from_the_copy_kept_and_the_facts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    write_log(&log, 330_000);
    {
        let mut out = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(
            out,
            "{{\"@timestamp\":1719792999000,\"_document_id\":\"doc-secret\",\"action\":\"hook.create\",\"actor\":\"eve\",\
             \"org\":\"acme\",\"config\":{{\"url\":\"https://bot:CANARY-large-pass@hooks.example.com/x\"}}}}"
        )
        .unwrap();
    }
    let store_path = dir.path().join("store.duckdb");
    let store = Store::open(&store_path).unwrap();
    let run_id = store.start_run("ingest").unwrap();
    let outcome = pipeproof::ingest::ingest_file(&store, run_id, &log, &Default::default());
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.stored, Some(330_001));
    let (kept_sha256, note): (String, String) = store
        .conn()
        .query_row("SELECT sha256, (provenance::JSON->'redacted')::VARCHAR FROM evidence", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    let received = sha256_hex(&std::fs::read(&log).unwrap());
    assert_ne!(kept_sha256, received);
    assert!(note.contains("credentials in URLs") && note.contains(&received), "{note}");
    let kept = std::path::PathBuf::from(format!("{}.evidence", store_path.display()))
        .join(&kept_sha256[..2])
        .join(&kept_sha256);
    let bytes = std::fs::read(kept).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"CANARY-"), "the kept copy holds no credential");
    assert_eq!(sha256_hex(&bytes), kept_sha256, "the copy is named by the digest of its own bytes");
    let count = |sql: &str| -> i64 { store.conn().query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM audit_events_history WHERE event_key = 'doc-secret'"), 1);
    assert_eq!(count("SELECT count(*) FROM audit_events_history a WHERE a::VARCHAR LIKE '%CANARY-%'"), 0);
    let again = pipeproof::ingest::ingest_file(&store, run_id, &log, &Default::default());
    assert_eq!(again.stored, Some(0), "the same file is recognised: {:?}", again.summary);
}
