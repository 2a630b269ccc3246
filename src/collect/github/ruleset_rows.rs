//! Rulesets as fact rows, and the rules GitHub applies to a branch as one `branch_rules` row (`rulesets` source)
//! that the `branch_rules` view merges with classic protection into the effective protection.

use std::collections::BTreeMap;

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::{int, maybe_text, text, texts};
use super::endpoints::{Fact, Scope};

/// The path of an organisation ruleset's definition, from its listing item.
pub fn org_ruleset_path(scope: &Scope, item: &Value) -> Option<String> {
    Some(format!("/orgs/{}/rulesets/{}", scope.org, item.get("id")?.as_i64()?))
}

/// The path of a repository ruleset's definition, from its listing item.
pub fn repo_ruleset_path(scope: &Scope, item: &Value) -> Option<String> {
    Some(format!("/repos/{}/rulesets/{}", scope.repo?, item.get("id")?.as_i64()?))
}

/// A bypass actor in words, e.g. `repository role admin (always)`.
fn bypass_actor(actor: &Value) -> String {
    let kind = actor.get("actor_type").and_then(Value::as_str).unwrap_or("actor");
    let id = actor.get("actor_id").and_then(Value::as_i64);
    let mode = actor.get("bypass_mode").and_then(Value::as_str).unwrap_or("always");
    let who = match (kind, id) {
        ("OrganizationAdmin", _) => "organisation admins".to_string(),
        ("RepositoryRole", Some(1)) => "repository role read".to_string(),
        ("RepositoryRole", Some(2)) => "repository role maintain".to_string(),
        ("RepositoryRole", Some(4)) => "repository role write".to_string(),
        ("RepositoryRole", Some(5)) => "repository role admin".to_string(),
        ("DeployKey", _) => "deploy keys".to_string(),
        (kind, Some(id)) => format!("{kind} {id}"),
        (kind, None) => kind.to_string(),
    };
    format!("{who} ({mode})")
}

/// Who may bypass a ruleset, when its definition shows it (GitHub shows `bypass_actors` only to its admins).
pub fn bypass_actors(definition: &Value) -> Option<Vec<String>> {
    let actors = definition.get("bypass_actors")?.as_array()?;
    Some(actors.iter().map(bypass_actor).collect())
}

/// A ruleset definition.
pub fn ruleset(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let refs = |key: &str| {
        body.pointer(&format!("/conditions/ref_name/{key}"))
            .and_then(Value::as_array)
            .map(|list| texts(list.iter().filter_map(|r| r.as_str().map(str::to_string)).collect::<Vec<_>>()))
            .unwrap_or(Cell::Null)
    };
    let rule_types = body
        .get("rules")
        .and_then(Value::as_array)
        .map(|rules| {
            texts(rules.iter().filter_map(|r| r.get("type")?.as_str().map(str::to_string)).collect::<Vec<_>>())
        })
        .unwrap_or(Cell::Null);
    Ok(vec![Fact {
        table: "rulesets",
        cells: vec![
            maybe_text(scope.repo),
            int(body, "/id"),
            text(body, "/name"),
            text(body, "/target"),
            text(body, "/source_type"),
            text(body, "/source"),
            text(body, "/enforcement"),
            bypass_actors(body).map(texts).unwrap_or(Cell::Null),
            refs("include"),
            refs("exclude"),
            rule_types,
        ],
    }])
}

/// Rule types that restrict what reaches the branch (pattern rules alone do not count as protection).
const PROTECTIVE: &[&str] = &[
    "pull_request",
    "required_status_checks",
    "non_fast_forward",
    "deletion",
    "update",
    "required_signatures",
    "required_linear_history",
    "required_deployments",
    "code_scanning",
    "workflows",
];

/// The active rules on the default branch, merged into one `branch_rules` row.
pub fn branch_rules(scope: &Scope, rules: &[&Value]) -> Result<Vec<Fact>> {
    Ok(vec![rules_row(scope, rules, true)])
}

/// The active rules on a release branch, merged into one `branch_rules` row.
pub fn release_branch_rules(scope: &Scope, rules: &[&Value]) -> Result<Vec<Fact>> {
    Ok(vec![rules_row(scope, rules, false)])
}

