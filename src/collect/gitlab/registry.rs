//! Who may pull each project's packages: the project's `package_registry_access_level` (GitLab 16: `public` lets
//! anyone pull even from a private project; `enabled` follows the project's visibility; `private` is members only;
//! `disabled` has no registry) as a `packages` row of type `gitlab_registry` named after the project, judged by
//! `ART-04`. The container registry has no public setting of its own (it follows the project), so it is not one.
//! A listing that does not carry the setting (an older GitLab, or a token that does not see it) leaves the
//! visibility unknown.

use anyhow::Result;
use duckdb::params;
use serde_json::Value;

use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::ApiResponse;

/// The coverage kind, and the `package_type` (the coverage row's part) of the rows.
pub const KIND: &str = "gitlab.package_registry";
/// The package type of a project's registry.
pub const PACKAGE_TYPE: &str = "gitlab_registry";

/// Who may pull a project's packages, from its listing item: `public`, `internal`, `private`, `disabled`, or
/// `None` when the item does not say.
pub fn visibility(item: &Value) -> Option<String> {
    let project = item.get("visibility").and_then(Value::as_str);
    match item.get("package_registry_access_level").and_then(Value::as_str)? {
        "public" => Some("public".into()),
        "enabled" => project.map(str::to_string),
        "private" => Some("private".into()),
        "disabled" => Some("disabled".into()),
        _ => None,
    }
}

/// Stores a `packages` row per project (its listing item, on page `listing` with `evidence_id`) and the coverage of
/// the group's registries.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    projects: &[(String, &Value, &ApiResponse, i64)],
    coverage: &mut duckdb::Appender<'_>,
) -> Result<()> {
    let Some((_, _, first, first_id)) = projects.first() else { return Ok(()) };
    Coverage {
        org,
        subject: org,
        kind: KIND,
        table: "packages",
        part: PACKAGE_TYPE,
        evidence_id: Some(*first_id),
        observed_at: first.received_at,
        complete: true,
    }
    .append(coverage, run_id, &Seen::Visible)?;
    let mut insert =
        conn.prepare_cached("INSERT INTO packages_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)")?;
    for (repo, item, listing, evidence_id) in projects {
        let project = item.get("visibility").and_then(Value::as_str);
        insert.execute(params![
            run_id,
            evidence_id,
            listing.received_at,
            org,
            repo,
            PACKAGE_TYPE,
            repo.trim_start_matches(super::PREFIX),
            visibility(item),
            project
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_follows_the_project_unless_it_is_set_otherwise() {
        let project = |level: Option<&str>, visibility: &str| {
            let mut item = serde_json::json!({ "visibility": visibility });
            if let Some(level) = level {
                item["package_registry_access_level"] = level.into();
            }
            item
        };
        assert_eq!(visibility(&project(Some("public"), "private")).as_deref(), Some("public"));
        assert_eq!(visibility(&project(Some("enabled"), "internal")).as_deref(), Some("internal"));
        assert_eq!(visibility(&project(Some("private"), "public")).as_deref(), Some("private"));
        assert_eq!(visibility(&project(Some("disabled"), "private")).as_deref(), Some("disabled"));
        assert_eq!(visibility(&project(None, "private")), None, "not said is not known");
        let recorded = crate::collect::gitlab::recorded_sample("gitlab4j-project.json");
        assert_eq!(visibility(&recorded), None, "the recorded project predates the setting");
    }
}
