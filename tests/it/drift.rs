//! `pipeproof drift` between two evaluations of the demo organisation, after its settings changed.

use crate::common;

use common::pipeproof;
use pipeproof::collect::replay::{Cassette, ReplayServer};

fn changed_cassette() -> Cassette {
    common::demo_cassette(|path, interaction| match path {
        "/repos/acme-demo/web-app/branches/main/protection" => {
            interaction["body"]["enforce_admins"]["enabled"] = serde_json::json!(true)
        }
        "/repos/acme-demo/payments-api/branches/main/protection" => {
            interaction["body"]["allow_force_pushes"]["enabled"] = serde_json::json!(true)
        }
        _ => {}
    })
}

/// The demo's evaluation #1, then a collection of the changed organisation and evaluation #2, in one store.
struct Nightly {
    dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
    _server: ReplayServer,
}

impl Nightly {
    fn after_a_changed_collection() -> Nightly {
        let dir = tempfile::tempdir().unwrap();
        common::run_demo(dir.path(), None);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = runtime.block_on(ReplayServer::start(changed_cassette())).unwrap();
        std::fs::write(
            dir.path().join("fixtures/nightly.yaml"),
            format!(
                "github:\n  org: acme-demo\n  api_url: {}\n  token_env: PIPEPROOF_DRIFT_TOKEN\n  per_page: 4\n  \
                 release_branches: [\"release/*\"]\n",
                server.base_url()
            ),
        )
        .unwrap();
        let nightly = Nightly { dir, _runtime: runtime, _server: server };
        nightly.command().arg("collect").assert().success();
        nightly.command().arg("evaluate").assert().success();
        nightly
    }

    /// `pipeproof` on this store and config.
    fn command(&self) -> assert_cmd::Command {
        let mut command = pipeproof();
        command
            .env("PIPEPROOF_DRIFT_TOKEN", "ghs_drift")
            .arg("--store")
            .arg(self.dir.path().join("pipeproof-demo.duckdb"))
            .arg("--config")
            .arg(self.dir.path().join("fixtures/nightly.yaml"));
        command
    }
}

#[test]
fn drift_names_new_failures_resolutions_and_requirement_changes() {
    let nightly = Nightly::after_a_changed_collection();
    let with_store = || nightly.command();

    let output = with_store().arg("drift").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "a new failure is a regression: {text}");
    assert!(text.contains("drift from evaluation #1"), "{text}");
    assert!(text.contains("New failures (1):") && text.contains("SRC-10   acme-demo/payments-api"), "{text}");
    assert!(text.contains("Resolved (1):") && text.contains("SRC-11   acme-demo/web-app"), "{text}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("regression: 1 finding(s) got worse"));

    with_store().args(["drift", "--min-severity", "critical"]).assert().code(0);

    let output = with_store().args(["drift", "--format", "json", "--from", "1", "--to", "2"]).output().unwrap();
    let drift: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let changes: Vec<(&str, &str)> = drift["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["control"].as_str().unwrap()))
        .collect();
    // The demo writes a signed bundle after evaluation #1, so GOV-07 judges that bundle in #2 (no attestation of
    // its immutable storage: unknown) instead of finding no bundle at all.
    assert_eq!(
        changes,
        [("new_failure", "SRC-10"), ("newly_unknown", "GOV-07"), ("resolved", "SRC-11"), ("removed", "GOV-07")]
    );
    assert!(drift["requirements"].as_array().unwrap().is_empty() || drift["requirements"][0]["framework"].is_string());

    let output = with_store().args(["drift", "--format", "markdown"]).output().unwrap();
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(markdown.contains("| SRC-10 | acme-demo/payments-api | pass | fail |"), "{markdown}");

    with_store().args(["drift", "--from", "2", "--to", "2"]).assert().code(0);
    with_store().args(["drift", "--from", "9"]).assert().code(2);
}

#[test]
fn one_evaluation_is_not_enough_for_drift() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let output =
        pipeproof().arg("--store").arg(dir.path().join("pipeproof-demo.duckdb")).arg("drift").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs two evaluations"));
}

