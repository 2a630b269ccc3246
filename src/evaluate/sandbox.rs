//! The sandbox control SQL runs in: a read-only database, no external access, configuration locked, a memory limit,
//! exactly one SELECT per control (as DuckDB's own parser counts statements), run in a transaction rolled back
//! after it, under a time limit, with its output bounded. Manual attestations for controls are a table of the
//! sandbox alone.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use chrono::NaiveDateTime;
use duckdb::arrow::datatypes::DataType;
use duckdb::{AccessMode, Connection};

use super::attestations::{AttestationState, Covers, JudgedAttestation};

/// The sandbox's table of manual attestations naming a control (not a fact table: it lives in no store).
pub const MANUAL_ATTESTATIONS: &str = "manual_attestations";

/// The memory a control query may use before DuckDB spills or stops it.
const MEMORY_LIMIT: &str = "2GB";

/// The most rows one control may return.
const MAX_ROWS: usize = 5_000_000;

/// The longest resource and reason kept; longer ones are cut, saying so.
const MAX_RESOURCE_CHARS: usize = 1_000;
const MAX_REASON_CHARS: usize = 4_000;

/// One row a control query returned.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// The resource judged.
    pub resource: String,
    /// The status text as returned.
    pub status: String,
    /// Why.
    pub reason: String,
    /// The evidence item that proves it.
    pub evidence_id: Option<i64>,
}

/// A read-only connection to the store for running untrusted control SQL.
pub struct Sandbox {
    conn: Connection,
    time_limit: Duration,
    /// The moment the as-of views show.
    as_of: std::cell::Cell<NaiveDateTime>,
    /// Whether each fact view showed any row, by (view, moment): every control that requires a view asks, and the
    /// answer costs as much as the view itself.
    has_rows: std::cell::RefCell<std::collections::HashMap<(String, NaiveDateTime), bool>>,
}

impl Sandbox {
    /// Opens the store read-only with external access disabled and configuration locked.
    pub fn open(path: &Path, scope: &super::Scope, time_limit: Duration) -> Result<Sandbox> {
        let conn = match crate::store::Location::of(path)? {
            crate::store::Location::File(file) => {
                let config =
                    crate::store::base_config()?.access_mode(AccessMode::ReadOnly)?.enable_external_access(false)?;
                Connection::open_with_flags(&file, config)
                    .map_err(|error| anyhow!("cannot open store {} for evaluation: {error}", path.display()))?
            }
            crate::store::Location::Lake(catalog) => {
                let conn = crate::store::lake::connect(&catalog, crate::store::base_config()?, true)?;
                crate::store::views::create_temporary(&conn)?;
                crate::store::lake::confine(&conn)?;
                conn
            }
        };
        let timestamp = |moment: NaiveDateTime| moment.format("%Y-%m-%d %H:%M:%S").to_string();
        conn.execute("SET VARIABLE pp_as_of = ?::TIMESTAMP", [timestamp(scope.as_of)])?;
        conn.execute("SET VARIABLE pp_period_start = ?::TIMESTAMP", [timestamp(scope.events_from())])?;
        conn.execute("SET VARIABLE pp_period_end = ?::TIMESTAMP", [timestamp(scope.as_of)])?;
        conn.execute_batch(&format!(
            "CREATE TEMP TABLE {MANUAL_ATTESTATIONS} (entry INTEGER, control VARCHAR, resource VARCHAR, \
             statement VARCHAR, attested_by VARCHAR, attested_at TIMESTAMP, valid_until TIMESTAMP, document VARCHAR, \
             document_sha256 VARCHAR, document_verified BOOLEAN)"
        ))?;
        conn.execute_batch(&format!("SET memory_limit = '{MEMORY_LIMIT}'; SET lock_configuration = true"))?;
        Ok(Sandbox { conn, time_limit, as_of: std::cell::Cell::new(scope.as_of), has_rows: Default::default() })
    }

