//! Schema migrations embedded in the binary, tracked in the `schema_version` table.

use std::path::Path;

use anyhow::{Context, Result};
use duckdb::Connection;

use crate::error::input_error;

/// The migrations in order; the position (1-based) is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    include_str!("schema/001_init.sql"),
    include_str!("schema/002_evaluation_period.sql"),
    include_str!("schema/003_waivers.sql"),
    include_str!("schema/004_throughout.sql"),
    include_str!("schema/005_attestations.sql"),
    include_str!("schema/006_http_cache.sql"),
    include_str!("schema/007_finding_history.sql"),
    include_str!("schema/008_evaluation_organisations.sql"),
    include_str!("schema/009_evaluation_frameworks.sql"),
    include_str!("schema/010_file_evidence.sql"),
    include_str!("schema/011_github_evidence.sql"),
    include_str!("schema/012_github_operations.sql"),
    include_str!("schema/013_github_teams_and_analyses.sql"),
    include_str!("schema/014_github_check_runs.sql"),
    include_str!("schema/015_source_retention.sql"),
    include_str!("schema/016_deployment_approvals.sql"),
    include_str!("schema/017_releases.sql"),
    include_str!("schema/018_workflow_continue_on_error.sql"),
    include_str!("schema/019_repo_properties.sql"),
    include_str!("schema/020_workflow_jobs.sql"),
    include_str!("schema/021_collection_runs.sql"),
    include_str!("schema/022_vulnerability_reporting.sql"),
    include_str!("schema/023_scan_artifacts.sql"),
    include_str!("schema/024_gitops_applications.sql"),
    include_str!("schema/025_packages.sql"),
    include_str!("schema/026_artifact_snapshots.sql"),
    include_str!("schema/027_bundles.sql"),
    include_str!("schema/028_kubernetes.sql"),
    include_str!("schema/029_dependency_files.sql"),
    include_str!("schema/030_registry_configs.sql"),
    include_str!("schema/031_org_identity.sql"),
    include_str!("schema/032_scan_completion.sql"),
    include_str!("schema/033_finding_history_unkeyed.sql"),
    include_str!("schema/034_gitlab_branch_rules.sql"),
    include_str!("schema/035_gitlab_environments.sql"),
    include_str!("schema/036_gitlab_variables.sql"),
    include_str!("schema/037_member_activity.sql"),
];

/// The schema version this binary writes.
pub const LATEST_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn current_version(conn: &Connection) -> Result<Option<i64>> {
    let exists: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' \
         AND table_catalog = current_database()",
        [],
        |row| row.get(0),
    )?;
    if exists == 0 {
        return Ok(None);
    }
    Ok(Some(conn.query_row("SELECT coalesce(max(version), 0) FROM schema_version", [], |row| row.get(0))?))
}

fn refuse_newer(version: i64, path: &Path) -> Result<()> {
    if version > LATEST_SCHEMA_VERSION {
        return Err(input_error(format!(
            "store {} has schema version {version}, written by a newer pipeproof; this pipeproof {} \
             understands up to version {LATEST_SCHEMA_VERSION}. Upgrade pipeproof to use this store.",
            path.display(),
            crate::VERSION
        )));
    }
    Ok(())
}

/// Every migration's SQL, in order.
#[cfg(test)]
pub fn all() -> &'static [&'static str] {
    MIGRATIONS
}

/// Applies the migrations the store lacks, each in its own transaction. On a DuckLake (`lake`) each is applied as
/// [`super::lake::migration`] rewrites it, and a migration another writer applied first is skipped.
pub fn apply(conn: &Connection, path: &Path, lake: bool) -> Result<()> {
    let create = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_at TIMESTAMP NOT NULL, \
                  tool_version VARCHAR NOT NULL)";
    if lake {
        super::lake::retry_conflicts(|| Ok(conn.execute_batch(create)?))?;
    } else {
        conn.execute_batch(create)?;
    }
    let version = current_version(conn)?.unwrap_or(0);
    refuse_newer(version, path)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let target = index as i64 + 1;
        let sql = if lake { super::lake::migration(sql) } else { sql.to_string() };
        let step = || -> Result<()> {
            conn.execute_batch("BEGIN TRANSACTION")?;
            let applied = (|| -> duckdb::Result<()> {
                let now: i64 =
                    conn.query_row("SELECT coalesce(max(version), 0) FROM schema_version", [], |row| row.get(0))?;
                if now >= target {
                    return Ok(());
                }
                conn.execute_batch(&sql)?;
                conn.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    duckdb::params![target, crate::time::now_utc(), crate::VERSION],
                )?;
                Ok(())
            })()
            .and_then(|()| conn.execute_batch("COMMIT"));
            if let Err(error) = applied {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(error)
                    .with_context(|| format!("migrating store {} to schema version {target}", path.display()));
            }
            Ok(())
        };
        if lake {
            super::lake::retry_conflicts(step)?;
        } else {
            step()?;
        }
    }
    Ok(())
}

/// Checks that a store opened read-only has a schema this binary understands.
pub fn check_readable(conn: &Connection, path: &Path) -> Result<()> {
    match current_version(conn)? {
        None => Err(input_error(format!("{} is not a pipeproof store (no schema_version table)", path.display()))),
        Some(version) => {
            refuse_newer(version, path)?;
            if version < LATEST_SCHEMA_VERSION {
                return Err(input_error(format!(
                    "store {} has schema version {version}; open it once with a writing command (e.g. `pipeproof evaluate`) to upgrade it",
                    path.display()
                )));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_store_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.duckdb");
        {
            let store = crate::store::Store::open(&path).unwrap();
            store
                .conn()
                .execute("INSERT INTO schema_version VALUES (99, TIMESTAMP '2030-01-01', 'future')", [])
                .unwrap();
        }
        let error = crate::store::Store::open(&path).err().expect("refused");
        let message = format!("{error:#}");
        assert!(message.contains("schema version 99"), "{message}");
        assert!(message.contains("newer pipeproof"), "{message}");
        assert_eq!(crate::error::exit_code_for(&error), crate::error::EXIT_INPUT);
    }

    #[test]
    fn a_version_1_store_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.duckdb");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_version (version BIGINT NOT NULL, applied_at TIMESTAMP NOT NULL, tool_version VARCHAR NOT NULL)",
            )
            .unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch("INSERT INTO schema_version VALUES (1, TIMESTAMP '2026-01-01', 'old')").unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap();
        let version: i64 =
            store.conn().query_row("SELECT max(version) FROM schema_version", [], |row| row.get(0)).unwrap();
        assert_eq!(version, LATEST_SCHEMA_VERSION);
        let columns: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'evaluations' AND column_name LIKE 'period_%'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(columns, 3);
    }

    #[test]
    fn reopening_applies_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.duckdb");
        drop(crate::store::Store::open(&path).unwrap());
        let store = crate::store::Store::open(&path).unwrap();
        let rows: i64 = store.conn().query_row("SELECT count(*) FROM schema_version", [], |row| row.get(0)).unwrap();
        assert_eq!(rows, LATEST_SCHEMA_VERSION);
    }
}
