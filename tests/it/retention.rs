//! Source-retention warnings: evidence a period depends on that its source deletes before the period is archived.

use crate::common;

use std::path::Path;

use chrono::{Duration, NaiveDateTime};
use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::ReplayServer;
use pipeproof::config::Config;
use pipeproof::controls::Catalogue;
use pipeproof::evaluate::retention::RetentionRisk;
use pipeproof::evaluate::{evaluate, Scope};
use pipeproof::ingest::TrustPolicy;
use pipeproof::period::Period;
use pipeproof::store::Store;

/// The demo organisation collected through the replay server into a new store.
fn collected_demo(dir: &Path) -> std::path::PathBuf {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let path = dir.join("s.duckdb");
    let store = Store::open(&path).unwrap();
    let config = GithubConfig { per_page: 4, ..GithubConfig::for_org("acme-demo", &server.base_url()) };
    pipeproof::collect::github::collect(&store, &config, Token::new("ghs_demo".into()), &TrustPolicy::default())
        .unwrap();
    path
}

/// The last 30 days as a period (so the demo's runs, a few days old, fall inside it).
fn last_month(now: NaiveDateTime) -> Period {
    Period::parse(&format!("{}..{}", (now - Duration::days(30)).format("%Y-%m-%d"), now.format("%Y-%m-%d"))).unwrap()
}

fn evaluate_with(store: &Path, config: &Config, scope: &Scope) -> Vec<RetentionRisk> {
    let catalogue = Catalogue::load(&[] as &[&Path]).unwrap();
    evaluate(store, &catalogue, config, scope).unwrap().retention
}

fn config(yaml: &str) -> Config {
    Config::parse(yaml, "test config").unwrap()
}

