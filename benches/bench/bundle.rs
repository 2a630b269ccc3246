//! Benchmark: bundle and verify a period with 100,000 evidence items (1 GB by default).
//! Prints wall time, zip size and peak RSS for writing the bundle and, in a fresh process, for verifying it.
//! Sizes: PIPEPROOF_BENCH_ITEMS (default 100000) and PIPEPROOF_BENCH_ITEM_BYTES (default 10240).
//! Run with `./x bench bundle`. The reports inside are small: this measures the part that grows with evidence
//! (store → zip → verify); report rendering is measured with the reports.

use std::path::Path;
use std::time::Instant;

use crate::measure::{env_number, peak_rss_mb};

use pipeproof::bundle::manifest::{root_hash, Manifest, ManifestEvidence, ManifestFile, FORMAT, FORMAT_VERSION};
use pipeproof::bundle::{Content, Contents, Entry};
use pipeproof::store::{add_blobs, sha256_hex, Store};

/// A JSON-ish evidence body of about `size` bytes, unique per item and only moderately compressible.
fn body(item: usize, size: usize) -> Vec<u8> {
    let mut state = (item as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut text = format!("{{\"item\":{item},\"data\":\"");
    while text.len() + 2 < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(&format!("{:016x}", state)[..8.min(size - 2 - text.len())]);
        text.push_str(" repo/name ");
    }
    text.truncate(size - 2);
    text.push_str("\"}");
    text.into_bytes()
}

fn verify_in_this_process(bundle: &Path) {
    let start = Instant::now();
    let verification = pipeproof::bundle::verify(bundle, None, pipeproof::bundle::DEFAULT_MAX_UNPACKED_BYTES);
    let seconds = start.elapsed().as_secs_f64();
    assert!(verification.holds(), "{:?}", verification.problems.first());
    println!(
        "verify: {} files checked in {seconds:.1} s, peak RSS {:.0} MB (goal < 200 MB)",
        verification.files_checked,
        peak_rss_mb()
    );
}

fn bundle_in_this_process(store_path: &Path, bundle: &Path) -> anyhow::Result<()> {
    let store = Store::open(store_path)?;
    let start = Instant::now();
    let mut entries = Vec::new();
    let mut evidence = Vec::new();
    let mut statement = store.conn().prepare("SELECT sha256, size FROM blobs ORDER BY sha256")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let sha256: String = row.get(0)?;
        let size: i64 = row.get(1)?;
        let file = pipeproof::report::model::evidence_file(&sha256);
        entries.push(Entry {
            file: ManifestFile { path: file.clone(), size: size as u64, sha256: sha256.clone() },
            content: Content::Blob,
        });
        evidence.push(ManifestEvidence {
            id: evidence.len() as i64,
            sha256,
            file,
            source: "bench".into(),
            kind: "bench.item".into(),
            subject: format!("bench/repo-{}", evidence.len() % 2_000),
            collected_at: "2026-09-30T12:00:00Z".into(),
            provenance: serde_json::json!({"synthetic": true}),
        });
    }
    drop(rows);
    drop(statement);
    let report = b"{\"synthetic\": true}\n".to_vec();
    entries.push(Entry {
        file: ManifestFile { path: "report.json".into(), size: report.len() as u64, sha256: sha256_hex(&report) },
        content: Content::Bytes(report),
    });
    entries.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    let files: Vec<ManifestFile> = entries.iter().map(|e| e.file.clone()).collect();
    let total_bytes: u64 = files.iter().map(|f| f.size).sum();
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool_version: pipeproof::VERSION.into(),
        organisation: "bench".into(),
        evaluation_id: 1,
        period: None,
        as_of: "2026-09-30T23:59:59Z".into(),
        catalogue_sha256: "0".repeat(64),
        evidence_digest: "0".repeat(64),
        root_hash: root_hash(&files, FORMAT_VERSION),
        files,
        evidence,
        catalogue: Vec::new(),
        previous_root_hash: None,
    };
    let contents = Contents { entries, manifest };
    pipeproof::bundle::write(store.conn(), &contents, None, bundle)?;
    let seconds = start.elapsed().as_secs_f64();
    let zip_bytes = std::fs::metadata(bundle)?.len();
    println!(
        "bundle: {:.2} GB of evidence → {:.2} GB zip in {seconds:.1} s ({:.0} MB/s), peak RSS {:.0} MB",
        total_bytes as f64 / 1e9,
        zip_bytes as f64 / 1e9,
        total_bytes as f64 / 1e6 / seconds,
        peak_rss_mb()
    );
    Ok(())
}

/// One step in its own process: `verify BUNDLE` or `bundle STORE BUNDLE`.
pub fn child(args: &[String]) -> anyhow::Result<()> {
    match args {
        [step, bundle] if step == "verify" => {
            verify_in_this_process(Path::new(bundle));
            Ok(())
        }
        [step, store, bundle] if step == "bundle" => bundle_in_this_process(Path::new(store), Path::new(bundle)),
        _ => anyhow::bail!("bundle-child takes verify BUNDLE or bundle STORE BUNDLE"),
    }
}

/// Stores the evidence, then bundles and verifies it, each in a fresh process.
pub fn run() -> anyhow::Result<()> {
    let items = env_number("PIPEPROOF_BENCH_ITEMS", 100_000);
    let item_bytes = env_number("PIPEPROOF_BENCH_ITEM_BYTES", 10_240);
    let dir = tempfile::tempdir()?;
    let store_path = dir.path().join("bench.duckdb");
    let store = Store::open(&store_path)?;
    let start = Instant::now();
    for chunk_start in (0..items).step_by(2_000) {
        let bodies: Vec<Vec<u8>> =
            (chunk_start..(chunk_start + 2_000).min(items)).map(|i| body(i, item_bytes)).collect();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        add_blobs(store.conn(), &refs)?;
    }
    drop(store);
    println!(
        "setup: {items} evidence items of {item_bytes} bytes ({:.2} GB) stored in {:.1} s",
        (items * item_bytes) as f64 / 1e9,
        start.elapsed().as_secs_f64()
    );
    // Bundle and verify each run in a fresh process, so each peak RSS is its own.
    let bundle = dir.path().join("bench.zip");
    let me = std::env::current_exe()?;
    anyhow::ensure!(std::process::Command::new(&me)
        .arg("bundle-child")
        .arg("bundle")
        .arg(&store_path)
        .arg(&bundle)
        .status()?
        .success());
    anyhow::ensure!(std::process::Command::new(&me).arg("bundle-child").arg("verify").arg(&bundle).status()?.success());
    Ok(())
}
