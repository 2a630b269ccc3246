//! Audit events (GitLab Premium): the group's and each project's, from where the last successful collection
//! stopped (less a day) or `operating_days` back, asked in windows of 30 days or less with keyset pagination, into
//! `audit_events` once per event id, judged by `MON-02`.
//!
//! A group's audit events are shown whole to its Owners (and administrators) only; anyone else sees their own
//! actions, a listing that looks complete and is not. The collector asks who the token's user is first: below
//! Owner, the group's events are not visible, never "none". A project's events are shown whole to its Maintainers.

use anyhow::Result;
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use serde_json::Value;

use super::fetch::{get, get_all};
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{ApiClient, ApiResponse};
use crate::facts::{Facts, Origin};
use crate::ingest::audit_log::{event, AuditSource};

/// The evidence kind, also the watermark's kind.
pub const KIND: &str = "gitlab.audit_events";

/// The longest window one request asks for.
const WINDOW_DAYS: i64 = 30;

/// Whose events are read: the group (`/groups/:id`) or a project (`/projects/:id`).
pub struct Subject {
    /// The store's name for it (`gitlab:<path>`).
    pub name: String,
    /// The API path it is read under, e.g. `/projects/12`.
    pub base: String,
    /// Why its events cannot be read whole, found before asking (a group read by a non-Owner).
    pub hidden: Option<String>,
}

/// What was read of one subject.
pub struct SubjectEvents {
    /// The subject.
    pub subject: Subject,
    /// Where its window started.
    pub from: NaiveDateTime,
    /// Every page of every window, oldest window first.
    pub pages: Vec<ApiResponse>,
}

/// What was read; `None` where the tier has no audit events.
pub struct AuditEvents {
    /// Each subject.
    pub read: Option<Vec<SubjectEvents>>,
    /// The answers that said who the token's user is.
    pub identity: Vec<ApiResponse>,
}

impl AuditEvents {
    /// Every answer.
    pub fn responses(&self) -> Vec<&ApiResponse> {
        let events = self.read.iter().flatten().flat_map(|s| &s.pages);
        self.identity.iter().chain(events).collect()
    }
}

/// The windows of at most 30 days from `from` to `until`.
pub fn windows(from: NaiveDateTime, until: NaiveDateTime) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut windows = Vec::new();
    let mut start = from;
    while start < until {
        let end = (start + Duration::days(WINDOW_DAYS)).min(until);
        windows.push((start, end));
        start = end;
    }
    windows
}

