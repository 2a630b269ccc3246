//! Source-retention warnings: evidence the evaluated period depends on that its source deletes before the period
//! can be archived (GitHub Actions logs and artifacts, the organisation audit log, event logs), with what to archive
//! and by when. Read from the store as of the evaluated moment, like every verdict, and kept with the evaluation.

use anyhow::Result;
use chrono::{Duration, NaiveDateTime};
use duckdb::{params, Connection};

use super::Scope;
use crate::config::RetentionConfig;
use crate::error::input_error;
use crate::period::Period;

/// GitHub's default artifact and log retention, in days.
const ACTIONS_DEFAULT_DAYS: u32 = 90;
/// How long GitHub Enterprise Cloud keeps organisation audit-log events (web and API events; Git events are shorter).
const AUDIT_LOG_DEFAULT_DAYS: u32 = 180;
/// The `source` of workflow run logs and artifacts.
pub const ACTIONS_LOGS: &str = "github.actions_logs";
/// The `source` of the organisation audit log read through the API.
pub const AUDIT_LOG: &str = "github.audit_log";
/// The event tables whose sources `retention.source_days` may name as `<table>.<source>`.
const EVENT_TABLES: [&str; 2] = ["audit_events", "deploy_events"];

/// Evidence a source deletes before the period can be archived.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionRisk {
    /// The period at risk (the evaluation's, else the calendar quarter of its as-of).
    pub period: String,
    /// `github.actions_logs`, `github.audit_log`, or `<table>.<source>` for an event log.
    pub source: String,
    /// The repository, organisation or log source.
    pub subject: String,
    /// How many items the source deletes before the archive date (`None`: events not yet read, so not counted).
    pub items: Option<i64>,
    /// Of those, how many were already deleted at the evaluated moment.
    pub expired_items: Option<i64>,
    /// The oldest item at risk; for event logs, where reading stopped.
    pub first_item_at: NaiveDateTime,
    /// How long the source keeps them, in days.
    pub retention_days: i64,
    /// Where that retention comes from, in words.
    pub retention_origin: String,
    /// When the source starts deleting them.
    pub expires_from: NaiveDateTime,
    /// The period's end plus the archive delay.
    pub archive_by: NaiveDateTime,
}

/// Refuses `retention.source_days` keys that name no source, before anything is evaluated.
pub fn check_config(config: &RetentionConfig) -> Result<()> {
    for key in config.source_days.keys() {
        let known = key == ACTIONS_LOGS
            || key == AUDIT_LOG
            || key.split_once('.').is_some_and(|(table, source)| EVENT_TABLES.contains(&table) && !source.is_empty());
        if !known {
            return Err(input_error(format!(
                "retention.source_days: {key:?} is not a source; use {ACTIONS_LOGS}, {AUDIT_LOG}, or an event log \
                 as audit_events.<source> or deploy_events.<source> (e.g. audit_events.kubernetes)"
            )));
        }
    }
    Ok(())
}

/// The period whose archive the warnings aim at: the evaluation's period, else the calendar quarter of its as-of.
fn period_at_risk(scope: &Scope) -> Period {
    scope.period.clone().unwrap_or_else(|| Period::quarter_of(scope.as_of))
}

/// What the warnings look ahead to: the moment evaluated, the period at risk and its archive date.
struct Horizon<'a> {
    as_of: NaiveDateTime,
    period: Period,
    archive_by: NaiveDateTime,
    config: &'a RetentionConfig,
}

/// Finds what the period depends on that its sources delete before its archive date, soonest deletion first.
/// `conn` shows the store as of `scope.as_of` (the evaluation's sandbox).
pub fn assess(conn: &Connection, scope: &Scope, config: &RetentionConfig) -> Result<Vec<RetentionRisk>> {
    let period = period_at_risk(scope);
    let archive_by = period.end + Duration::days(i64::from(config.archive_after_days));
    let horizon = Horizon { as_of: scope.as_of, period, archive_by, config };
    let mut risks = actions_logs(conn, &horizon)?;
    risks.extend(audit_log(conn, &horizon)?);
    risks.extend(event_logs(conn, &horizon)?);
    risks.sort_by(|a, b| (a.expires_from, &a.source, &a.subject).cmp(&(b.expires_from, &b.source, &b.subject)));
    Ok(risks)
}

