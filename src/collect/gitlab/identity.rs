//! The group's restriction of access by IP address (`ip_restriction_ranges`, GitLab Premium; set on the top-level
//! group and applied to every group and project under it: web, API and Git) as an `org_identity` row, judged by
//! `MON-03` with the group's audit events. GitLab's REST API does not show a group's SAML configuration: the row
//! says so rather than "none".

use anyhow::Result;
use duckdb::params;
use serde_json::Value;

use super::tier::Tier;
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::ApiResponse;

/// The coverage kind of the row.
pub const KIND: &str = "gitlab.group_identity";

/// What the top-level group's answer says of its IP restriction: (`ENABLED`/`DISABLED`, the ranges) or why it is
/// not known.
pub fn ip_restriction(root: &ApiResponse, tier: &Tier) -> std::result::Result<(&'static str, usize), String> {
    if root.status != 200 {
        return Err(format!("the top-level group could not be read (HTTP {})", root.status));
    }
    let body = root.json().map_err(|e| format!("the top-level group's answer is not JSON: {e}"))?;
    match body.get("ip_restriction_ranges") {
        Some(Value::String(ranges)) => {
            let count = ranges.split(',').filter(|range| !range.trim().is_empty()).count();
            Ok((if count > 0 { "ENABLED" } else { "DISABLED" }, count))
        }
        Some(Value::Null) => Ok(("DISABLED", 0)),
        Some(_) => Err("GitLab sent ip_restriction_ranges in an unexpected form".into()),
        None if matches!(tier, Tier::Free(_)) => Ok(("DISABLED", 0)),
        None => {
            Err("GitLab did not show the top-level group's IP restriction (ip_restriction_ranges: GitLab Premium, \
                     shown to the group's Owners)"
                .into())
        }
    }
}

/// Stores the group's `org_identity` row and its coverage from the top-level group's answer (`evidence_id`).
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    root: &ApiResponse,
    evidence_id: i64,
    coverage: &mut duckdb::Appender<'_>,
) -> Result<()> {
    let seen = if root.status == 200 {
        Seen::Visible
    } else {
        Seen::NotVisible(format!("the top-level group {} could not be read (HTTP {})", root.url, root.status))
    };
    Coverage {
        org,
        subject: org,
        kind: KIND,
        table: "org_identity",
        part: "",
        evidence_id: Some(evidence_id),
        observed_at: root.received_at,
        complete: seen == Seen::Visible,
    }
    .append(coverage, run_id, &seen)?;
    if seen != Seen::Visible {
        return Ok(());
    }
    let restriction = ip_restriction(root, tier);
    let (state, ranges, error) = match &restriction {
        Ok((state, ranges)) => (Some(*state), Some(*ranges as i32), None),
        Err(why) => (None, None, Some(why.as_str())),
    };
    let free =
        matches!(tier, Tier::Free(_)).then(|| format!("{} cannot restrict access by IP address", tier.describe()));
    conn.prepare_cached("INSERT INTO org_identity_history VALUES (?, ?, ?, ?, NULL, 'not_visible', NULL, NULL, NULL, ?, ?, NULL, ?, ?, ?)")?
        .execute(params![
            run_id,
            evidence_id,
            root.received_at,
            org,
            "GitLab's REST API does not show a group's SAML configuration",
            state,
            ranges,
            ranges,
            error.map(str::to_string).or(free)
        ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(body: &str) -> ApiResponse {
        crate::collect::gitlab::test_answer(200, body)
    }

    #[test]
    fn ranges_enable_the_restriction_and_its_absence_is_unknown_above_free() {
        let paid = Tier::Paid("premium".into());
        let free = Tier::Free("the group's plan is free".into());
        let ranges = group(r#"{"id":1,"ip_restriction_ranges":"10.0.0.0/8, 192.168.1.0/24"}"#);
        assert_eq!(ip_restriction(&ranges, &paid), Ok(("ENABLED", 2)));
        assert_eq!(ip_restriction(&group(r#"{"id":1,"ip_restriction_ranges":null}"#), &paid), Ok(("DISABLED", 0)));
        assert_eq!(ip_restriction(&group(r#"{"id":1,"ip_restriction_ranges":""}"#), &paid), Ok(("DISABLED", 0)));
        assert!(ip_restriction(&group(r#"{"id":1}"#), &paid).is_err(), "not shown is not off");
        assert_eq!(ip_restriction(&group(r#"{"id":1}"#), &free), Ok(("DISABLED", 0)));
        let recorded = crate::collect::gitlab::recorded_sample("gitlab4j-group.json");
        assert!(ip_restriction(&group(&recorded.to_string()), &paid).is_err());
    }
}