fn rules_row(scope: &Scope, rules: &[&Value], is_default_branch: bool) -> Fact {
    fn of_kind<'a>(rules: &'a [&'a Value], kind: &'static str) -> impl Iterator<Item = &'a &'a Value> + 'a {
        rules.iter().filter(move |r| r.get("type").and_then(Value::as_str) == Some(kind))
    }
    let of_type = |kind: &'static str| of_kind(rules, kind);
    let has = |kind: &'static str| of_type(kind).next().is_some();
    let pull_request_flag = |key: &str| {
        of_type("pull_request").any(|r| r.pointer(&format!("/parameters/{key}")).and_then(Value::as_bool) == Some(true))
    };
    let approvals = of_type("pull_request")
        .filter_map(|r| r.pointer("/parameters/required_approving_review_count")?.as_i64())
        .max()
        .unwrap_or(0);
    let mut checks: Vec<String> = of_type("required_status_checks")
        .flat_map(|r| {
            r.pointer("/parameters/required_status_checks").and_then(Value::as_array).cloned().unwrap_or_default()
        })
        .filter_map(|check| check.get("context")?.as_str().map(str::to_string))
        .collect();
    checks.sort();
    checks.dedup();
    let strict = of_type("required_status_checks")
        .any(|r| r.pointer("/parameters/strict_required_status_checks_policy").and_then(Value::as_bool) == Some(true));
    let protective: Vec<&&Value> = rules
        .iter()
        .filter(|r| r.get("type").and_then(Value::as_str).is_some_and(|t| PROTECTIVE.contains(&t)))
        .collect();
    let mut ids: Vec<i64> = protective.iter().filter_map(|r| r.get("ruleset_id")?.as_i64()).collect();
    ids.sort_unstable();
    ids.dedup();
    let known: Vec<&Vec<String>> = ids.iter().filter_map(|id| scope.bypass.get(id)).collect();
    let mut bypass: Vec<String> = known.iter().flat_map(|actors| actors.iter().cloned()).collect();
    bypass.sort();
    bypass.dedup();
    let no_bypass = if protective.is_empty() {
        Cell::Null
    } else if !bypass.is_empty() {
        Cell::Boolean(false)
    } else if known.len() == ids.len() {
        Cell::Boolean(true)
    } else {
        Cell::Null
    };
    Fact {
        table: "branch_rules",
        cells: vec![
            maybe_text(scope.repo),
            maybe_text(scope.branch),
            Cell::Boolean(is_default_branch),
            Cell::Text("rulesets".into()),
            Cell::Boolean(true),
            Cell::Null,
            Cell::Boolean(!protective.is_empty()),
            Cell::Boolean(has("pull_request")),
            Cell::Int(approvals as i32),
            Cell::Boolean(pull_request_flag("dismiss_stale_reviews_on_push")),
            Cell::Boolean(pull_request_flag("require_code_owner_review")),
            Cell::Boolean(pull_request_flag("require_last_push_approval")),
            texts(checks),
            Cell::Boolean(strict),
            no_bypass,
            Cell::Boolean(!has("non_fast_forward")),
            Cell::Boolean(!has("deletion")),
            Cell::Boolean(has("required_linear_history")),
            Cell::Boolean(has("required_signatures")),
            Cell::Boolean(pull_request_flag("required_review_thread_resolution")),
            texts(bypass),
            crate::store::list_text::integer_list(ids),
            Cell::Null,
        ],
    }
}

/// A `branch_rules` row saying the rules on the default branch could not be read, and why.
pub fn rules_not_visible(scope: &Scope, reason: &str) -> Vec<Fact> {
    vec![unseen_row(scope, reason, true)]
}

/// A `branch_rules` row saying the rules on a release branch could not be read, and why.
pub fn release_rules_not_visible(scope: &Scope, reason: &str) -> Vec<Fact> {
    vec![unseen_row(scope, reason, false)]
}

fn unseen_row(scope: &Scope, reason: &str, is_default_branch: bool) -> Fact {
    let mut cells = vec![
        maybe_text(scope.repo),
        maybe_text(scope.branch),
        Cell::Boolean(is_default_branch),
        Cell::Text("rulesets".into()),
        Cell::Boolean(false),
        Cell::Text(reason.to_string()),
    ];
    cells.resize(23, Cell::Null);
    Fact { table: "branch_rules", cells }
}

/// Bypass actors per ruleset id from every ruleset definition answered.
pub fn bypass_by_ruleset<'a>(definitions: impl Iterator<Item = &'a Value>) -> BTreeMap<i64, Vec<String>> {
    definitions.filter_map(|definition| Some((definition.get("id")?.as_i64()?, bypass_actors(definition)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Value {
        let path = format!("{}/../shared/samples/github-api/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("shared samples")).unwrap()
    }

    #[test]
    fn rules_on_a_branch_merge_into_one_row_with_bypass_from_definitions() {
        let rules = sample("gh-cli-rules-branches-rulesetCheck.json");
        let items: Vec<&Value> = rules.as_array().unwrap().iter().collect();
        let bypass = BTreeMap::from([(1234, vec!["organisation admins (always)".to_string()])]);
        let scope = Scope { org: "my-org", repo: Some("my-org/repo-name"), branch: Some("main"), bypass: &bypass };
        let row = &branch_rules(&scope, &items).unwrap()[0];
        assert_eq!(row.cells.len(), 23);
        assert_eq!(row.cells[6], Cell::Boolean(true), "required_signatures protects");
        assert_eq!(row.cells[18], Cell::Boolean(true), "signatures required");
        assert_eq!(row.cells[14], Cell::Boolean(false), "admins may bypass");
    }

    #[test]
    fn a_ruleset_definition_names_its_bypass_actors() {
        let definition = sample("gh-cli-rulesetViewRepo.json");
        assert_eq!(
            bypass_actors(&definition).unwrap(),
            vec!["repository role admin (always)".to_string(), "organisation admins (always)".to_string()]
        );
        let bypass = BTreeMap::new();
        let scope = Scope { org: "my-owner", repo: Some("my-owner/repo-name"), branch: None, bypass: &bypass };
        assert_eq!(ruleset(&scope, &definition, None).unwrap()[0].cells.len(), 11);
    }
}