/// Workflow runs of the period whose logs and artifacts GitHub deletes before the archive date, per repository.
fn actions_logs(conn: &Connection, horizon: &Horizon) -> Result<Vec<RetentionRisk>> {
    let Horizon { as_of, ref period, archive_by, config } = *horizon;
    let configured = config.source_days.get(ACTIONS_LOGS).copied();
    let mut statement = conn.prepare(
        "WITH runs AS (
             SELECT org, repo, workflow_run_id, min(created_at) AS created_at FROM workflow_runs
             WHERE created_at BETWEEN ? AND ? GROUP BY ALL),
         kept AS (
             SELECT r.*, rs.days AS repo_days, os.days AS org_days,
                    coalesce(rs.days, os.days, ?::INTEGER) AS days
             FROM runs r
             LEFT JOIN actions_retention rs ON rs.org = r.org AND rs.repo = r.repo
             LEFT JOIN actions_retention os ON os.org = r.org AND os.repo IS NULL)
         SELECT repo, any_value(repo_days), any_value(org_days), any_value(days),
                count(*) FILTER (WHERE created_at + to_days(days) < ?) AS at_risk,
                count(*) FILTER (WHERE created_at + to_days(days) <= ?) AS expired,
                min(created_at) FILTER (WHERE created_at + to_days(days) < ?) AS first_at
         FROM kept GROUP BY repo HAVING at_risk > 0 ORDER BY repo",
    )?;
    let default_days = configured.unwrap_or(ACTIONS_DEFAULT_DAYS);
    let until = as_of.min(period.end);
    let rows =
        statement.query_map(params![period.start, until, default_days, archive_by, as_of, archive_by], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, NaiveDateTime>(6)?,
            ))
        })?;
    let mut risks = Vec::new();
    for row in rows {
        let (repo, repo_days, org_days, days, items, expired, first_at) = row?;
        let origin = match (repo_days, org_days, configured) {
            (Some(_), _, _) => "the repository's artifact and log retention setting".to_string(),
            (None, Some(_), _) => "the organisation's setting (the repository's own was not visible; it can only be \
                                  shorter)"
                .to_string(),
            (None, None, Some(_)) => format!("retention.source_days.{ACTIONS_LOGS} in the config"),
            (None, None, None) => "GitHub's default (neither the repository's nor the organisation's setting was \
                                   visible)"
                .to_string(),
        };
        risks.push(RetentionRisk {
            period: period.label.clone(),
            source: ACTIONS_LOGS.to_string(),
            subject: repo,
            items: Some(items),
            expired_items: Some(expired),
            first_item_at: first_at,
            retention_days: days,
            retention_origin: origin,
            expires_from: first_at + Duration::days(days),
            archive_by,
        });
    }
    Ok(risks)
}

/// Organisations whose audit log was last read so long ago that events after it are deleted before the archive date.
fn audit_log(conn: &Connection, horizon: &Horizon) -> Result<Vec<RetentionRisk>> {
    let Horizon { as_of, config, .. } = *horizon;
    let (days, origin) = match config.source_days.get(AUDIT_LOG) {
        Some(days) => (*days, format!("retention.source_days.{AUDIT_LOG} in the config")),
        None => (AUDIT_LOG_DEFAULT_DAYS, "GitHub Enterprise Cloud's audit-log retention".to_string()),
    };
    let mut statement = conn.prepare(
        "SELECT w.org, max(w.read_until) FROM collection_watermarks w JOIN runs r USING (run_id)
         WHERE r.status = 'succeeded' AND w.kind = ? AND w.read_until <= ? GROUP BY w.org ORDER BY w.org",
    )?;
    let rows = statement
        .query_map(params![AUDIT_LOG, as_of], |row| Ok((row.get::<_, String>(0)?, row.get::<_, NaiveDateTime>(1)?)))?;
    let mut risks = Vec::new();
    for row in rows {
        let (org, read_until) = row?;
        if let Some(risk) = unread_events(horizon, AUDIT_LOG, &org, read_until, days, &origin) {
            risks.push(risk);
        }
    }
    Ok(risks)
}

/// Event logs ingested from files whose retention the config declares, where the newest event held is so old that
/// the events after it are deleted before the archive date.
fn event_logs(conn: &Connection, horizon: &Horizon) -> Result<Vec<RetentionRisk>> {
    let Horizon { as_of, ref period, config, .. } = *horizon;
    let mut risks = Vec::new();
    for (key, days) in &config.source_days {
        let Some((table, source)) = key.split_once('.').filter(|(table, _)| EVENT_TABLES.contains(table)) else {
            continue;
        };
        let newest: Option<NaiveDateTime> = conn.query_row(
            &format!("SELECT max(event_time) FROM {table} WHERE source = ? AND event_time <= ?"),
            params![source, as_of],
            |row| row.get(0),
        )?;
        let origin = format!("retention.source_days.{key} in the config");
        let read_until = newest.unwrap_or(period.start).max(period.start);
        if let Some(risk) = unread_events(horizon, key, source, read_until, *days, &origin) {
            risks.push(risk);
        }
    }
    Ok(risks)
}

/// The risk to a period's events after `read_until`, which a source keeping `days` days starts deleting at
/// `read_until + days`, when that comes before the archive date and the period goes on past `read_until`.
fn unread_events(
    horizon: &Horizon,
    source: &str,
    subject: &str,
    read_until: NaiveDateTime,
    days: u32,
    origin: &str,
) -> Option<RetentionRisk> {
    let Horizon { ref period, archive_by, .. } = *horizon;
    let expires_from = read_until + Duration::days(i64::from(days));
    (expires_from < archive_by && read_until < period.end).then(|| RetentionRisk {
        period: period.label.clone(),
        source: source.to_string(),
        subject: subject.to_string(),
        items: None,
        expired_items: None,
        first_item_at: read_until,
        retention_days: i64::from(days),
        retention_origin: origin.to_string(),
        expires_from,
        archive_by,
    })
}

