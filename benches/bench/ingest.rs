//! Benchmark: ingest a JSON Lines GitHub audit log of 10 million events (about 2 GB) and, in the same run, let
//! DuckDB itself read the same file into a table (`read_json`, same build of the duckdb crate).
//! Prints wall time, MB/s, rows/s and peak RSS of each, each measured in its own process.
//! Size: PIPEPROOF_BENCH_EVENTS (default 10000000). Run with `./x bench ingest`.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::measure::{env_number, peak_rss_mb};

const ACTIONS: &[&str] = &[
    "repo.create",
    "protected_branch.update",
    "org.update_member",
    "user.login",
    "workflows.completed_workflow_run",
    "git.clone",
    "repo.access",
    "team.add_repository",
];

/// Writes `events` GitHub-style audit events, one per line, with unique document ids.
fn generate(path: &Path, events: usize) -> std::io::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let start_ms: i64 = 1_719_792_000_000; // 2024-07-01
    for i in 0..events {
        let action = ACTIONS[i % ACTIONS.len()];
        writeln!(
            out,
            "{{\"@timestamp\":{},\"_document_id\":\"doc-{i:010}\",\"action\":\"{action}\",\"actor\":\"user{}\",\
             \"actor_id\":{},\"org\":\"acme\",\"org_id\":4242,\"repo\":\"acme/repo-{}\",\"actor_ip\":\"10.{}.{}.{}\",\
             \"operation_type\":\"modify\",\"user_agent\":\"Mozilla/5.0\"}}",
            start_ms + (i as i64) * 1_000,
            i % 5_000,
            100_000 + i % 5_000,
            i % 1_000,
            i % 250,
            (i / 250) % 250,
            i % 200
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn pipeproof_ingest(log: &Path, store_path: &Path) -> anyhow::Result<()> {
    let store = pipeproof::store::Store::open(store_path)?;
    let start = Instant::now();
    let run_id = store.start_run("ingest")?;
    let outcome = pipeproof::ingest::ingest_file(&store, run_id, log, &Default::default());
    anyhow::ensure!(outcome.error.is_none(), "{:?}", outcome.error);
    let seconds = start.elapsed().as_secs_f64();
    let rows = outcome.stored.unwrap_or(0);
    let bytes = std::fs::metadata(log)?.len() as f64;
    println!(
        "pipeproof ingest: {rows} events in {seconds:.1} s: {:.0} MB/s, {:.0} rows/s (hash, store the file, \
         normalise, dedupe), peak RSS {:.0} MB",
        bytes / 1e6 / seconds,
        rows as f64 / seconds,
        peak_rss_mb()
    );
    Ok(())
}

fn duckdb_read(log: &Path, db: &Path) -> anyhow::Result<()> {
    let conn = duckdb::Connection::open(db)?;
    let start = Instant::now();
    conn.execute(
        "CREATE TABLE events AS SELECT * FROM read_json(?, format = 'newline_delimited')",
        [log.display().to_string()],
    )?;
    let seconds = start.elapsed().as_secs_f64();
    // DuckDB 1.5 reports no row count for CREATE TABLE AS; counting afterwards is outside the timing.
    let rows: i64 = conn.query_row("SELECT count(*) FROM events", [], |row| row.get(0))?;
    let bytes = std::fs::metadata(log)?.len() as f64;
    println!(
        "duckdb read_json:  {rows} rows in {seconds:.1} s: {:.0} MB/s, {:.0} rows/s (parse into a table), \
         peak RSS {:.0} MB",
        bytes / 1e6 / seconds,
        rows as f64 / seconds,
        peak_rss_mb()
    );
    Ok(())
}

/// One side of the comparison, in its own process: `pipeproof|duckdb LOG STORE`.
pub fn child(args: &[String]) -> anyhow::Result<()> {
    match args {
        [side, log, store] if side == "pipeproof" => pipeproof_ingest(Path::new(log), Path::new(store)),
        [side, log, store] if side == "duckdb" => duckdb_read(Path::new(log), Path::new(store)),
        _ => anyhow::bail!("ingest-child takes pipeproof|duckdb LOG STORE"),
    }
}

/// Generates the log, then ingests it with pipeproof and reads it with DuckDB, each in a fresh process.
pub fn run() -> anyhow::Result<()> {
    let events = env_number("PIPEPROOF_BENCH_EVENTS", 10_000_000);
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("audit.jsonl");
    let start = Instant::now();
    let bytes = generate(&log, events)?;
    println!(
        "setup: {events} GitHub audit events, {:.2} GB of JSON Lines, written in {:.1} s",
        bytes as f64 / 1e9,
        start.elapsed().as_secs_f64()
    );
    // Each side runs in a fresh process so each peak RSS is its own.
    let me = std::env::current_exe()?;
    for (side, db) in [("duckdb", "raw.duckdb"), ("pipeproof", "store.duckdb")] {
        let status = std::process::Command::new(&me)
            .arg("ingest-child")
            .arg(side)
            .arg(&log)
            .arg(dir.path().join(db))
            .status()?;
        anyhow::ensure!(status.success(), "{side} failed");
    }
    let size = |name: &str| std::fs::metadata(dir.path().join(name)).map(|m| m.len()).unwrap_or(0);
    let store_bytes = size("store.duckdb") + size("store.duckdb.wal");
    let kept = dir.path().join("store.duckdb.evidence");
    let kept_bytes: u64 = std::fs::read_dir(&kept)
        .into_iter()
        .flatten()
        .flat_map(|entry| std::fs::read_dir(entry.unwrap().path()).into_iter().flatten())
        .map(|file| file.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "store after ingest: {:.2} GB of DuckDB (events), plus the log itself kept as evidence beside it ({:.2} GB)",
        store_bytes as f64 / 1e9,
        kept_bytes as f64 / 1e9
    );
    Ok(())
}
