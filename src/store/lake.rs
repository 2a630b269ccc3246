//! A DuckLake store: DuckDB's `ducklake` extension keeps the catalog in PostgreSQL (through the `postgres`
//! extension) and the data as Parquet files, so many `collect`/`ingest` jobs write at once, each in its own
//! transaction, and one `evaluate` reads everything.
//!
//! DuckLake has no sequences, keys or indexes, and two transactions conflict when one deletes from (or updates) a
//! table the other wrote: so ids come from a counter table bumped in a transaction of its own, a collection only
//! appends (deleting nothing but rows it wrote itself), and a short write that lost a conflict is retried.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use duckdb::{params, Connection};

/// The name the lake is attached under.
pub const ALIAS: &str = "pipeproof_lake";

/// The environment variable naming the folder holding the `ducklake` and `postgres` extension files (DuckDB's
/// layout: `<folder>/v1.5.5/linux_amd64/ducklake.duckdb_extension`); unset, DuckDB's own `~/.duckdb/extensions`.
pub const EXTENSIONS_ENV: &str = "PIPEPROOF_DUCKDB_EXTENSIONS";

/// How often a write that lost a conflict to another writer is tried again.
const CONFLICT_ATTEMPTS: u32 = 40;

/// Opens `catalog` (what follows `ducklake:`) on a fresh in-memory DuckDB and makes it the default database.
pub fn connect(catalog: &str, config: duckdb::Config, read_only: bool) -> Result<Connection> {
    let conn = Connection::open_in_memory_with_flags(config)?;
    if let Some(folder) = std::env::var_os(EXTENSIONS_ENV) {
        let folder = folder.to_string_lossy().replace('\'', "''");
        conn.execute_batch(&format!("SET extension_directory = '{folder}'"))?;
    }
    let mut extensions = vec!["ducklake"];
    if catalog.starts_with("postgres:") {
        extensions.push("postgres");
    }
    for extension in extensions {
        conn.execute_batch(&format!("LOAD {extension}")).map_err(|error| {
            anyhow!(
                "a DuckLake store needs DuckDB's {extension} extension for DuckDB {}, which is not installed: \
                 install it with the duckdb command line (INSTALL {extension}) or put its file in the folder \
                 {EXTENSIONS_ENV} names ({})",
                conn.query_row("SELECT version()", [], |row| row.get::<_, String>(0)).unwrap_or_default(),
                first_line(&error.to_string())
            )
        })?;
    }
    let mut options = Vec::new();
    if let Some(data) = std::env::var_os(super::location::LAKE_DATA_ENV).filter(|_| !read_only) {
        let mut data = data.to_string_lossy().into_owned();
        if !data.ends_with('/') {
            data.push('/');
        }
        options.push(format!("DATA_PATH '{}'", data.replace('\'', "''")));
    }
    if read_only {
        options.push("READ_ONLY".into());
    }
    let options = if options.is_empty() { String::new() } else { format!(" ({})", options.join(", ")) };
    let attach = format!("ATTACH '{}{catalog}' AS {ALIAS}{options}; USE {ALIAS}", super::location::LAKE_PREFIX);
    // Writers that find an empty catalog all initialise it: the ones that lose that race try again and find it made.
    let mut attempt = 0u64;
    loop {
        match conn.execute_batch(&attach) {
            Ok(()) if read_only => return pinned(conn, catalog),
            Ok(()) => return Ok(conn),
            Err(error) if error.to_string().contains("Failed to initialize DuckLake") && attempt < 20 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(100 * attempt));
            }
            Err(error) => {
                return Err(anyhow!("cannot open the DuckLake store: {}", first_line(&error.to_string())));
            }
        }
    }
}

/// A reader attached again at the lake's current snapshot: every query it runs sees that one state, while writers
/// go on committing (an evaluation judges all its controls on the same evidence).
fn pinned(conn: Connection, catalog: &str) -> Result<Connection> {
    let snapshot: i64 = conn.query_row(&format!("SELECT id FROM {ALIAS}.current_snapshot()"), [], |row| row.get(0))?;
    conn.execute_batch(&format!(
        "USE memory; DETACH {ALIAS}; ATTACH '{}{catalog}' AS {ALIAS} (READ_ONLY, SNAPSHOT_VERSION {snapshot}); \
         USE {ALIAS}",
        super::location::LAKE_PREFIX
    ))
    .map_err(|error| {
        anyhow!("cannot open the DuckLake store at snapshot {snapshot}: {}", first_line(&error.to_string()))
    })?;
    Ok(conn)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Whether `conn`'s default database is a DuckLake.
pub fn is_lake(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_databases() WHERE database_name = current_database() AND type = 'ducklake'",
        [],
        |row| row.get(0),
    )?)
}

/// The folder (or shared mount) the lake keeps its Parquet files in, as its catalog records it.
pub fn data_path(conn: &Connection) -> Result<String> {
    conn.query_row(
        &format!("SELECT value FROM __ducklake_metadata_{ALIAS}.ducklake_metadata WHERE key = 'data_path'"),
        [],
        |row| row.get(0),
    )
    .context("the DuckLake catalog records no data path")
}

