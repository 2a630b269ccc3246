//! `pipeproof export --format parquet`: the store as an open lake other engines read. Every fact history table,
//! the evidence metadata (the raw bytes stay content-addressed in the store and in bundles: `evidence.sha256`), the
//! runs and collection watermarks, and the evaluations with their outcomes, verdicts and per-framework figures, as
//! Hive-partitioned Parquet: `DIR/<table>/lake_org=<organisation>/lake_month=<YYYY-MM>/runs-<from>-<to>_<n>.parquet`.
//! Exports are incremental: the history tables only grow (each row carries the run that wrote it), so each export
//! writes the runs and evaluations after the last one it recorded, as new files. `DIR/manifest.json` lists every file
//! with its table, rows, size and sha256, and every table's columns; `docs/lake.md` documents the layout (version 1).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use duckdb::Connection;
use serde::{Deserialize, Serialize};

use crate::error::input_error;

/// The lake's format name, in its manifest.
pub const LAKE_FORMAT: &str = "pipeproof-lake";
/// The version of the layout `docs/lake.md` documents.
pub const LAKE_VERSION: u32 = 1;
/// The most a manifest may weigh when read back.
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// `DIR/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LakeManifest {
    /// Always `pipeproof-lake`.
    pub format: String,
    /// The layout version.
    pub version: u32,
    /// The highest store run whose rows are exported.
    pub runs_up_to: i64,
    /// The highest evaluation exported.
    pub evaluations_up_to: i64,
    /// Each export: when, by which pipeproof, and the runs and evaluations it added.
    pub exports: Vec<LakeExport>,
    /// Every table: its columns (name and DuckDB type), partition columns included.
    pub tables: BTreeMap<String, Vec<(String, String)>>,
    /// Every file, sorted by path.
    pub files: Vec<LakeFile>,
}

/// One export into the lake.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LakeExport {
    /// When (UTC, ISO 8601).
    pub exported_at: String,
    /// The pipeproof version.
    pub tool_version: String,
    /// Runs added: first and last (equal to the previous export's last when none).
    pub runs: (i64, i64),
    /// Evaluations added: first and last.
    pub evaluations: (i64, i64),
    /// Files written.
    pub files: usize,
}

/// One Parquet file of the lake.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LakeFile {
    /// Relative to the lake's folder, with `/`.
    pub path: String,
    /// The table it belongs to.
    pub table: String,
    /// Rows in it.
    pub rows: u64,
    /// Its size in bytes.
    pub size: u64,
    /// The sha256 of its bytes.
    pub sha256: String,
}

/// What one export did.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// Where.
    pub dir: PathBuf,
    /// Files written by this export.
    pub files: usize,
    /// Rows written by this export.
    pub rows: u64,
    /// The runs and evaluations it added.
    pub runs: (i64, i64),
    /// The evaluations it added.
    pub evaluations: (i64, i64),
}

/// How a table is cut into the lake.
struct Layout {
    table: String,
    /// The column that says which store run or evaluation wrote a row (incremental exports follow it).
    written_by: &'static str,
    /// SQL for the organisation a row is about.
    org: String,
    /// SQL for the moment a row is dated by.
    month: String,
}

/// The tables exported and how, from the store's own schema.
fn layouts(conn: &Connection) -> Result<Vec<Layout>> {
    let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut statement = conn.prepare(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
         WHERE c.table_schema = 'main' AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position",
    )?;
    for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))? {
        let (table, column) = row?;
        columns.entry(table).or_default().push(column);
    }
    let org_of = |cols: &[String]| -> String {
        if cols.iter().any(|c| c == "org") {
            "coalesce(x.org, '_none')".into()
        } else if let Some(named) = ["repo", "target", "service"].iter().find(|c| cols.iter().any(|col| col == *c)) {
            // The owner in a repository name (`owner/name`), an audit event's target or a deployment's service.
            format!("coalesce(nullif(split_part(x.{named}, '/', 1), ''), '_none')")
        } else {
            "'_none'".into()
        }
    };
    let mut layouts = Vec::new();
    for (table, cols) in &columns {
        let by_run = |month: &str| Layout {
            table: table.clone(),
            written_by: "run_id",
            org: org_of(cols),
            month: format!("strftime(x.{month}, '%Y-%m')"),
        };
        let by_evaluation =
            |month: String| Layout { table: table.clone(), written_by: "evaluation_id", org: "'_all'".into(), month };
        let evaluation_month =
            "(SELECT strftime(e.as_of, '%Y-%m') FROM evaluations e WHERE e.evaluation_id = x.evaluation_id)"
                .to_string();
        match table.as_str() {
            t if t.ends_with("_history") && cols.iter().any(|c| c == "observed_at") => {
                layouts.push(by_run("observed_at"))
            }
            "evidence" => layouts.push(by_run("collected_at")),
            "runs" => layouts.push(by_run("started_at")),
            "collection_watermarks" => layouts.push(by_run("read_until")),
            "evaluations" => layouts.push(by_evaluation("strftime(x.as_of, '%Y-%m')".into())),
            "control_outcomes" | "control_results" | "evaluation_frameworks" | "evaluation_retention" => {
                layouts.push(by_evaluation(evaluation_month))
            }
            _ => {}
        }
    }
    Ok(layouts)
}

