//! When each member was last active: the top-level group's billable members (`/groups/:id/billable_members`,
//! Owners of that group only), whose `last_activity_on` GitLab moves on signing in, Git over HTTP or SSH, API and
//! web use (a date, updated daily), into `member_activity`, judged by `SRC-04`. A member GitLab does not bill
//! (a Guest on Ultimate, a token's bot) is not listed: their activity is not known, never recent.

use anyhow::Result;
use chrono::NaiveDate;
use serde_json::Value;

use super::fetch::get_all;
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{listing_complete, ApiClient, ApiResponse};

/// The evidence and coverage kind.
pub const KIND: &str = "gitlab.member_activity";

/// The billable members of a top-level group, named by its id or URL-encoded path (the collector and `doctor` ask
/// alike).
pub fn path(root: &str, per_page: u32) -> String {
    format!("/groups/{root}/billable_members?per_page={per_page}")
}

/// Reads the billable members of the top-level group `root_id`.
pub async fn fetch(client: &ApiClient, root_id: i64, per_page: u32) -> Result<Vec<ApiResponse>> {
    get_all(client, &path(&root_id.to_string(), per_page)).await
}

/// A date GitLab wrote as `YYYY-MM-DD` (or at the start of a timestamp).
fn date(value: Option<&Value>) -> Option<NaiveDate> {
    let text = value?.as_str()?;
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// Stores each listed member's last activity and sign-in as `member_activity` rows with the listing's coverage;
/// counts them in `summary`. `pages` is `None` when the top-level group's id was not known (nothing asked).
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    pages: Option<&[ApiResponse]>,
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let pages = pages.unwrap_or_default();
    let kept = super::facts::listing_evidence(KIND, org, pages);
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let seen = if pages.is_empty() {
        Seen::Incomplete("the top-level group was not read, so its billable members were not asked".into())
    } else if listing_complete(pages) == Some(false) {
        Seen::Incomplete("the billable members listing was not read to its end".into())
    } else {
        judge(KIND, "Owner of the top-level group", Some("list of billable members"), tier, pages)
    };
    let mut coverage = conn.appender("api_coverage_history")?;
    Coverage {
        org,
        subject: org,
        kind: KIND,
        table: "member_activity",
        part: "",
        evidence_id: ids.first().copied(),
        observed_at: pages.first().map(|page| page.received_at).unwrap_or_else(crate::time::now_utc),
        complete: seen == Seen::Visible,
    }
    .append(&mut coverage, run_id, &seen)?;
    coverage.flush()?;
    summary.count(&seen);
    let mut rows = conn.appender("member_activity_history")?;
    for (page, evidence_id) in pages.iter().zip(&ids).filter(|(page, _)| page.status == 200) {
        let items = page.json().ok().and_then(|body| body.as_array().cloned()).unwrap_or_default();
        for item in &items {
            let Some(login) = item.get("username").and_then(Value::as_str) else { continue };
            let signed_in = item.get("last_login_at").and_then(Value::as_str).and_then(crate::time::parse_api_time);
            rows.append_row(duckdb::params![
                run_id,
                evidence_id,
                page.received_at,
                org,
                login,
                date(item.get("last_activity_on")),
                signed_in
            ])?;
        }
    }
    rows.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_dates_are_read_as_gitlab_writes_them() {
        let at = |text: &str| date(Some(&Value::String(text.into())));
        assert_eq!(at("2021-01-26"), NaiveDate::from_ymd_opt(2021, 1, 26));
        assert_eq!(at("2021-01-26T10:00:00Z"), NaiveDate::from_ymd_opt(2021, 1, 26));
        assert_eq!(at("yesterday"), None);
        assert_eq!(at("é"), None);
        assert_eq!(date(Some(&Value::Null)), None);
    }
}