/// Makes the lake's control SQL sandbox: files are readable in the lake's data folder only, and external access
/// is switched off.
pub fn confine(conn: &Connection) -> Result<()> {
    let data = data_path(conn)?.replace('\'', "''");
    conn.execute_batch(&format!("SET allowed_directories = ['{data}']; SET enable_external_access = false"))?;
    Ok(())
}

/// A migration's SQL as DuckLake takes it: no sequences (a row in `id_counters` instead), no keys.
pub fn migration(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    for statement in sql.split_inclusive(';') {
        let trimmed = without_leading_comments(statement);
        if let Some(rest) = strip_prefix_ignore_case(trimmed, "CREATE SEQUENCE ") {
            let name = rest.split_whitespace().next().unwrap_or_default().trim_end_matches(';');
            let lead = &statement[..statement.len() - trimmed.len()];
            out.push_str(&format!(
                "{lead}CREATE TABLE IF NOT EXISTS id_counters (name VARCHAR NOT NULL, next BIGINT NOT NULL);\n\
                 INSERT INTO id_counters VALUES ('{name}', 1);"
            ));
        } else {
            out.push_str(&without_keys(statement));
        }
    }
    out
}

/// A statement from its first line that is not blank or a `--` comment.
fn without_leading_comments(statement: &str) -> &str {
    let mut rest = statement.trim_start();
    while rest.starts_with("--") {
        rest = rest.split_once('\n').map_or("", |(_, after)| after).trim_start();
    }
    rest
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)).then(|| &text[prefix.len()..])
}

/// Removes column `PRIMARY KEY` constraints and table-level `PRIMARY KEY (…)` clauses (with the comma before).
fn without_keys(statement: &str) -> String {
    let mut text = statement.to_string();
    while let Some(at) = text.find("PRIMARY KEY") {
        let after = &text[at + "PRIMARY KEY".len()..];
        let trimmed = after.trim_start();
        if trimmed.starts_with('(') {
            let close = at + "PRIMARY KEY".len() + (after.len() - trimmed.len()) + trimmed.find(')').unwrap_or(0) + 1;
            let start = text[..at].trim_end().strip_suffix(',').map_or(at, str::len);
            text.replace_range(start..close, "");
        } else {
            let start = text[..at].trim_end().len();
            text.replace_range(start..at + "PRIMARY KEY".len(), "");
        }
    }
    text
}

/// `count` fresh ids of the counter `name`, taken in a transaction of their own on a second connection (so the
/// caller's open transaction neither holds them nor conflicts with another writer taking some).
pub fn next_ids(conn: &Connection, name: &str, count: usize) -> Result<Vec<i64>> {
    let counter = conn.try_clone()?;
    let first: i64 = retry_conflicts(|| {
        counter.execute_batch("BEGIN TRANSACTION")?;
        let taken = (|| -> Result<i64> {
            let first: i64 = counter.query_row(
                &format!("SELECT next FROM {ALIAS}.main.id_counters WHERE name = ?"),
                [name],
                |row| row.get(0),
            )?;
            counter.execute(
                &format!("UPDATE {ALIAS}.main.id_counters SET next = next + ? WHERE name = ?"),
                params![count as i64, name],
            )?;
            counter.execute_batch("COMMIT")?;
            Ok(first)
        })();
        if taken.is_err() {
            let _ = counter.execute_batch("ROLLBACK");
        }
        taken
    })?;
    Ok((first..first + count as i64).collect())
}

/// Whether an error is DuckLake's "another transaction changed this table first".
pub fn is_conflict(error: &anyhow::Error) -> bool {
    format!("{error:#}").contains("Transaction conflict")
}

/// Runs a short write again while it loses a conflict to another writer, waiting a little longer each time.
pub fn retry_conflicts<T>(mut work: impl FnMut() -> Result<T>) -> Result<T> {
    let mut attempt = 0;
    loop {
        match work() {
            Err(error) if is_conflict(&error) && attempt + 1 < CONFLICT_ATTEMPTS => {
                attempt += 1;
                let jitter = u64::from(std::process::id() % 17 + attempt * 7);
                std::thread::sleep(Duration::from_millis(20 * u64::from(attempt.min(10)) + jitter));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_lose_their_sequences_and_keys() {
        let sql = "-- a comment\nCREATE SEQUENCE run_ids START 1;\nCREATE TABLE runs (\n    run_id BIGINT PRIMARY KEY,\n    a VARCHAR\n);\n\
                   CREATE TABLE h (\n    a VARCHAR NOT NULL,\n    b BIGINT NOT NULL,\n    PRIMARY KEY (a, b)\n);";
        let lake = migration(sql);
        assert!(!lake.contains("SEQUENCE") && !lake.contains("PRIMARY KEY"), "{lake}");
        assert!(lake.contains("INSERT INTO id_counters VALUES ('run_ids', 1);"), "{lake}");
        assert!(lake.contains("run_id BIGINT,"), "{lake}");
        assert!(lake.contains("b BIGINT NOT NULL\n);"), "{lake}");
        Connection::open_in_memory().unwrap().execute_batch(&lake).unwrap();
        let conn = Connection::open_in_memory().unwrap();
        for sql in super::super::migrations::all() {
            conn.execute_batch(&migration(sql)).unwrap();
        }
    }
}
