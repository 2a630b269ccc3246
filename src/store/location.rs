//! Where a store lives: one DuckDB file, or a DuckLake (`ducklake:postgres:<libpq connection string>`) that many
//! machines write at once: its catalog in PostgreSQL, its data as Parquet files on a shared path.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::input_error;

/// The prefix that names a DuckLake store instead of a file.
pub const LAKE_PREFIX: &str = "ducklake:";

/// The environment variable naming the folder (or shared mount) a new DuckLake keeps its Parquet files in.
pub const LAKE_DATA_ENV: &str = "PIPEPROOF_LAKE_DATA";

/// A store's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// One DuckDB file, one writer at a time.
    File(PathBuf),
    /// A DuckLake: the metadata catalog (what follows `ducklake:`, e.g. `postgres:dbname=evidence host=db`).
    Lake(String),
}

impl Location {
    /// Reads a `--store` value: `ducklake:…` is a lake, anything else a file path. A lake address that carries a
    /// password is refused (it would be printed in logs and errors): libpq reads it from `PGPASSWORD` or
    /// `~/.pgpass` instead.
    pub fn of(store: &Path) -> Result<Location> {
        let Some(catalog) = store.to_str().and_then(|text| text.strip_prefix(LAKE_PREFIX)) else {
            return Ok(Location::File(store.to_path_buf()));
        };
        if catalog.to_ascii_lowercase().contains("password") {
            return Err(input_error(
                "the store address holds a password, which pipeproof would print in logs and errors: remove it \
                 and give it in PGPASSWORD or ~/.pgpass instead",
            ));
        }
        if catalog.trim().is_empty() || catalog.contains('\'') || catalog.contains('\0') {
            return Err(input_error(format!(
                "store {store:?} is not a DuckLake address: expected {LAKE_PREFIX}postgres:<connection string>, \
                 e.g. {LAKE_PREFIX}postgres:dbname=evidence host=db.internal user=pipeproof"
            )));
        }
        Ok(Location::Lake(catalog.to_string()))
    }

    /// Whether this is a shared DuckLake store.
    pub fn is_lake(&self) -> bool {
        matches!(self, Location::Lake(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ducklake_address_is_a_lake_and_anything_else_a_file() {
        assert_eq!(Location::of(Path::new("q3.duckdb")).unwrap(), Location::File("q3.duckdb".into()));
        assert_eq!(
            Location::of(Path::new("ducklake:postgres:dbname=evidence host=db")).unwrap(),
            Location::Lake("postgres:dbname=evidence host=db".into())
        );
    }

    #[test]
    fn a_lake_address_with_a_password_is_refused_without_repeating_it() {
        let error = Location::of(Path::new("ducklake:postgres:dbname=e password=hunter2")).unwrap_err().to_string();
        assert!(error.contains("PGPASSWORD"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        assert!(Location::of(Path::new("ducklake:")).is_err());
        assert!(Location::of(Path::new("ducklake:postgres:dbname='x'")).is_err());
    }
}