/// The first page of one window's events, newest first (keyset pagination; the `Link` header leads on).
pub fn window_path(base: &str, from: NaiveDateTime, until: NaiveDateTime, per_page: u32) -> String {
    format!(
        "{base}/audit_events?created_after={}&created_before={}&pagination=keyset&order_by=id&sort=desc&per_page={per_page}",
        from.format("%Y-%m-%dT%H:%M:%SZ"),
        until.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// Whether the token's user sees all of group `group_id`'s audit events (an administrator, or an Owner of the
/// group); `Err` says why not.
async fn sees_the_group(
    client: &ApiClient,
    group_id: i64,
    identity: &mut Vec<ApiResponse>,
) -> Result<Result<(), String>> {
    let user = get(client, "/user").await?;
    let body = (user.status == 200).then(|| user.json().ok()).flatten();
    identity.push(user);
    let Some(body) = body else {
        return Ok(Err(
            "GitLab did not say who the token's user is, so whether it sees every event is not known".into()
        ));
    };
    if body.get("is_admin").and_then(Value::as_bool) == Some(true) {
        return Ok(Ok(()));
    }
    let Some(user_id) = body.get("id").and_then(Value::as_i64) else {
        return Ok(Err("GitLab did not say who the token's user is".into()));
    };
    let member = get(client, &format!("/groups/{group_id}/members/all/{user_id}")).await?;
    let level = (member.status == 200).then(|| member.json().ok()?.get("access_level")?.as_i64()).flatten();
    identity.push(member);
    Ok(match level {
        Some(level) if level >= 50 => Ok(()),
        _ => Err("GitLab shows a group's audit events whole only to its Owners and to administrators; the token's \
                  user is neither, and would see only its own actions"
            .into()),
    })
}

/// Reads the audit events of the group (id, when it could be read) and of each project, each from its starting
/// point (`starts`, by store name; else `floor`) until `until`.
#[allow(clippy::too_many_arguments)]
pub async fn fetch(
    client: &ApiClient,
    tier: &Tier,
    group: (&str, Option<i64>),
    projects: Vec<(String, i64)>,
    starts: &std::collections::BTreeMap<String, NaiveDateTime>,
    floor: NaiveDateTime,
    until: NaiveDateTime,
    per_page: u32,
    concurrency: usize,
) -> Result<AuditEvents> {
    let mut identity = Vec::new();
    if matches!(tier, Tier::Free(_)) {
        return Ok(AuditEvents { read: None, identity });
    }
    let (group_path, group_id) = group;
    let mut subjects = Vec::new();
    let group_name = format!("{}{group_path}", super::PREFIX);
    match group_id {
        Some(id) => {
            let hidden = sees_the_group(client, id, &mut identity).await?.err();
            subjects.push(Subject { name: group_name, base: format!("/groups/{id}"), hidden });
        }
        None => subjects.push(Subject {
            name: group_name,
            base: String::new(),
            hidden: Some(format!("group {group_path} could not be read, so neither could its audit events")),
        }),
    }
    for (path, id) in projects {
        subjects.push(Subject {
            name: format!("{}{path}", super::PREFIX),
            base: format!("/projects/{id}"),
            hidden: None,
        });
    }
    let reads = subjects.into_iter().map(|subject| async move {
        let from = starts.get(&subject.name).copied().unwrap_or(floor);
        let mut pages = Vec::new();
        if subject.hidden.is_none() {
            for (start, end) in windows(from, until) {
                let window = get_all(client, &window_path(&subject.base, start, end, per_page)).await?;
                let failed = window.iter().any(|page| page.status != 200);
                pages.extend(window);
                if failed {
                    break; // the rest of the period is not asked: coverage says why
                }
            }
        }
        Ok::<_, anyhow::Error>(SubjectEvents { subject, from, pages })
    });
    let read = futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await;
    Ok(AuditEvents { read: Some(read.into_iter().collect::<Result<_>>()?), identity })
}

/// Stores the pages as evidence, their events once per id, coverage per subject, and watermarks; counts them in
/// `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    read: &AuditEvents,
    now: NaiveDateTime,
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let mut coverage = conn.appender("api_coverage_history")?;
    let Some(subjects) = &read.read else {
        let off = Seen::FeatureOff(format!("{} has no audit events: not asked", tier.describe()));
        Coverage {
            org,
            subject: org,
            kind: KIND,
            table: "audit_events",
            part: "",
            evidence_id: None,
            observed_at: now,
            complete: false,
        }
        .append(&mut coverage, run_id, &off)?;
        coverage.flush()?;
        summary.count(&off);
        return Ok(());
    };
    let mut kept = Vec::new();
    for subject in subjects {
        kept.extend(super::facts::listing_evidence(KIND, &subject.subject.name, &subject.pages));
    }
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let mut next_id = ids.into_iter();
    let mut windows_read = Vec::new();
    for subject in subjects {
        let page_ids: Vec<i64> = next_id.by_ref().take(subject.pages.len()).collect();
        let role = if subject.subject.base.starts_with("/groups/") { "Owner" } else { "Maintainer" };
        let seen = match &subject.subject.hidden {
            Some(why) => Seen::NotVisible(why.clone()),
            None => judge(KIND, role, Some("audit events"), tier, &subject.pages),
        };
        Coverage {
            org,
            subject: &subject.subject.name,
            kind: KIND,
            table: "audit_events",
            part: "",
            evidence_id: page_ids.first().copied(),
            observed_at: subject.pages.first().map_or(now, |p| p.received_at),
            complete: seen == Seen::Visible,
        }
        .append(&mut coverage, run_id, &seen)?;
        summary.count(&seen);
        // The events of every page read are kept (once per id), even when a later window failed; only the
        // watermark waits for the whole period.
        for (page, evidence_id) in subject.pages.iter().zip(&page_ids).filter(|(page, _)| page.status == 200) {
            let records = page.json()?.as_array().cloned().unwrap_or_default();
            if records.is_empty() {
                continue;
            }
            let mut facts =
                Facts { kind: "gitlab-audit", format: "gitlab-audit-events-api".into(), ..Facts::default() };
            for (index, record) in records.iter().enumerate() {
                let raw = serde_json::to_vec(record)?;
                facts.audit_events.push(event(AuditSource::Gitlab, record, index + 1, &raw, &page.url)?);
            }
            let origin = Origin {
                run_id,
                evidence_id: *evidence_id,
                observed_at: page.received_at,
                subject: &subject.subject.name,
                repo: None,
            };
            summary.audit_events += crate::facts::store_facts(conn, &origin, &facts)?.rows;
        }
        if seen == Seen::Visible {
            windows_read.push((subject.subject.name.as_str(), subject.from, now));
        }
    }
    coverage.flush()?;
    drop(coverage);
    crate::collect::watermarks::record(conn, run_id, org, KIND, &windows_read)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_asked_in_windows_of_thirty_days_or_less() {
        let at = |day: &str| crate::time::parse_api_time(&format!("{day}T00:00:00Z")).unwrap();
        let found = windows(at("2026-09-08"), at("2026-12-07"));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.iter().all(|(a, b)| *b - *a <= Duration::days(30)));
        assert_eq!((found[0].0, found[2].1), (at("2026-09-08"), at("2026-12-07")));
        assert!(windows(at("2026-12-07"), at("2026-12-07")).is_empty());
        let path = window_path("/groups/7", at("2026-11-01"), at("2026-12-01"), 100);
        assert!(path.contains("created_after=2026-11-01T00:00:00Z&created_before=2026-12-01T00:00:00Z"), "{path}");
        assert!(path.contains("pagination=keyset&order_by=id&sort=desc"), "{path}");
    }
}
