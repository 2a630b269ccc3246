//! The group's members (direct, inherited and invited: `/groups/:id/members/all`) as `org_people` rows: each a
//! `member`, Owners (access level 50) also an `owner`, and those GitLab says have no two-factor authentication a
//! `member_2fa_disabled` (never a token's bot user). GitLab shows `two_factor_enabled` to few (group owners on
//! recent versions, administrators): where an answer does not carry it for every member, nobody is listed without
//! 2FA and the coverage of that part says why.

use duckdb::types::Value as Cell;
use serde_json::Value;

/// GitLab's access level of an Owner.
const OWNER: i64 = 50;

/// The rows of one member (the columns after `org`), deduplicated by the caller: `members/all` may list a user once
/// per membership, and the highest level counts.
pub fn rows(item: &Value) -> Vec<Vec<Cell>> {
    let Some(login) = item.get("username").and_then(Value::as_str) else { return Vec::new() };
    let bot = item.get("bot").and_then(Value::as_bool) == Some(true) || is_token_bot(login);
    let row = |relation: &str| {
        vec![
            Cell::Null,
            Cell::Text(relation.to_string()),
            Cell::Text(login.to_string()),
            Cell::Text(if bot { "Bot" } else { "User" }.to_string()),
            Cell::Null,
        ]
    };
    let mut rows = vec![row("member")];
    if item.get("access_level").and_then(Value::as_i64).is_some_and(|level| level >= OWNER) {
        rows.push(row("owner"));
    }
    // Token bots sign in with their token only: they have no second factor to set up.
    if !bot && item.get("two_factor_enabled").and_then(Value::as_bool) == Some(false) {
        rows.push(row("member_2fa_disabled"));
    }
    rows
}

/// Whether every member in the answer carries `two_factor_enabled` (else who lacks 2FA is not known).
pub fn two_factor_shown(items: &[Value]) -> bool {
    items.iter().all(|item| item.get("two_factor_enabled").is_some_and(Value::is_boolean))
}

/// The users GitLab creates for group and project access tokens (`group_<id>_bot_…`, `project_<id>_bot_…`).
fn is_token_bot(login: &str) -> bool {
    ["group_", "project_"].iter().any(|prefix| {
        login
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once("_bot"))
            .is_some_and(|(id, _)| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
    })
}

/// One member per username, at the highest access level any of their memberships gives.
pub fn highest_per_user(items: Vec<Value>) -> Vec<Value> {
    let mut by_user: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for item in items {
        let Some(login) = item.get("username").and_then(Value::as_str).map(str::to_string) else { continue };
        let level = |v: &Value| v.get("access_level").and_then(Value::as_i64).unwrap_or(0);
        match by_user.get(&login) {
            Some(kept) if level(kept) >= level(&item) => {}
            _ => {
                by_user.insert(login, item);
            }
        }
    }
    by_user.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_members_are_an_owner_and_a_maintainer() {
        let path =
            format!("{}/../shared/samples/gitlab-api/scorecard-valid-repo-members.json", env!("CARGO_MANIFEST_DIR"));
        let items: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let relations: Vec<String> = highest_per_user(items.clone())
            .iter()
            .flat_map(rows)
            .map(|row| match &row[1] {
                Cell::Text(relation) => relation.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(relations.iter().filter(|r| *r == "owner").count(), 1, "{relations:?}");
        assert!(!two_factor_shown(&items), "this answer does not say who has 2FA");
    }

    #[test]
    fn a_member_listed_twice_counts_at_the_higher_level_and_bots_are_bots() {
        let items = vec![
            serde_json::json!({"username": "ann", "access_level": 30, "two_factor_enabled": false}),
            serde_json::json!({"username": "ann", "access_level": 50, "two_factor_enabled": false}),
            serde_json::json!({"username": "group_42_bot_5f1e", "access_level": 40, "two_factor_enabled": false}),
        ];
        assert!(two_factor_shown(&items));
        let kept = highest_per_user(items);
        assert_eq!(kept.len(), 2);
        let ann = rows(&kept[0]);
        assert_eq!(ann.len(), 3, "member, owner, without 2FA");
        let bot = rows(&kept[1]);
        assert_eq!((bot.len(), bot[0][3].clone()), (1, Cell::Text("Bot".into())), "a member, and no 2FA row");
    }
}