    /// Lets control SQL read the attestations that name a control; invalid ones never count and are left out.
    /// Their validity is left to the query (against `pp_as_of`), so earlier moments of a period judge it right.
    pub fn add_attestations(&self, judged: &[JudgedAttestation]) -> Result<()> {
        let mut insert = self.conn.prepare(&format!(
            "INSERT INTO {MANUAL_ATTESTATIONS} VALUES (?, ?, ?, ?, ?, ?::TIMESTAMP, ?::TIMESTAMP, ?, ?, ?)"
        ))?;
        for judged in judged.iter().filter(|judged| judged.state != AttestationState::Invalid) {
            let Some(attestation) = &judged.attestation else { continue };
            let Ok(Covers::Control(control, resource)) = attestation.covers() else { continue };
            let (Some(from), Ok(until)) = (
                crate::time::parse_start(&attestation.attested_at),
                crate::time::parse_as_of(&attestation.valid_until),
            ) else {
                continue;
            };
            let timestamp = |moment: NaiveDateTime| moment.format("%Y-%m-%d %H:%M:%S").to_string();
            insert.execute(duckdb::params![
                judged.entry as i64,
                control,
                resource,
                attestation.statement,
                attestation.attested_by,
                timestamp(from),
                timestamp(until),
                attestation.document,
                attestation.document_sha256.to_ascii_lowercase(),
                judged.document_verified
            ])?;
        }
        Ok(())
    }

    /// The connection, for pipeproof's own queries (never a control's SQL: that goes through [`Sandbox::run`]).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Moves the moment the as-of views show.
    pub fn set_as_of(&self, moment: NaiveDateTime) -> Result<()> {
        self.conn.execute("SET VARIABLE pp_as_of = ?::TIMESTAMP", [moment.format("%Y-%m-%d %H:%M:%S").to_string()])?;
        self.as_of.set(moment);
        Ok(())
    }

    fn history_table(view: &str) -> Result<String> {
        if !crate::store::views::is_fact_view(view) {
            return Err(anyhow!("{view:?} is not a fact table"));
        }
        Ok(format!("{view}_history"))
    }

