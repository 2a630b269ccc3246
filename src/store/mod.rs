//! The evidence store: one DuckDB file, or a DuckLake many machines write at once, holding runs, raw evidence,
//! facts and evaluations.

mod evidence;
pub mod export;
mod ids;
mod job_lock;
pub mod lake;
pub mod large_bodies;
pub mod list_text;
mod location;
mod migrations;
pub mod redact;
mod runs;
pub mod views;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use duckdb::{AccessMode, Config, Connection};

use crate::error::input_error;

pub use evidence::{
    add_blobs, add_evidence, add_evidence_batch, hex_digest, sha256_file, sha256_hex, EvidenceRecord, NewEvidence,
};
pub use ids::next_ids;
pub use job_lock::JobLock;
pub use location::Location;
pub use migrations::LATEST_SCHEMA_VERSION;
pub use runs::RunStatus;

/// An open, writable store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    lake: bool,
}

/// Connection settings every pipeproof connection uses: no extension downloads or autoloading.
pub fn base_config() -> Result<Config> {
    Ok(Config::default().enable_autoload_extension(false)?.with("autoinstall_known_extensions", "false")?)
}

fn must_exist(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    Err(input_error(format!(
        "store {} does not exist: run `pipeproof collect` or `pipeproof ingest` first",
        path.display()
    )))
}

impl Store {
    /// Opens (creating if needed) the store and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let store = match Location::of(path)? {
            Location::File(file) => {
                if let Some(parent) = file.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create the folder for store {}", file.display()))?;
                }
                let conn = Connection::open_with_flags(&file, base_config()?)
                    .map_err(|error| explain_open_error(&file, error))?;
                Store { conn, path: file, lake: false }
            }
            Location::Lake(catalog) => {
                Store { conn: lake::connect(&catalog, base_config()?, false)?, path: path.to_path_buf(), lake: true }
            }
        };
        migrations::apply(&store.conn, path, store.lake)?;
        if store.lake {
            // Views are derived: each connection makes its own, so writers never change the shared catalog for
            // them. A run whose process died looks like a live writer on another machine: it is taken for dead
            // only after a day (nothing it wrote was committed either way).
            views::create_temporary(&store.conn)?;
            runs::fail_abandoned(&store.conn)?;
        } else {
            views::refresh(&store.conn)?;
            runs::fail_interrupted(&store.conn)?;
        }
        Ok(store)
    }

    /// Opens a store that must already exist (never creating one) and brings its schema up to date.
    pub fn open_existing(path: &Path) -> Result<Store> {
        if let Location::File(file) = Location::of(path)? {
            must_exist(&file)?;
        }
        Store::open(path)
    }

    /// Opens an existing store read-only (for reports); it must exist and have a known schema.
    pub fn open_read_only(path: &Path) -> Result<Connection> {
        match Location::of(path)? {
            Location::File(file) => {
                must_exist(&file)?;
                let conn = Connection::open_with_flags(&file, base_config()?.access_mode(AccessMode::ReadOnly)?)
                    .map_err(|error| explain_open_error(&file, error))?;
                migrations::check_readable(&conn, path)?;
                Ok(conn)
            }
            Location::Lake(catalog) => {
                let conn = lake::connect(&catalog, base_config()?, true)?;
                migrations::check_readable(&conn, path)?;
                views::create_temporary(&conn)?;
                Ok(conn)
            }
        }
    }

    /// Whether the store is a shared DuckLake (many writers) rather than one file.
    pub fn is_lake(&self) -> bool {
        self.lake
    }

    /// The underlying connection.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The store's file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` inside one transaction: either everything it wrote is committed, or nothing.
    pub fn in_transaction<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN TRANSACTION")?;
        match work(&self.conn) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }
}

fn explain_open_error(path: &Path, error: duckdb::Error) -> anyhow::Error {
    let text = error.to_string();
    if text.contains("Could not set lock") || text.contains("Conflicting lock") {
        anyhow::anyhow!(
            "store {} is locked by another pipeproof process; wait for it to finish ({})",
            path.display(),
            text.lines().next().unwrap_or_default()
        )
    } else {
        anyhow::anyhow!("cannot open store {}: {text}", path.display())
    }
}