fn quoted(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

/// Reads the lake's manifest, when the folder has one.
pub fn read_manifest(dir: &Path) -> Result<Option<LakeManifest>> {
    let path = dir.join("manifest.json");
    if !path.exists() {
        return Ok(None);
    }
    let size = std::fs::metadata(&path)?.len();
    if size > MAX_MANIFEST_BYTES {
        return Err(input_error(format!("{} is {size} bytes: not a lake manifest", path.display())));
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: LakeManifest = serde_json::from_str(&text)
        .map_err(|e| input_error(format!("{}: not a pipeproof lake manifest: {e}", path.display())))?;
    if manifest.format != LAKE_FORMAT || manifest.version != LAKE_VERSION {
        return Err(input_error(format!(
            "{}: a {} lake of version {}; this pipeproof writes {LAKE_FORMAT} version {LAKE_VERSION}",
            path.display(),
            manifest.format,
            manifest.version
        )));
    }
    Ok(Some(manifest))
}

/// Exports what the store holds beyond the lake's last export into `dir` (created when missing).
pub fn export_parquet(conn: &Connection, dir: &Path, now: &str) -> Result<ExportSummary> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let previous = read_manifest(dir)?;
    if previous.is_none() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(input_error(format!(
            "{} is not empty and holds no lake manifest: export into an empty folder or an earlier export",
            dir.display()
        )));
    }
    let mut manifest = previous.unwrap_or(LakeManifest {
        format: LAKE_FORMAT.into(),
        version: LAKE_VERSION,
        runs_up_to: 0,
        evaluations_up_to: 0,
        exports: Vec::new(),
        tables: BTreeMap::new(),
        files: Vec::new(),
    });
    // Up to the first run still writing: in a DuckLake store, runs commit in any order, so a later run's rows may be
    // visible before an earlier one's; that earlier run's rows come with a later export.
    let last_run: i64 = conn.query_row(
        "SELECT coalesce((SELECT min(run_id) - 1 FROM runs WHERE status = 'running'), (SELECT max(run_id) FROM runs), 0)",
        [],
        |row| row.get(0),
    )?;
    let last_evaluation: i64 =
        conn.query_row("SELECT coalesce(max(evaluation_id), 0) FROM evaluations", [], |row| row.get(0))?;
    let runs = (manifest.runs_up_to + 1, last_run.max(manifest.runs_up_to));
    let evaluations = (manifest.evaluations_up_to + 1, last_evaluation.max(manifest.evaluations_up_to));
    let known: std::collections::BTreeSet<String> = manifest.files.iter().map(|f| f.path.clone()).collect();
    for layout in layouts(conn)? {
        let (from, to) = if layout.written_by == "run_id" { runs } else { evaluations };
        let count: i64 = conn.query_row(
            &format!("SELECT count(*) FROM \"{}\" WHERE {} BETWEEN ? AND ?", layout.table, layout.written_by),
            duckdb::params![from, to],
            |row| row.get(0),
        )?;
        let columns = table_columns(conn, &layout.table)?;
        manifest.tables.insert(layout.table.clone(), columns);
        if count == 0 {
            continue;
        }
        let target = dir.join(&layout.table);
        conn.execute_batch(&format!(
            "COPY (SELECT x.*, {org} AS lake_org, {month} AS lake_month FROM \"{table}\" x
                   WHERE x.{by} BETWEEN {from} AND {to} ORDER BY x.{by})
             TO '{target}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (lake_org, lake_month),
                            FILENAME_PATTERN 'runs-{from}-{to}_{{i}}', OVERWRITE_OR_IGNORE true)",
            org = layout.org,
            month = layout.month,
            table = layout.table,
            by = layout.written_by,
            target = quoted(&target),
        ))
        .with_context(|| format!("exporting {}", layout.table))?;
    }
    let mut written = 0;
    let mut rows = 0u64;
    for path in parquet_files(dir)? {
        let relative = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
        if known.contains(&relative) {
            continue;
        }
        let table = relative.split('/').next().unwrap_or_default().to_string();
        let file_rows: i64 =
            conn.query_row(&format!("SELECT count(*) FROM read_parquet('{}')", quoted(&path)), [], |row| row.get(0))?;
        let (size, sha256) = crate::store::sha256_file(&path)?;
        manifest.files.push(LakeFile { path: relative, table, rows: file_rows as u64, size, sha256 });
        written += 1;
        rows += file_rows as u64;
    }
    manifest.files.sort_by(|a, b| a.path.cmp(&b.path));
    manifest.runs_up_to = runs.1;
    manifest.evaluations_up_to = evaluations.1;
    manifest.exports.push(LakeExport {
        exported_at: now.to_string(),
        tool_version: crate::VERSION.to_string(),
        runs,
        evaluations,
        files: written,
    });
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    let partial = dir.join("manifest.json.partial");
    std::fs::write(&partial, text).with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, dir.join("manifest.json"))?;
    Ok(ExportSummary { dir: dir.to_path_buf(), files: written, rows, runs, evaluations })
}

/// A table's columns and their types, with the two partition columns the lake adds.
fn table_columns(conn: &Connection, table: &str) -> Result<Vec<(String, String)>> {
    let mut statement = conn.prepare(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?
         ORDER BY ordinal_position",
    )?;
    let mut columns: Vec<(String, String)> =
        statement.query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
    columns.push(("lake_org".into(), "VARCHAR".into()));
    columns.push(("lake_month".into(), "VARCHAR".into()));
    Ok(columns)
}

/// Every `.parquet` file under `dir`, sorted (symbolic links are not followed).
fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).with_context(|| format!("cannot read {}", folder.display()))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() && entry.path().extension().is_some_and(|e| e == "parquet") {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}