    /// Each run that wrote `view` by `to`: the time it began and the time it finished writing it there.
    pub fn snapshot_times(&self, view: &str, to: NaiveDateTime) -> Result<Vec<(i64, NaiveDateTime, NaiveDateTime)>> {
        let sql = format!(
            "SELECT run_id, min(observed_at), max(observed_at) FROM {} WHERE observed_at <= ? GROUP BY run_id",
            Self::history_table(view)?
        );
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map(duckdb::params![to], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether `view` has a snapshot taken at or before `moment` (its state carried into a period).
    pub fn has_snapshot_at_or_before(&self, view: &str, moment: NaiveDateTime) -> Result<bool> {
        let sql = format!("SELECT count(*) > 0 FROM {} WHERE observed_at <= ?", Self::history_table(view)?);
        Ok(self.conn.query_row(&sql, duckdb::params![moment], |row| row.get(0))?)
    }

    /// Every evidence item's kind and the time its age counts from: the time an ingested document states (scan or
    /// creation time) when it states one, else when it was collected (read by pipeproof itself, not control SQL).
    pub fn evidence_times(&self) -> Result<std::collections::BTreeMap<i64, (String, NaiveDateTime)>> {
        let mut statement = self.conn.prepare(
            "SELECT evidence_id, kind,
                    coalesce(try_cast((provenance->>'document_time') AS TIMESTAMP), collected_at)
             FROM evidence",
        )?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The organisations whose settings the evaluation sees, comma-separated (none: `None`).
    pub fn organisations(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT string_agg(DISTINCT org, ', ' ORDER BY org) FROM org_settings", [], |row| row.get(0))?)
    }

    /// Whether a fact view (or the attestations table) shows any row as of the moment the views show; remembered
    /// per view and moment.
    pub fn has_rows(&self, view: &str) -> Result<bool> {
        let valid = !view.is_empty() && view.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if !valid {
            return Err(anyhow!("{view:?} is not a fact table name"));
        }
        let key = (view.to_string(), self.as_of.get());
        if let Some(known) = self.has_rows.borrow().get(&key) {
            return Ok(*known);
        }
        let query = crate::store::views::any_row_query(view)
            .unwrap_or_else(|| format!("SELECT count(*) > 0 FROM (SELECT 1 FROM {view} LIMIT 1)"));
        let any: bool =
            self.conn.query_row(&query, [], |row| row.get(0)).map_err(|error| anyhow!("fact table {view}: {error}"))?;
        self.has_rows.borrow_mut().insert(key, any);
        Ok(any)
    }

    /// Rows a fact view's history holds (for the attestations table, its rows): a cheap bound on the view, which
    /// shows none when this is 0.
    pub fn stored_rows(&self, view: &str) -> Result<i64> {
        let table = if view == MANUAL_ATTESTATIONS { view.to_string() } else { Self::history_table(view)? };
        Ok(self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0))?)
    }

    /// Binds parameters as DuckDB variables and runs a control query under the time limit.
    pub fn run(&self, query: &str, params: &[(String, serde_json::Value)]) -> Result<Vec<RawRow>> {
        for (name, value) in params {
            bind_variable(&self.conn, name, value)?;
        }
        let (done, finished) = mpsc::channel::<()>();
        let interrupt = self.conn.interrupt_handle();
        let limit = self.time_limit;
        let watchdog = std::thread::spawn(move || {
            if finished.recv_timeout(limit).is_err() {
                interrupt.interrupt();
                true
            } else {
                false
            }
        });
        let outcome = self.query_rows(query);
        let _ = done.send(());
        let timed_out = watchdog.join().unwrap_or(false);
        for (name, _) in params {
            self.conn.execute_batch(&format!("RESET VARIABLE {name}"))?;
        }
        match outcome {
            Err(_) if timed_out => Err(anyhow!("the query ran longer than {}s and was stopped", limit.as_secs())),
            other => other,
        }
    }

    /// Refuses SQL that is not exactly one SELECT, as DuckDB's own parser reads it (`json_serialize_sql` serialises
    /// only SELECT statements, and lists each statement it parsed). Text wrapping cannot be trusted: a query that
    /// closes a parenthesis of its own could slip in a second statement.
    fn one_select(&self, query: &str) -> Result<()> {
        let parsed: String =
            self.conn.query_row("SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", [query], |row| row.get(0))?;
        let parsed: serde_json::Value = serde_json::from_str(&parsed)?;
        let statements = parsed.get("statements").and_then(serde_json::Value::as_array).map_or(0, Vec::len);
        let refused =
            |why: String| anyhow!("the query must be one SELECT (or WITH … SELECT) statement, nothing else: {why}");
        if parsed.get("error").and_then(serde_json::Value::as_bool) == Some(true) {
            let message = parsed.get("error_message").and_then(serde_json::Value::as_str).unwrap_or("not a SELECT");
            return Err(refused(message.to_string()));
        }
        if statements != 1 {
            return Err(refused(format!("DuckDB reads {statements} statements in it")));
        }
        if let Some(name) = reach_outside_the_store(&parsed) {
            return Err(anyhow!("the query may read the store's tables and views only: it names {name}"));
        }
        Ok(())
    }

    fn query_rows(&self, query: &str) -> Result<Vec<RawRow>> {
        let query = query.trim_end().trim_end_matches(';');
        self.one_select(query)?;
        // Rolled back whatever happens, so nothing a query touched reaches the next control.
        self.conn.execute_batch("BEGIN TRANSACTION")?;
        let rows = self.read_rows(query);
        self.conn.execute_batch("ROLLBACK")?;
        rows
    }

    fn read_rows(&self, query: &str) -> Result<Vec<RawRow>> {
        // DuckDB sorts the rows, into a total order (460,000 heap strings sorted here took twice as long); a query
        // that cannot be wrapped so (a required column missing) runs as written, to be told what it lacks.
        let ordered = format!("SELECT * FROM (\n{query}\n) ORDER BY resource, status, reason, evidence_id");
        let mut statement = match self.conn.prepare(&ordered) {
            Ok(statement) => statement,
            Err(_) => self.conn.prepare(query).map_err(|error| anyhow!(error.to_string()))?,
        };
        let mut rows = statement.query([])?;
        let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
        for required in ["resource", "status", "reason", "evidence_id"] {
            if !columns.iter().any(|column| column == required) {
                return Err(anyhow!(
                    "the query must return columns resource, status, reason, evidence_id; it returned {}",
                    columns.join(", ")
                ));
            }
        }
        // A column written as a bare `NULL` has no type, and the driver cannot read such a column: it is NULL on
        // every row, so it is read as absent without asking the driver.
        let untyped = |name: &str| {
            rows.as_ref()
                .and_then(|s| s.column_index(name).ok().map(|index| s.column_type(index) == DataType::Null))
                .unwrap_or(false)
        };
        let [resource_null, status_null, reason_null, evidence_null] =
            ["resource", "status", "reason", "evidence_id"].map(untyped);
        let text = |row: &duckdb::Row, name: &str, null: bool, limit: usize| -> duckdb::Result<String> {
            let text = if null { None } else { row.get::<_, Option<String>>(name)? }.unwrap_or_default();
            Ok(bounded(text, limit))
        };
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            if found.len() == MAX_ROWS {
                return Err(anyhow!("the query returned more than {MAX_ROWS} rows, more than any control may judge"));
            }
            found.push(RawRow {
                resource: text(row, "resource", resource_null, MAX_RESOURCE_CHARS)?,
                status: text(row, "status", status_null, 32)?,
                reason: text(row, "reason", reason_null, MAX_REASON_CHARS)?,
                evidence_id: if evidence_null { None } else { row.get("evidence_id")? },
            });
        }
        Ok(found)
    }
}