#[test]
fn a_waiver_that_no_longer_applies_shows_as_a_new_failure() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let today = chrono::Utc::now();
    let waived = dir.path().join("waived");
    std::fs::create_dir_all(&waived).unwrap();
    std::fs::write(
        waived.join("waivers.yaml"),
        format!(
            "- {{ control: SRC-11, resource: acme-demo/web-app, justification: release train, approver: CISO, created: {}, expires: {} }}\n",
            (today - chrono::Duration::days(1)).format("%Y-%m-%d"),
            (today + chrono::Duration::days(30)).format("%Y-%m-%d")
        ),
    )
    .unwrap();
    std::fs::write(waived.join("pipeproof.yaml"), "organisation: Acme Demo Ltd\n").unwrap();
    let bare = dir.path().join("bare.yaml");
    std::fs::write(&bare, "organisation: Acme Demo Ltd\n").unwrap();
    let evaluate = |config: &std::path::Path| {
        pipeproof().arg("--store").arg(&store).arg("--config").arg(config).arg("evaluate").assert().success();
    };
    evaluate(&waived.join("pipeproof.yaml"));
    evaluate(&bare);
    let output = pipeproof().arg("--store").arg(&store).args(["drift", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let drift: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let lapsed = drift["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "SRC-11" && c["resource"] == "acme-demo/web-app")
        .expect("the lapsed waiver is a change");
    assert_eq!(lapsed["kind"], "new_failure");
    assert_eq!(lapsed["from"], "waived");
    assert_eq!(lapsed["to"], "fail");
    assert_eq!(drift["expiring_waivers"], serde_json::json!([]), "no waiver applied to the later evaluation");

    // Waived again: the waiver expires within 30 days of the later evaluation, so drift says so (and by when).
    evaluate(&waived.join("pipeproof.yaml"));
    let output = pipeproof().arg("--store").arg(&store).args(["drift", "--format", "json"]).output().unwrap();
    let drift: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expiring = drift["expiring_waivers"].as_array().unwrap();
    assert_eq!(expiring.len(), 1, "{expiring:?}");
    assert_eq!((expiring[0]["control"].as_str(), expiring[0]["approver"].as_str()), (Some("SRC-11"), Some("CISO")));
    assert!(matches!(expiring[0]["days_left"].as_i64(), Some(29..=30)), "{}", expiring[0]);
    let text = pipeproof().arg("--store").arg(&store).arg("drift").output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("Waivers expiring within 30 days (1):") && text.contains("approved by CISO"), "{text}");
}

#[test]
fn history_keeps_when_findings_first_failed_and_were_resolved() {
    let nightly = Nightly::after_a_changed_collection();
    let with_store = || nightly.command();
    with_store().arg("evaluate").assert().success();
    with_store().args(["evaluate", "--as-of", "2001-01-01"]).assert().success();

    let output = with_store().args(["history", "--format", "json"]).output().unwrap();
    assert!(output.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let row = |control: &str, resource: &str| {
        rows.as_array().unwrap().iter().find(|r| r["control"] == control && r["resource"] == resource).unwrap().clone()
    };
    let web = row("SRC-11", "acme-demo/web-app");
    assert_eq!(web["status"], "pass", "a backdated evaluation does not rewrite history: {web}");
    assert!(web["first_failed"].is_string() && web["resolved_at"].is_string(), "{web}");
    assert_eq!(web["resolved_at"], web["status_since"]);
    assert!(web["first_failed"].as_str() <= web["resolved_at"].as_str());
    let payments = row("SRC-10", "acme-demo/payments-api");
    assert_eq!(payments["status"], "fail");
    assert_eq!(payments["first_failed"], payments["status_since"], "it started failing at the second evaluation");
    assert!(payments["resolved_at"].is_null());
    assert!(payments["first_seen"].as_str() <= payments["first_failed"].as_str());

    let text = with_store().args(["history", "--control", "SRC-10", "--resource", "acme-demo/pay*"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("SRC-10   acme-demo/payments-api") && text.contains("1 finding(s)"), "{text}");
}

#[test]
fn the_report_shows_what_changed_since_the_previous_evaluation() {
    let nightly = Nightly::after_a_changed_collection();
    let out = nightly.dir.path().join("second-report");
    nightly.command().args(["report", "--format", "json,html,pdf", "--output"]).arg(&out).assert().success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["drift"]["from"][0], 1, "compared with the demo's evaluation");
    let changes = report["drift"]["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "resolved" && c["control"] == "SRC-11" && c["resource"] == "acme-demo/web-app"),
        "{changes:?}"
    );
    let trend = report["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12, "one series per framework");
    assert!(trend.iter().all(|s| s["points"].as_array().unwrap().len() == 2), "{trend:?}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Changes since the previous evaluation") && html.contains("Compared with evaluation #1"));
    assert!(html.contains("<polyline points=\"0.0,"), "the trend is drawn");
    let text = std::process::Command::new("pdftotext").arg(out.join("report.pdf")).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Changes since the previous evaluation") && text.contains("Resolved"), "PDF shows the drift");
    assert!(text.contains("Trend over the period"), "and the trend");

    let first = nightly.dir.path().join("first-report");
    nightly
        .command()
        .args(["report", "--evaluation", "1", "--format", "json", "--output"])
        .arg(&first)
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("report.json")).unwrap()).unwrap();
    assert!(report["drift"].is_null(), "the first evaluation has nothing to compare with");
    assert_eq!(report["trend"], serde_json::json!([]), "nor a trend");
}

