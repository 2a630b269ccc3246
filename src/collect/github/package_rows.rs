//! The organisation's GitHub Packages (`GET /orgs/{org}/packages?package_type=…`) as `packages` rows: each
//! package's visibility beside the visibility of the repository it is linked to, so a public package built from
//! private code shows.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::{int, text, time, visibility_of};
use super::endpoints::{Fact, Scope};

/// One package: its type, name, visibility, linked repository and that repository's visibility.
pub fn package(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact {
        table: "packages",
        cells: vec![
            text(item, "/repository/full_name"),
            text(item, "/package_type"),
            text(item, "/name"),
            text(item, "/visibility"),
            item.get("repository").filter(|r| r.is_object()).and_then(visibility_of).map_or(Cell::Null, Cell::Text),
            int(item, "/version_count"),
            time(item, "/updated_at"),
        ],
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_keeps_its_own_and_its_repositorys_visibility() {
        let scope = Scope { org: "o", repo: None, branch: None, bypass: &Default::default() };
        let item = serde_json::json!({ "name": "api", "package_type": "container", "visibility": "public",
            "version_count": 3, "updated_at": "2026-11-02T10:00:00Z",
            "repository": { "full_name": "o/api", "private": true } });
        let rows = package(&scope, &item, None).unwrap();
        assert_eq!(rows[0].cells[0], Cell::Text("o/api".into()));
        assert_eq!(rows[0].cells[3], Cell::Text("public".into()));
        assert_eq!(rows[0].cells[4], Cell::Text("private".into()), "private: true means private");
        let unlinked = serde_json::json!({ "name": "tool", "package_type": "npm", "visibility": "private" });
        let rows = package(&scope, &unlinked, None).unwrap();
        assert_eq!((&rows[0].cells[0], &rows[0].cells[4]), (&Cell::Null, &Cell::Null));
    }
}
