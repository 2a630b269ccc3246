//! "Held throughout the period": state controls judged at every snapshot in the period.

use crate::common;

use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::config::Config;
use pipeproof::controls::Catalogue;
use pipeproof::evaluate::{Scope, Status};
use pipeproof::ingest::TrustPolicy;
use pipeproof::period::Period;
use pipeproof::store::Store;

fn cassette(enforce_admins_on_web_app: bool) -> Cassette {
    common::demo_cassette(|path, interaction| {
        if path == "/repos/acme-demo/web-app/branches/main/protection" {
            interaction["body"]["enforce_admins"]["enabled"] = serde_json::json!(enforce_admins_on_web_app);
        }
    })
}

fn collect(store: &Store, cassette: Cassette) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let config = GithubConfig { per_page: 4, ..GithubConfig::for_org("acme-demo", &server.base_url()) };
    pipeproof::collect::github::collect(store, &config, Token::new("t".into()), &TrustPolicy::default()).unwrap();
}

fn throughout(
    evaluation: &pipeproof::evaluate::Evaluation,
    control: &str,
    resource: &str,
) -> pipeproof::evaluate::throughout::Throughout {
    let outcome = evaluation.outcomes.iter().find(|o| o.control_id == control).unwrap();
    let result = outcome.results.iter().find(|r| r.resource == resource).unwrap();
    result.throughout.clone().unwrap_or_else(|| panic!("{control} {resource} has no period history"))
}

#[test]
fn a_lapse_inside_the_period_is_reported_with_its_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.duckdb");
    let (first_started, second_started) = {
        let store = Store::open(&path).unwrap();
        collect(&store, cassette(false));
        std::thread::sleep(std::time::Duration::from_millis(1100));
        collect(&store, cassette(true));
        let times: (chrono::NaiveDateTime, chrono::NaiveDateTime) = store
            .conn()
            .query_row(
                "SELECT (SELECT started_at FROM runs WHERE run_id = 1), (SELECT started_at FROM runs WHERE run_id = 2)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        times
    };
    let catalogue = Catalogue::load(&[] as &[&std::path::Path]).unwrap();
    let now = pipeproof::time::now_utc();

    let period = Period { label: "the last hour".into(), start: first_started - chrono::Duration::hours(1), end: now };
    let scope = Scope::for_period(period, None, now).unwrap();
    let evaluation = pipeproof::evaluate::evaluate(&path, &catalogue, &Config::default(), &scope).unwrap();
    let web = throughout(&evaluation, "SRC-11", "acme-demo/web-app");
    // Each collection is one snapshot, however many seconds its writes took: the first failed, the second did not.
    assert_eq!(web.snapshots, 2, "{web:?}");
    assert_eq!(web.failed_on.len(), 1, "{:?}", web.failed_on);
    let first_snapshot = web.failed_on[0];
    assert!((first_started..second_started).contains(&first_snapshot), "{first_snapshot} is the first run's");
    assert!(!web.held);
    assert!(web.summary().starts_with("Did not hold on"), "{}", web.summary());
    let outcome = evaluation.outcomes.iter().find(|o| o.control_id == "SRC-11").unwrap();
    assert_eq!(
        outcome.results.iter().find(|r| r.resource == "acme-demo/web-app").unwrap().status,
        Status::Pass,
        "it holds at the end"
    );
    let payments = throughout(&evaluation, "SRC-11", "acme-demo/payments-api");
    assert!(!payments.held, "no evidence from the start of the period");
    assert!(payments.summary().contains("no evidence from earlier in the period"), "{}", payments.summary());

    let carried = Period { label: "from the first snapshot".into(), start: first_snapshot, end: now };
    let scope = Scope::for_period(carried, None, now).unwrap();
    let evaluation = pipeproof::evaluate::evaluate(&path, &catalogue, &Config::default(), &scope).unwrap();
    let payments = throughout(&evaluation, "SRC-11", "acme-demo/payments-api");
    assert!(payments.held, "{payments:?}");
    assert_eq!(payments.summary(), "Held throughout the period (2 snapshots)");
    let web = throughout(&evaluation, "SRC-11", "acme-demo/web-app");
    assert_eq!(web.failed_on, vec![first_snapshot], "the state carried into the period failed");
    let hidden = throughout(&evaluation, "SRC-05", "acme-demo/ml-pipeline");
    assert_eq!(hidden.unknown_on.len(), 2, "not visible at either snapshot");

    let conn = Store::open_read_only(&path).unwrap();
    let model = pipeproof::report::ReportModel::load(&conn, None, None).unwrap();
    let src11 = model.controls.iter().find(|c| c.id == "SRC-11").unwrap();
    let finding = src11.findings.iter().find(|f| f.resource == "acme-demo/payments-api").unwrap();
    assert_eq!(finding.held_throughout, Some(true));
    assert_eq!(finding.throughout.as_deref(), Some("Held throughout the period (2 snapshots)"));
}

#[test]
fn without_a_period_there_is_no_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.duckdb");
    collect(&Store::open(&path).unwrap(), cassette(false));
    let catalogue = Catalogue::load(&[] as &[&std::path::Path]).unwrap();
    let evaluation =
        pipeproof::evaluate::evaluate(&path, &catalogue, &Config::default(), &Scope::at(pipeproof::time::now_utc()))
            .unwrap();
    assert!(evaluation.outcomes.iter().flat_map(|o| &o.results).all(|r| r.throughout.is_none()));
}