/// The (path, body) of each request a webhook received.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A webhook receiver: answers 500 to the first `failures` requests, then 200; records each (path, body).
fn webhook(failures: usize) -> (String, Received) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&received);
    std::thread::spawn(move || {
        for (count, stream) in listener.incoming().enumerate() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_string();
            log.lock().unwrap().push((path, String::from_utf8_lossy(&body).into_owned()));
            let status = if count < failures { "500 Internal Server Error" } else { "200 OK" };
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (base, received)
}

#[test]
fn a_regression_is_posted_to_the_webhook_with_retries_and_the_secret_never_shows() {
    let nightly = Nightly::after_a_changed_collection();
    let (base, received) = webhook(1);
    let output = nightly
        .command()
        .env("PIPEPROOF_HOOK_SECRET", "T000/B000/s3cr3t")
        .args(["drift", "--notify"])
        .arg(format!("{base}/services/${{PIPEPROOF_HOOK_SECRET}}"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "the regression still fails the gate");
    let logs = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!logs.contains("s3cr3t"), "the secret never shows: {logs}");
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "one failure, then a successful retry");
    assert_eq!(received[1].0, "/services/T000/B000/s3cr3t");
    let body: serde_json::Value = serde_json::from_str(&received[1].1).unwrap();
    assert!(body["text"].as_str().unwrap().contains("new failure SRC-10 on acme-demo/payments-api"), "{body}");
    assert_eq!(body["regressions"], 1);
    assert_eq!(body["drift"]["from"][0], 1);
}

#[test]
fn a_failed_notification_is_reported_and_changes_nothing_else() {
    let nightly = Nightly::after_a_changed_collection();
    let (base, received) = webhook(usize::MAX);
    let output = nightly
        .command()
        .args(["drift", "--notify-on", "always", "--notify"])
        .arg(format!("{base}/hook"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "the exit code is the drift's, not the notification's");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("notification to http://127.0.0.1") && stderr.contains("gave up after 3 attempts"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("drift from evaluation #1"));
    assert_eq!(received.lock().unwrap().len(), 3);
}

#[test]
fn the_baseline_ratchet_fails_only_on_what_is_worse_than_accepted_and_accept_moves_it() {
    let nightly = Nightly::after_a_changed_collection();
    let baseline = nightly.dir.path().join("baseline.json");
    let drift = |extra: &[&str]| {
        let mut command = nightly.command();
        command.arg("drift").arg("--baseline").arg(&baseline).args(extra);
        command.output().unwrap()
    };
    let accepted = drift(&["--to", "1", "--accept"]);
    assert!(accepted.status.success(), "{}", String::from_utf8_lossy(&accepted.stderr));
    assert!(String::from_utf8_lossy(&accepted.stdout).contains("now accepts evaluation #1"));

    let worse = drift(&[]);
    assert_eq!(worse.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&worse.stdout).contains("SRC-10"), "{}", String::from_utf8_lossy(&worse.stdout));
    assert!(String::from_utf8_lossy(&worse.stderr).contains("worse than the baseline (evaluation #1)"));

    assert!(drift(&["--accept"]).status.success());
    let ratcheted = drift(&[]);
    assert_eq!(ratcheted.status.code(), Some(0), "{}", String::from_utf8_lossy(&ratcheted.stderr));
    assert!(String::from_utf8_lossy(&ratcheted.stdout).contains("nothing is worse than the baseline (evaluation #2)"));

    let by_evaluation = nightly.command().args(["drift", "--baseline", "1"]).output().unwrap();
    assert_eq!(by_evaluation.status.code(), Some(1), "an evaluation id works as a baseline too");
    let bad = nightly.command().args(["drift", "--baseline", "no-such-thing"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_control_that_judges_a_resource_twice_keeps_its_worst_verdict_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let mut files = pipeproof::embedded::framework_files();
    files.push((
        "custom/DUP-01.yaml".into(),
        "id: DUP-01\ntitle: twice\ndomain: governance\nkind: state\nseverity: low\nstatement: s\nrationale: r\n\
         remediation: m\nrequires: [repositories]\nquery: |\n  SELECT 'same' AS resource, 'pass' AS status, 'a' AS reason, NULL AS evidence_id\n  \
         UNION ALL SELECT 'same', 'fail', 'b', NULL\n"
            .into(),
    ));
    let catalogue = pipeproof::controls::Catalogue::from_files(files).unwrap();
    let scope = pipeproof::evaluate::Scope::at(pipeproof::time::now_utc());
    let evaluation =
        pipeproof::evaluate::evaluate(&store, &catalogue, &pipeproof::config::Config::default(), &scope).unwrap();
    let outcome = evaluation.outcomes.iter().find(|o| o.control_id == "DUP-01").unwrap();
    let conn = pipeproof::store::Store::open_read_only(&store).unwrap();
    let history = pipeproof::evaluate::history::list(&conn, Some("DUP-01"), None, None).unwrap();
    assert_eq!(history.len(), 1, "{history:?} {:?} {:?}", outcome.error, outcome.results);
    assert_eq!(history[0].status, "fail");
}