/// Keeps an evaluation's risks, in the evaluation's transaction.
pub fn record(conn: &Connection, evaluation_id: i64, risks: &[RetentionRisk]) -> Result<()> {
    let mut rows = conn.appender("evaluation_retention")?;
    for risk in risks {
        rows.append_row(params![
            evaluation_id,
            risk.period,
            risk.source,
            risk.subject,
            risk.items,
            risk.expired_items,
            risk.first_item_at,
            risk.retention_days,
            risk.retention_origin,
            risk.expires_from,
            risk.archive_by
        ])?;
    }
    rows.flush()?;
    Ok(())
}

/// The risks an evaluation found, soonest deletion first.
pub fn load(conn: &Connection, evaluation_id: i64) -> Result<Vec<RetentionRisk>> {
    let mut statement = conn.prepare(
        "SELECT period_label, source, subject, items, expired_items, first_item_at, retention_days, retention_origin,
                expires_from, archive_by
         FROM evaluation_retention WHERE evaluation_id = ? ORDER BY expires_from, source, subject",
    )?;
    let rows = statement.query_map([evaluation_id], |row| {
        Ok(RetentionRisk {
            period: row.get(0)?,
            source: row.get(1)?,
            subject: row.get(2)?,
            items: row.get(3)?,
            expired_items: row.get(4)?,
            first_item_at: row.get(5)?,
            retention_days: row.get(6)?,
            retention_origin: row.get(7)?,
            expires_from: row.get(8)?,
            archive_by: row.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn day(moment: &NaiveDateTime) -> String {
    moment.format("%Y-%m-%d").to_string()
}

impl RetentionRisk {
    /// The source in words.
    pub fn source_label(&self) -> String {
        match self.source.as_str() {
            ACTIONS_LOGS => "GitHub Actions logs and artifacts".to_string(),
            AUDIT_LOG => "GitHub organisation audit log".to_string(),
            other => match other.split_once('.') {
                Some(("deploy_events", source)) => format!("Deploy events ({source})"),
                Some((_, source)) => format!("Audit events ({source})"),
                None => other.to_string(),
            },
        }
    }

    /// What is at risk, in words.
    pub fn what(&self) -> String {
        match (self.source.as_str(), self.items) {
            (ACTIONS_LOGS, Some(items)) => {
                let gone = match self.expired_items {
                    Some(expired) if expired > 0 => format!(", {expired} of them already deleted"),
                    _ => String::new(),
                };
                format!(
                    "{items} workflow run{} of {} created from {}{gone}",
                    if items == 1 { "" } else { "s" },
                    self.period,
                    day(&self.first_item_at)
                )
            }
            (AUDIT_LOG, _) => format!(
                "the {} audit-log events after {} (where the last successful collection stopped)",
                self.period,
                crate::time::display_utc(&self.first_item_at)
            ),
            _ => format!(
                "the {} events after {} (the newest one held)",
                self.period,
                crate::time::display_utc(&self.first_item_at)
            ),
        }
    }

    /// What to do, and by when.
    pub fn action(&self) -> String {
        let by = day(&self.expires_from);
        let covering = Period::parse(&self.period)
            .map(|period| period.days() + (self.archive_by - period.end).num_days())
            .unwrap_or(self.retention_days);
        match self.source.as_str() {
            ACTIONS_LOGS => format!(
                "Download the logs and artifacts of the runs you will sample before {by} (gh run view ID --log; \
                 gh run download ID). A retention of at least {} days (Settings, Actions, General; private \
                 repositories allow up to 400) keeps a whole period's runs until its archive date; it applies to new \
                 runs only.",
                covering
            ),
            AUDIT_LOG => format!(
                "Run pipeproof collect before {by}, or stream the audit log to storage you keep; GitHub deletes \
                 the events from then on."
            ),
            _ => format!(
                "Ingest the newer {} events before {by} (pipeproof ingest), or export them to storage that keeps \
                 them past {}.",
                self.source.split_once('.').map_or(self.source.as_str(), |(_, source)| source),
                day(&self.archive_by)
            ),
        }
    }

    /// One line for logs: source, subject, what and by when.
    pub fn summary(&self) -> String {
        let label = self.source_label();
        let of = if label.contains(&self.subject) { String::new() } else { format!(" of {}", self.subject) };
        format!(
            "{label}{of}: {}, deleted at the source from {} ({} days' retention, {}), before {}'s archive date {}",
            self.what(),
            day(&self.expires_from),
            self.retention_days,
            self.retention_origin,
            self.period,
            day(&self.archive_by)
        )
    }
}