/// The first function or catalog a parsed query names that reaches past the store: a DuckLake store's PostgreSQL
/// catalog (its `postgres_*` functions connect anywhere and send any SQL; `__ducklake_metadata_*` is the catalog
/// database itself), DuckLake's maintenance functions, which delete files, or `query`/`query_table`, which run SQL
/// given as text this check cannot see.
fn reach_outside_the_store(parsed: &serde_json::Value) -> Option<String> {
    match parsed {
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, value)| {
            let text = value.as_str().map(str::to_ascii_lowercase).unwrap_or_default();
            let outside = match key.as_str() {
                "function_name" => {
                    text.starts_with("postgres_")
                        || text.starts_with("ducklake_")
                        || text == "query"
                        || text == "query_table"
                }
                "catalog_name" | "schema_name" => text.starts_with("__ducklake_metadata"),
                _ => false,
            };
            if outside {
                Some(text)
            } else {
                reach_outside_the_store(value)
            }
        }),
        serde_json::Value::Array(items) => items.iter().find_map(reach_outside_the_store),
        _ => None,
    }
}

/// The text, cut to `limit` characters with a note of how long it was.
fn bounded(text: String, limit: usize) -> String {
    let length = text.chars().count();
    if length <= limit {
        return text;
    }
    let kept: String = text.chars().take(limit).collect();
    format!("{kept}… (truncated: {length} characters)")
}

/// Sets one DuckDB variable from a JSON value, bound as a typed parameter (never pasted into SQL).
fn bind_variable(conn: &Connection, name: &str, value: &serde_json::Value) -> Result<()> {
    use serde_json::Value;
    let sql = |cast: &str| format!("SET VARIABLE {name} = ?::{cast}");
    match value {
        Value::Bool(flag) => conn.execute(&sql("BOOLEAN"), [flag])?,
        Value::Number(number) if number.is_i64() => conn.execute(&sql("BIGINT"), [number.as_i64()])?,
        Value::Number(number) => conn.execute(&sql("DOUBLE"), [number.as_f64()])?,
        Value::String(text) => conn.execute(&sql("VARCHAR"), [text])?,
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            conn.execute(&sql("VARCHAR[]"), [serde_json::to_string(&texts)?])?
        }
        other => {
            return Err(anyhow!(
                "parameter {name}: unsupported value {other} (use a number, boolean, string or list of strings)"
            ))
        }
    };
    Ok(())
}