#[test]
fn workflow_run_logs_deleted_before_the_archive_date_are_named_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let store = collected_demo(dir.path());
    let now = pipeproof::time::now_utc();
    let scope = Scope::for_period(last_month(now), None, now).unwrap();

    let risks = evaluate_with(&store, &Config::default(), &scope);
    assert_eq!(risks.len(), 1, "{risks:#?}");
    let web = &risks[0];
    assert_eq!(web.source, "github.actions_logs");
    assert_eq!(web.subject, "acme-demo/web-app");
    assert_eq!((web.items, web.expired_items), (Some(1), Some(0)));
    assert_eq!(web.retention_days, 30);
    assert!(web.retention_origin.contains("repository's"), "{}", web.retention_origin);
    assert_eq!(web.expires_from, web.first_item_at + Duration::days(30));
    assert_eq!(web.archive_by, scope.period.as_ref().unwrap().end + Duration::days(30));
    assert!(web.action().contains("gh run view ID --log"), "{}", web.action());
    assert!(web.action().contains(&format!("before {}", web.expires_from.format("%Y-%m-%d"))), "{}", web.action());

    // payments-api's own setting needs admin (403): it is recorded as not visible, its runs are judged by the
    // organisation's 90 days, and the 403 does not hold back the operating evidence's watermark.
    let conn = Store::open_read_only(&store).unwrap();
    let reason: String = conn
        .query_row(
            "SELECT reason FROM api_coverage_history WHERE kind = 'github.actions_retention' AND subject = 'acme-demo/payments-api'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(reason.contains("HTTP 403") && reason.contains("admin"), "{reason}");
    let watermarks: i64 = conn
        .query_row(
            "SELECT count(*) FROM collection_watermarks WHERE kind = 'github.operating' AND subject = 'acme-demo/payments-api'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(watermarks, 1);
    let asked: i64 = conn
        .query_row(
            "SELECT count(DISTINCT subject) FROM api_coverage_history WHERE kind = 'github.actions_retention'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(asked, 2, "only repositories that ran workflows in the window are asked");
    drop(conn);

    // A later archive date puts payments-api's runs at risk too, judged by the organisation's setting.
    let risks = evaluate_with(&store, &config("retention:\n  archive_after_days: 120\n"), &scope);
    let payments = risks.iter().find(|r| r.subject == "acme-demo/payments-api").expect("payments-api at risk");
    assert_eq!((payments.retention_days, payments.items), (90, Some(2)));
    assert!(payments.retention_origin.contains("organisation's setting"), "{}", payments.retention_origin);
}

#[test]
fn the_report_lists_what_to_archive_and_by_when() {
    let dir = tempfile::tempdir().unwrap();
    let store = collected_demo(dir.path());
    let now = pipeproof::time::now_utc();
    let scope = Scope::for_period(last_month(now), None, now).unwrap();
    let risks = evaluate_with(&store, &Config::default(), &scope);
    let deleted_from = risks[0].expires_from.format("%Y-%m-%d").to_string();

    let out = dir.path().join("out");
    let report = common::report_json(&store, None, &out);
    let rows = report["retention"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["source"], "GitHub Actions logs and artifacts");
    assert_eq!(rows[0]["subject"], "acme-demo/web-app");
    assert_eq!(rows[0]["deleted_from"], deleted_from.as_str());
    assert!(rows[0]["retention"].as_str().unwrap().starts_with("30 days"), "{}", rows[0]["retention"]);

    common::pipeproof()
        .arg("--store")
        .arg(&store)
        .args(["report", "--format", "html", "--output"])
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let section = &html[html.find("<section id=\"retention\">").expect("a retention section")..];
    assert!(section.contains("acme-demo/web-app") && section.contains(&deleted_from), "{}", &section[..2000]);
}

/// A store holding only the given SQL's rows, written by one succeeded collection whose run id replaces `RUN`.
fn store_with(dir: &Path, sql: &str) -> std::path::PathBuf {
    let path = dir.join("s.duckdb");
    let store = Store::open(&path).unwrap();
    let run = store.start_run("collect").unwrap();
    store.finish_run(run, pipeproof::store::RunStatus::Succeeded, &serde_json::json!({})).unwrap();
    store.conn().execute_batch(&sql.replace("RUN", &run.to_string())).unwrap();
    path
}

fn at(text: &str) -> NaiveDateTime {
    pipeproof::time::parse_as_of(text).unwrap()
}

#[test]
fn an_audit_log_not_read_for_months_warns_before_its_events_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(
        dir.path(),
        "INSERT INTO collection_watermarks VALUES (RUN, 'acme', 'acme', 'github.audit_log', TIMESTAMP '2026-03-01', TIMESTAMP '2026-04-20');
         INSERT INTO collection_watermarks VALUES (RUN, 'beta', 'beta', 'github.audit_log', TIMESTAMP '2026-06-01', TIMESTAMP '2026-09-29');",
    );
    let q3 = Period::parse("2026-Q3").unwrap();
    let scope = Scope::for_period(q3, None, at("2026-12-01")).unwrap();

    let risks = evaluate_with(&store, &Config::default(), &scope);
    assert_eq!(risks.len(), 1, "beta was read a day before the quarter ended: {risks:#?}");
    // acme's log was last read before the quarter began: GitHub deletes the events after that from 180 days on.
    let acme = &risks[0];
    assert_eq!((acme.source.as_str(), acme.subject.as_str()), ("github.audit_log", "acme"));
    assert_eq!(acme.expires_from, at("2026-10-17T00:00:00Z"));
    assert_eq!(acme.archive_by, at("2026-10-30"));
    assert_eq!(acme.items, None);
    assert!(acme.action().contains("pipeproof collect before 2026-10-17"), "{}", acme.action());

    // GitHub Enterprise Server keeps it as long as its owner says.
    let risks = evaluate_with(&store, &config("retention:\n  source_days:\n    github.audit_log: 365\n"), &scope);
    assert!(risks.is_empty(), "{risks:#?}");
}

#[test]
fn an_event_log_with_a_declared_retention_warns_from_its_newest_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(
        dir.path(),
        "INSERT INTO evidence VALUES (1, RUN, repeat('0', 64), 'file', 'k8s-audit', 'cluster', TIMESTAMP '2026-08-01', '{}');
         INSERT INTO audit_events_history VALUES
             (RUN, 1, TIMESTAMP '2026-08-01', 'kubernetes', TIMESTAMP '2026-07-20 08:00:00', 'admin', 'create', 'pods', NULL, 'allow', 'k1', 1),
             (RUN, 1, TIMESTAMP '2026-08-01', 'kubernetes', TIMESTAMP '2026-07-31 12:00:00', 'admin', 'delete', 'pods', NULL, 'allow', 'k2', 2);",
    );
    let scope = Scope::for_period(Period::parse("2026-Q3").unwrap(), None, at("2026-12-01")).unwrap();

    assert!(evaluate_with(&store, &Config::default(), &scope).is_empty(), "no retention declared, no guess");
    let declared = config("retention:\n  source_days:\n    audit_events.kubernetes: 30\n    audit_events.gitlab: 90\n");
    let risks = evaluate_with(&store, &declared, &scope);
    let sources: Vec<&str> = risks.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(sources, ["audit_events.kubernetes", "audit_events.gitlab"], "{risks:#?}");
    let kubernetes = &risks[0];
    assert_eq!(kubernetes.first_item_at, at("2026-07-31T12:00:00Z"));
    assert_eq!(kubernetes.expires_from, at("2026-08-30T12:00:00Z"));
    assert!(
        kubernetes.summary().starts_with("Audit events (kubernetes): the 2026-Q3 events after"),
        "{}",
        kubernetes.summary()
    );
    let gitlab = &risks[1];
    assert_eq!(gitlab.first_item_at, at("2026-07-01T00:00:00Z"), "nothing held: every event of the period");

    let error = pipeproof::evaluate::evaluate(
        &store,
        &Catalogue::load(&[] as &[&Path]).unwrap(),
        &config("retention:\n  source_days:\n    k8s: 30\n"),
        &scope,
    )
    .unwrap_err();
    assert_eq!(pipeproof::error::exit_code_for(&error), pipeproof::error::EXIT_INPUT);
    assert!(error.to_string().contains("audit_events.<source>"), "{error}");
}
