//! The organisation's custom property values per repository (`GET /orgs/{org}/properties/values`) as
//! `repo_properties` rows: the inventory's owner and criticality tier, as the organisation defines them.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::endpoints::{Fact, Scope};

/// One repository's property values, a row per property.
pub fn repository_values(_: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let Some(repo) = item.get("repository_full_name").and_then(Value::as_str) else { return Ok(Vec::new()) };
    let properties = item.get("properties").and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(properties
        .iter()
        .filter_map(|property| {
            let name = property.get("property_name")?.as_str()?;
            Some(Fact {
                table: "repo_properties",
                cells: vec![
                    Cell::Text(repo.to_string()),
                    Cell::Text(name.to_string()),
                    value_text(property.get("value")),
                ],
            })
        })
        .collect())
}

/// A property's value as text: a string as is, a multi-select's options joined by `, `, NULL when unset.
fn value_text(value: Option<&Value>) -> Cell {
    match value {
        Some(Value::String(text)) => Cell::Text(text.clone()),
        Some(Value::Array(options)) => {
            let options: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
            if options.is_empty() {
                Cell::Null
            } else {
                Cell::Text(options.join(", "))
            }
        }
        Some(Value::Bool(flag)) => Cell::Text(flag.to_string()),
        Some(Value::Number(number)) => Cell::Text(number.to_string()),
        _ => Cell::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_property_is_a_row_and_multi_select_values_are_joined() {
        let item = serde_json::json!({
            "repository_id": 1,
            "repository_name": "web",
            "repository_full_name": "o/web",
            "properties": [
                {"property_name": "owner", "value": "team-web"},
                {"property_name": "regions", "value": ["eu", "us"]},
                {"property_name": "tier", "value": null}
            ]
        });
        let scope = Scope { org: "o", repo: None, branch: None, bypass: &Default::default() };
        let rows = repository_values(&scope, &item, None).unwrap();
        let cells: Vec<&Vec<Cell>> = rows.iter().map(|fact| &fact.cells).collect();
        assert_eq!(
            cells,
            [
                &vec![Cell::Text("o/web".into()), Cell::Text("owner".into()), Cell::Text("team-web".into())],
                &vec![Cell::Text("o/web".into()), Cell::Text("regions".into()), Cell::Text("eu, us".into())],
                &vec![Cell::Text("o/web".into()), Cell::Text("tier".into()), Cell::Null],
            ]
        );
    }
}
