//! The fact views, each defined once here and recreated whenever their definitions change (a digest kept in
//! `store_views`): a view's current SQL lives in one place, not in whichever migration touched it last. Most views
//! follow a shape (a snapshot of a repository, organisation or item, or every row up to the moment); the rest are
//! queries in `views/<name>.sql`. Every view sees the store as of `pp_as_of` (the moment evaluated; no limit when
//! unset).

use anyhow::{Context, Result};
use duckdb::Connection;

/// The moment every view sees the store as of.
const AS_OF: &str = "coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')";

/// How a view is defined.
enum Shape {
    /// The latest snapshot: the rows of the newest run that read it, where a run that found nothing (an
    /// `api_coverage` row and no rows) empties it.
    Snapshot {
        /// What one snapshot is of.
        of: Of,
        /// Which coverage rows count.
        part: Part,
    },
    /// The latest snapshot of one item of a repository (a commit's check runs, a pull request's reviews, a
    /// deployment's approvals), as [`Shape::Snapshot`]: the coverage row's subject is this expression over `h`, and
    /// it names the item (GitHub's repository names hold no `#`, `@` or `/deployments/`).
    ItemSnapshot { subject: &'static str },
    /// Every row up to the moment, by this time.
    AsOf { time: &'static str },
    /// A query of its own (`views/<name>.sql`), where `{as_of}` is the moment.
    Query(&'static str),
    /// A query of its own keeping, per key, the latest of the history rows observed by the moment: it shows a row
    /// exactly when its history holds one observed by then.
    Latest(&'static str),
    /// A query over other views' history tables, with none of its own (`views/<name>.sql`): controls may read it,
    /// but it is no fact table of its own to name in `requires` or to seed in test cases.
    Derived(&'static str),
}

/// What one snapshot is of.
#[derive(Clone, Copy)]
enum Of {
    /// A repository, or the organisation for organisation-wide rows (`repo` NULL).
    RepoOrOrg,
    /// The organisation.
    Org,
}

/// Which `api_coverage` rows stand for a snapshot.
#[derive(Clone, Copy)]
enum Part {
    /// Any.
    Any,
    /// Only those of the whole answer (`part = ''`).
    Whole,
    /// Those of the slice this column names (one snapshot per value: a package type, an alert tool).
    Column(&'static str),
}

/// One view.
struct View {
    name: &'static str,
    shape: Shape,
}

static VIEWS: &[View] = &[
    View { name: "actions_permissions", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "actions_retention", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "actions_secrets", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "admission_policies", shape: Shape::Query(include_str!("views/admission_policies.sql")) },
    View { name: "api_coverage", shape: Shape::Latest(include_str!("views/api_coverage.sql")) },
    View { name: "app_installations", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "attestations", shape: Shape::AsOf { time: "observed_at" } },
    View { name: "audit_events", shape: Shape::AsOf { time: "coalesce(event_time, observed_at)" } },
    View { name: "branch_rules", shape: Shape::Query(include_str!("views/branch_rules.sql")) },
    View { name: "bundles", shape: Shape::AsOf { time: "observed_at" } },
    View { name: "check_runs", shape: Shape::ItemSnapshot { subject: "h.repo || '@' || h.head_sha" } },
    View { name: "code_findings", shape: Shape::Query(include_str!("views/code_findings.sql")) },
    View { name: "code_scanning_analyses", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Any } },
    View { name: "code_scans", shape: Shape::Query(include_str!("views/code_scans.sql")) },
    View { name: "codeowners", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "collection_runs", shape: Shape::AsOf { time: "observed_at" } },
    View { name: "container_bases", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "dast_findings", shape: Shape::Query(include_str!("views/dast_findings.sql")) },
    View { name: "dependency_files", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "deploy_events", shape: Shape::AsOf { time: "coalesce(event_time, observed_at)" } },
    View { name: "deploy_keys", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View {
        name: "deployment_approvals",
        shape: Shape::ItemSnapshot { subject: "h.repo || '/deployments/' || h.deployment_id" },
    },
    View { name: "environments", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "failed_scans", shape: Shape::Derived(include_str!("views/failed_scans.sql")) },
    View { name: "fork_pr_approval", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Any } },
    View { name: "gitops_applications", shape: Shape::Query(include_str!("views/gitops_applications.sql")) },
    View { name: "member_activity", shape: Shape::Snapshot { of: Of::Org, part: Part::Whole } },
    View { name: "merge_requests", shape: Shape::Latest(include_str!("views/merge_requests.sql")) },
    View { name: "org_identity", shape: Shape::Snapshot { of: Of::Org, part: Part::Whole } },
    View { name: "org_people", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Column("relation") } },
    View { name: "org_settings", shape: Shape::Query(include_str!("views/org_settings.sql")) },
    View { name: "packages", shape: Shape::Snapshot { of: Of::Org, part: Part::Column("package_type") } },
    View { name: "pr_reviews", shape: Shape::ItemSnapshot { subject: "h.repo || '#' || h.number" } },
    View { name: "registry_configs", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "release_assets", shape: Shape::Query(include_str!("views/release_assets.sql")) },
    View { name: "releases", shape: Shape::Query(include_str!("views/releases.sql")) },
    View { name: "repo_collaborators", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "repo_properties", shape: Shape::Query(include_str!("views/repo_properties.sql")) },
    View { name: "repositories", shape: Shape::Query(include_str!("views/repositories.sql")) },
    View { name: "role_bindings", shape: Shape::Query(include_str!("views/role_bindings.sql")) },
    View { name: "rollouts", shape: Shape::Query(include_str!("views/rollouts.sql")) },
    View { name: "rulesets", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "runners", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "sbom_components", shape: Shape::Query(include_str!("views/sbom_components.sql")) },
    View { name: "sboms", shape: Shape::Query(include_str!("views/sboms.sql")) },
    View { name: "scans", shape: Shape::Query(include_str!("views/scans.sql")) },
    View { name: "secret_findings", shape: Shape::Query(include_str!("views/secret_findings.sql")) },
    View { name: "security_alerts", shape: Shape::Snapshot { of: Of::Org, part: Part::Column("tool") } },
    View { name: "team_repos", shape: Shape::Snapshot { of: Of::Org, part: Part::Any } },
    View { name: "vex_statements", shape: Shape::AsOf { time: "observed_at" } },
    View { name: "vulnerabilities", shape: Shape::Query(include_str!("views/vulnerabilities.sql")) },
    View { name: "vulnerability_reporting", shape: Shape::Query(include_str!("views/vulnerability_reporting.sql")) },
    View { name: "webhooks", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "workflow_actions", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "workflow_jobs", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "workflow_runs", shape: Shape::Query(include_str!("views/workflow_runs.sql")) },
    View { name: "workflow_token_permissions", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
    View { name: "workflows", shape: Shape::Snapshot { of: Of::RepoOrOrg, part: Part::Whole } },
];

impl View {
    fn query(&self) -> String {
        let name = self.name;
        match &self.shape {
            Shape::ItemSnapshot { subject } => format!(
                // Items are many (a million pull requests): the newest run of each is found once for all of them,
                // by one aggregate, and joined, rather than asked row by row.
                "SELECT h.* EXCLUDE (run_id) FROM {name}_history h
                 JOIN (SELECT subject, max(run_id) AS run_id FROM (
                         SELECT c.subject, c.run_id FROM api_coverage_history c
                         WHERE c.fact_table = '{name}' AND c.observed_at <= {AS_OF}
                         UNION ALL
                         SELECT {subject}, h.run_id FROM {name}_history h WHERE h.observed_at <= {AS_OF}) x
                       GROUP BY subject) l
                   ON l.subject = {subject} AND l.run_id = h.run_id"
            ),
            Shape::Snapshot { of, part } => {
                let (subject, mut same) = match of {
                    Of::RepoOrOrg => (
                        "c.org = h.org AND c.subject = coalesce(h.repo, h.org)".to_string(),
                        "y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo".to_string(),
                    ),
                    Of::Org => ("c.org = h.org AND c.subject = h.org".to_string(), "y.org = h.org".to_string()),
                };
                let part = match part {
                    Part::Any => String::new(),
                    Part::Whole => " AND c.part = ''".to_string(),
                    Part::Column(column) => {
                        same += &format!(" AND y.{column} = h.{column}");
                        format!(" AND c.part = h.{column}")
                    }
                };
                format!(
                    "SELECT * EXCLUDE (run_id) FROM {name}_history h
                     WHERE h.run_id = (SELECT max(x.run_id) FROM (
                             SELECT c.run_id, c.observed_at FROM api_coverage_history c
                             WHERE c.fact_table = '{name}' AND {subject}{part}
                             UNION ALL
                             SELECT y.run_id, y.observed_at FROM {name}_history y WHERE {same}) x
                         WHERE x.observed_at <= {AS_OF})"
                )
            }
            Shape::AsOf { time } => format!("SELECT * EXCLUDE (run_id) FROM {name}_history WHERE {time} <= {AS_OF}"),
            Shape::Query(text) | Shape::Latest(text) | Shape::Derived(text) => text.replace("{as_of}", AS_OF),
        }
    }
}

/// The digest of every view's definition.
fn digest() -> String {
    let all: String = VIEWS.iter().map(|view| format!("{}\n{}\n", view.name, view.query())).collect();
    super::sha256_hex(all.as_bytes())
}

/// The names of the views defined here.
pub fn names() -> Vec<&'static str> {
    VIEWS.iter().map(|view| view.name).collect()
}

/// The fact views: those backed by a `<name>_history` table, which controls name in `requires`.
pub fn fact_views() -> Vec<&'static str> {
    VIEWS.iter().filter(|view| !matches!(view.shape, Shape::Derived(_))).map(|view| view.name).collect()
}

/// A query answering whether the fact view `name` shows any row as of the moment (one row, a boolean), as cheaply
/// as its shape allows: a view of latest rows asks its history, any other stops at its first row.
pub fn any_row_query(name: &str) -> Option<String> {
    Some(match fact_view(name)?.shape {
        Shape::Latest(_) => {
            format!("SELECT count(*) > 0 FROM (SELECT 1 FROM {name}_history WHERE observed_at <= {AS_OF} LIMIT 1)")
        }
        _ => format!("SELECT count(*) > 0 FROM (SELECT 1 FROM {name} LIMIT 1)"),
    })
}

/// Whether `name` is a fact view.
pub fn is_fact_view(name: &str) -> bool {
    fact_view(name).is_some()
}

/// The fact view named `name`, if there is one.
fn fact_view(name: &str) -> Option<&'static View> {
    VIEWS.iter().find(|view| view.name == name && !matches!(view.shape, Shape::Derived(_)))
}

/// Creates every view as a temporary view of this connection alone (a DuckLake store: each writer and reader makes
/// its own, so none changes the shared catalog for them).
pub fn create_temporary(conn: &Connection) -> Result<()> {
    for view in VIEWS {
        conn.execute_batch(&format!("CREATE OR REPLACE TEMP VIEW {} AS {}", view.name, view.query()))
            .with_context(|| format!("cannot create the view {}", view.name))?;
    }
    Ok(())
}

/// Recreates every view, in the order listed (a view that uses another must come after it), when their definitions
/// changed since the store last saw them.
pub fn refresh(conn: &Connection) -> Result<()> {
    let wanted = digest();
    conn.execute_batch("CREATE TABLE IF NOT EXISTS store_views (digest VARCHAR NOT NULL)")?;
    let current: Option<String> = conn.query_row("SELECT max(digest) FROM store_views", [], |row| row.get(0))?;
    if current.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    conn.execute_batch("BEGIN TRANSACTION")?;
    let outcome = (|| -> Result<()> {
        for view in VIEWS {
            conn.execute_batch(&format!("CREATE OR REPLACE VIEW {} AS {}", view.name, view.query()))
                .with_context(|| format!("cannot create the view {}", view.name))?;
        }
        conn.execute_batch("DELETE FROM store_views")?;
        conn.execute("INSERT INTO store_views VALUES (?)", [&wanted])?;
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(error) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The reviewers the `pr_reviews` view shows per pull request as of `as_of`.
    fn reviews_as_of(conn: &duckdb::Connection, as_of: &str) -> Vec<(i64, String)> {
        conn.execute("SET VARIABLE pp_as_of = ?::TIMESTAMP", [as_of]).unwrap();
        let mut statement = conn.prepare("SELECT number, reviewer FROM pr_reviews ORDER BY ALL").unwrap();
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn an_item_snapshot_is_the_newest_run_that_read_the_item_as_of_the_moment() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("s.duckdb")).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO pr_reviews_history (run_id, evidence_id, observed_at, org, repo, number, review_id, reviewer)
             VALUES (1, 1, '2026-01-01', 'o', 'o/a', 1, 10, 'ann'), (1, 1, '2026-01-01', 'o', 'o/a', 2, 20, 'bob'),
                    (2, 2, '2026-02-01', 'o', 'o/a', 2, 21, 'cy'), (3, 3, '2026-03-01', 'o', 'o/a', 3, 30, 'di');
             INSERT INTO api_coverage_history VALUES
                    (1, 1, '2026-01-01', 'o', 'o/a#1', 'github.pull_request_reviews', 'pr_reviews', '', 'visible', NULL, true),
                    (1, 1, '2026-01-01', 'o', 'o/a#2', 'github.pull_request_reviews', 'pr_reviews', '', 'visible', NULL, true),
                    (2, 2, '2026-02-01', 'o', 'o/a#1', 'github.pull_request_reviews', 'pr_reviews', '', 'visible', NULL, true),
                    (2, 2, '2026-02-01', 'o', 'o/a#2', 'github.pull_request_reviews', 'pr_reviews', '', 'visible', NULL, true),
                    (2, 2, '2026-02-01', 'o', 'o/a#9', 'github.check_runs', 'check_runs', '', 'visible', NULL, true);",
        )
        .unwrap();
        let rows = |pairs: &[(i64, &str)]| pairs.iter().map(|(n, r)| (*n, r.to_string())).collect::<Vec<_>>();
        assert_eq!(reviews_as_of(conn, "2025-12-31"), rows(&[]));
        assert_eq!(reviews_as_of(conn, "2026-01-15"), rows(&[(1, "ann"), (2, "bob")]));
        // Run 2 read #1 and found no review (it empties #1), and read #2 anew; rows without coverage count as a
        // reading of their own (an ingest), and coverage of another fact table changes nothing here.
        assert_eq!(reviews_as_of(conn, "2026-02-15"), rows(&[(2, "cy")]));
        assert_eq!(reviews_as_of(conn, "2026-03-15"), rows(&[(2, "cy"), (3, "di")]));
        let any = |view: &str, as_of: &str| -> bool {
            conn.execute("SET VARIABLE pp_as_of = ?::TIMESTAMP", [as_of]).unwrap();
            conn.query_row(&super::any_row_query(view).unwrap(), [], |row| row.get(0)).unwrap()
        };
        assert!(!any("pr_reviews", "2025-12-31") && any("pr_reviews", "2026-01-01"));
        assert!(!any("api_coverage", "2025-12-31") && any("api_coverage", "2026-01-01"));
        assert!(!any("merge_requests", "2030-01-01"), "no pull request was stored");
        assert!(super::any_row_query("failed_scans").is_none(), "a derived view is no fact table");
    }

    #[test]
    fn every_view_is_defined_here_and_a_changed_definition_is_applied_on_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.duckdb");
        let views = |store: &crate::store::Store| -> BTreeSet<String> {
            let mut statement = store
                .conn()
                .prepare("SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'")
                .unwrap();
            statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
        };
        {
            let store = crate::store::Store::open(&path).unwrap();
            let defined: BTreeSet<String> = super::names().into_iter().map(str::to_string).collect();
            assert_eq!(views(&store), defined, "a view made by a migration alone, or defined here and missing");
            store.conn().execute_batch("CREATE OR REPLACE VIEW bundles AS SELECT 1 AS stale").unwrap();
            store.conn().execute_batch("UPDATE store_views SET digest = 'an older definition'").unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap();
        let columns: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'bundles' AND column_name = 'stale'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(columns, 0, "the view was recreated from its definition here");
    }
}
