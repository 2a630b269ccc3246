//! A scan counts only for what it ran, and only when it ran to its end; an empty report of a known tool is a clean
//! scan. Real samples where they exist, small files where none does.

use std::path::Path;

use crate::common;

use common::{pipeproof, samples};

fn ingest(store: &Path, args: &[&str], files: &[&Path]) -> std::process::Output {
    pipeproof().arg("--store").arg(store).arg("ingest").args(args).args(files).output().unwrap()
}

fn rows(store: &Path, sql: &str) -> Vec<String> {
    let conn = duckdb::Connection::open(store).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    let rows = statement.query_map([], |row| row.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_sarif_run_that_did_not_complete_is_no_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let crashed = dir.path().join("crashed.sarif");
    std::fs::write(
        &crashed,
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"CodeQL","semanticVersion":"2.19.0"}},
            "invocations":[{"executionSuccessful":false,"exitCode":2,
              "toolExecutionNotifications":[{"level":"error","message":{"text":"Out of memory while building the database"}}]}],
            "results":[]}]}"#,
    )
    .unwrap();
    let output = ingest(&store, &["--repo", "acme/web"], &[&crashed]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("did not complete") && stderr.contains("executionSuccessful: false"), "{stderr}");
    assert!(rows(&store, "SELECT tool FROM code_scans").is_empty(), "a failed scan is no scan");
    assert_eq!(rows(&store, "SELECT completion_note FROM failed_scans").len(), 1);
    let provenance = rows(&store, "SELECT provenance->>'completeness' FROM evidence");
    assert_eq!(provenance, ["failed"]);

    // A log with no runs is no scan either.
    let empty = dir.path().join("no-runs.sarif");
    std::fs::write(&empty, r#"{"version":"2.1.0","runs":[]}"#).unwrap();
    assert!(ingest(&store, &["--repo", "acme/api"], &[&empty]).status.success());
    assert!(rows(&store, "SELECT tool FROM code_scans").is_empty(), "a log with no runs proves no scan");
}

#[test]
fn a_real_codeql_log_with_extraction_errors_is_a_partial_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let log = samples().join("sarif/codeql-2.9.2-juice-shop-javascript.sarif");
    let output = ingest(&store, &[], &[&log]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("scan is partial") && stderr.contains("error notification(s)"), "{stderr}");
    assert_eq!(rows(&store, "SELECT completion FROM code_scans"), ["partial"]);
    assert!(rows(&store, "SELECT completion_note FROM code_scans")[0].contains("Extraction failed"));
}

#[test]
fn a_trivy_report_counts_only_for_the_scanners_it_ran() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let config_only = samples().join("trivy-json/trivy-dockerfile.json");
    let secrets_only = samples().join("trivy-json/trivy-secrets.json");
    let packages = samples().join("trivy-json/trivy-alpine-310.json");
    for (file, repo) in [(&config_only, "acme/config"), (&secrets_only, "acme/secrets"), (&packages, "acme/image")] {
        let output = ingest(&store, &["--repo", repo], &[file]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let categories = |repo: &str| {
        let mut found = rows(&store, &format!("SELECT category FROM scans WHERE repo = '{repo}'"));
        found.extend(rows(&store, &format!("SELECT 'code' FROM code_scans WHERE repo = '{repo}'")));
        found.sort();
        found
    };
    assert_eq!(categories("acme/config"), ["code"], "a configuration scan is not a vulnerability scan");
    assert_eq!(categories("acme/secrets"), ["secret"], "a secret scan is not a vulnerability scan");
    assert_eq!(categories("acme/image"), ["vulnerability"]);
}

#[test]
fn semgrep_errors_and_checkov_parsing_errors_make_a_scan_partial_or_failed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let semgrep = dir.path().join("semgrep.json");
    std::fs::write(
        &semgrep,
        r#"{"version":"1.90.0","results":[],"errors":[
            {"code":3,"level":"warn","type":"Syntax error","message":"Syntax error at line src/a.py:3","path":"src/a.py"},
            {"code":3,"level":"error","type":"Timeout","message":"Timeout when running rules on src/big.js","path":"src/big.js"}],
           "paths":{"scanned":["src/a.py","src/big.js"]}}"#,
    )
    .unwrap();
    let broken_rules = dir.path().join("semgrep-rules.json");
    std::fs::write(
        &broken_rules,
        r#"{"version":"1.90.0","results":[],"errors":[{"code":7,"level":"error","type":"InvalidRuleSchemaError","message":"Invalid rule schema"}],"paths":{"scanned":[]}}"#,
    )
    .unwrap();
    let checkov = dir.path().join("checkov.json");
    std::fs::write(
        &checkov,
        r#"{"check_type":"terraform","results":{"passed_checks":[],"failed_checks":[],"skipped_checks":[],"parsing_errors":["main.tf"]},
            "summary":{"passed":0,"failed":0,"skipped":0,"parsing_errors":1,"resource_count":0,"checkov_version":"3.2.0"}}"#,
    )
    .unwrap();
    assert!(ingest(&store, &["--repo", "acme/a"], &[&semgrep]).status.success());
    assert!(ingest(&store, &["--repo", "acme/b"], &[&broken_rules]).status.success());
    assert!(ingest(&store, &["--repo", "acme/c"], &[&checkov]).status.success());
    let states = rows(&store, "SELECT repo || ' ' || tool || ' ' || completion FROM code_scans_history ORDER BY repo");
    assert_eq!(states, ["acme/a Semgrep partial", "acme/b Semgrep failed", "acme/c Checkov partial"]);
}

#[test]
fn an_empty_report_of_a_named_tool_is_a_clean_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let gitleaks = dir.path().join("gitleaks.json");
    std::fs::write(&gitleaks, "[]\n").unwrap();
    let nuclei = dir.path().join("nuclei.jsonl");
    std::fs::write(&nuclei, "").unwrap();
    let checkov = dir.path().join("checkov.json");
    std::fs::write(
        &checkov,
        r#"{"passed":12,"failed":0,"skipped":0,"parsing_errors":0,"resource_count":4,"checkov_version":"3.2.0"}"#,
    )
    .unwrap();

    // Without --kind, an empty list says which tool writes one and what to pass.
    let output = ingest(&store, &[], &[&gitleaks]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pass --kind gitleaks"));
    let output = ingest(&store, &[], &[&nuclei]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("pass --kind nuclei"));

    for (kind, file, repo) in [("gitleaks", &gitleaks, "acme/a"), ("nuclei", &nuclei, "acme/b")] {
        let output = ingest(&store, &["--kind", kind, "--repo", repo], &[file]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let output = ingest(&store, &["--repo", "acme/c"], &[&checkov]);
    assert!(
        output.status.success(),
        "a bare Checkov summary is recognised: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let clean = rows(
        &store,
        "SELECT repo || ' ' || category || ' ' || tool || ' ' || result_count FROM scans \
         UNION ALL SELECT repo || ' code ' || tool || ' ' || result_count FROM code_scans ORDER BY 1",
    );
    assert_eq!(clean, ["acme/a secret Gitleaks 0", "acme/b dast Nuclei 0", "acme/c code Checkov 0"]);
}

#[test]
fn a_zap_report_is_as_old_as_zap_says() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let zap = dir.path().join("zap.json");
    std::fs::write(
        &zap,
        r#"{"@programName":"ZAP","@version":"2.14.0","@generated":"Tue, 15 Nov 2022 09:44:13",
            "site":[{"@name":"https://app.example","alerts":[]}]}"#,
    )
    .unwrap();
    assert!(ingest(&store, &["--repo", "acme/app"], &[&zap]).status.success());
    assert_eq!(rows(&store, "SELECT strftime(observed_at, '%Y-%m-%d %H:%M') FROM scans"), ["2022-11-15 09:44"]);
}

#[test]
fn files_are_read_whatever_their_encoding_or_compression_and_the_rest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let sample = std::fs::read(samples().join("trivy-json/trivy-alpine-310.json")).unwrap();
    let text = String::from_utf8(sample.clone()).unwrap();

    // UTF-16 with a byte-order mark, as PowerShell writes it; zstd; two zstd frames joined.
    let utf16 = dir.path().join("utf16.json");
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&utf16, bytes).unwrap();
    let zstd = dir.path().join("report.json.zst");
    std::fs::write(
        &zstd,
        ruzstd::encoding::compress_to_vec(sample.as_slice(), ruzstd::encoding::CompressionLevel::Fastest),
    )
    .unwrap();
    for (file, repo) in [(&utf16, "acme/utf16"), (&zstd, "acme/zstd")] {
        let output = ingest(&store, &["--repo", repo], &[file]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let counts = rows(&store, "SELECT repo || ' ' || count(*) FROM vulnerabilities GROUP BY repo ORDER BY repo");
    let expected = rows(&store, "SELECT count(*)::VARCHAR FROM vulnerabilities WHERE repo = 'acme/utf16'");
    assert_eq!(counts, [format!("acme/utf16 {}", expected[0]), format!("acme/zstd {}", expected[0])]);
    assert!(expected[0] != "0");

    // What is not read is named, with what to do.
    let bzip2 = dir.path().join("report.json.bz2");
    std::fs::write(&bzip2, b"BZh91AY&SY\x00\x00").unwrap();
    let output = ingest(&store, &[], &[&bzip2]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("compressed as bzip2") && stderr.contains("bunzip2"), "{stderr}");
    let bare16 = dir.path().join("bare16.json");
    std::fs::write(&bare16, text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>()).unwrap();
    let output = ingest(&store, &[], &[&bare16]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("UTF-16LE or UTF-32LE without a byte-order mark"));
}

#[test]
fn a_decompression_bomb_is_refused_with_the_override_named() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    // 100 MiB of one repeated byte inside a JSON string: about 100 KiB gzipped, a ratio near 1,000 (the most a legitimate JSON report gets is far under 250).
    let bomb = dir.path().join("bomb.json.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&bomb).unwrap(), flate2::Compression::best());
    gz.write_all(b"{\"runs\": \"").unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..100 {
        gz.write_all(&block).unwrap();
    }
    gz.write_all(b"\"}").unwrap();
    gz.finish().unwrap();
    let output = ingest(&store, &[], &[&bomb]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("decompression bomb") && stderr.contains("--max-expanded-mb"), "{stderr}");
    // Raised, it is read (and refused for what it is, not for its size).
    let output = ingest(&store, &["--max-expanded-mb", "200"], &[&bomb]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("decompression bomb"));
}

#[test]
fn nothing_in_a_file_is_dropped_silently() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    // SPDX packages naming themselves in an alternate field, or only by purl; one naming nothing at all.
    let spdx = dir.path().join("sbom.spdx.json");
    std::fs::write(
        &spdx,
        r#"{"spdxVersion":"SPDX-2.3","name":"app","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: x"]},
            "packages":[{"SPDXID":"SPDXRef-1","name":"left-pad","versionInfo":"1.3.0"},
                        {"SPDXID":"SPDXRef-2","packageName":"lodash","versionInfo":"4.17.21"},
                        {"SPDXID":"SPDXRef-3","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/%40acme/ui@2.0.0"}]},
                        {"SPDXID":"SPDXRef-4","versionInfo":"0.0.1"}]}"#,
    )
    .unwrap();
    let output = ingest(&store, &["--repo", "acme/app"], &[&spdx]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("skipped 1 item(s) without a name or package URL: at /packages/3"), "{stderr}");
    assert_eq!(rows(&store, "SELECT name FROM sbom_components ORDER BY name"), ["@acme/ui", "left-pad", "lodash"]);

    // A Kubernetes List of Argo CD Applications, and several documents mixing an Application and a Rollout.
    let list = dir.path().join("apps.yaml");
    std::fs::write(
        &list,
        "apiVersion: v1\nkind: List\nitems:\n\
         - apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata: { name: payments, namespace: argocd }\n  \
           spec: { source: { repoURL: 'https://github.com/acme/deploy', targetRevision: HEAD }, destination: { namespace: payments }, syncPolicy: { automated: { selfHeal: true } } }\n  \
           status: { sync: { status: Synced }, health: { status: Healthy } }\n\
         - apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata: { name: web, namespace: argocd }\n  \
           spec: { source: { repoURL: 'https://github.com/acme/deploy' }, destination: { namespace: web } }\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata: { name: settings }\n",
    )
    .unwrap();
    let mixed = dir.path().join("mixed.yaml");
    std::fs::write(
        &mixed,
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: { name: api, namespace: argocd }\n\
         spec: { source: { repoURL: 'https://github.com/acme/deploy' }, destination: { namespace: prod } }\n---\n\
         apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: { name: api, namespace: prod }\n\
         spec: { strategy: { canary: { analysis: { templates: [ { templateName: success-rate } ] } } } }\n\
         status: { phase: Degraded, abort: true }\n",
    )
    .unwrap();
    let output = ingest(&store, &[], &[&list, &mixed]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped 1 item(s) of a kind pipeproof does not read (ConfigMap): at settings"),
        "{stderr}"
    );
    assert_eq!(
        rows(&store, "SELECT application FROM gitops_applications ORDER BY 1"),
        ["argocd/api", "argocd/payments", "argocd/web"]
    );
    assert_eq!(rows(&store, "SELECT phase FROM rollouts"), ["Degraded, aborted"]);

    // A file that yields nothing says so.
    let nothing = dir.path().join("nothing.yaml");
    std::fs::write(
        &nothing,
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: { name: no-images }\nspec: { rules: [] }\n",
    )
    .unwrap();
    let output = ingest(&store, &[], &[&nothing]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing.yaml: yields no facts"));
}

#[test]
fn an_impersonated_kubernetes_request_keeps_both_identities_on_either_reader() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let event = |id: &str| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","verb":"patch","user":{{"username":"alice@acme.example"}},"impersonatedUser":{{"username":"system:serviceaccount:ci:deployer"}},"objectRef":{{"resource":"deployments","namespace":"prod","name":"api"}},"sourceIPs":["10.0.0.5"],"stageTimestamp":"2026-11-02T10:00:00Z"}}"#
        )
    };
    // One event read in Rust (a JSON array), one by DuckDB's reader (JSON Lines).
    let array = dir.path().join("audit.json");
    std::fs::write(&array, format!("[{}]", event("a-1"))).unwrap();
    let lines = dir.path().join("audit.jsonl");
    std::fs::write(&lines, format!("{}\n", event("b-2"))).unwrap();
    for file in [&array, &lines] {
        let output = ingest(&store, &["--kind", "k8s-audit"], &[file]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(
        rows(&store, "SELECT actor FROM audit_events ORDER BY event_key"),
        ["alice@acme.example as system:serviceaccount:ci:deployer"; 2]
    );
}

#[test]
fn credentials_in_an_ingested_file_are_cut_even_when_it_is_compressed() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let token = format!("ghp_{}", "Z".repeat(36));
    let report = format!(
        r#"[{{"Description":"GitHub Personal Access Token","StartLine":3,"EndLine":3,"Match":"token = {token}",
             "Secret":"{token}","File":"deploy.sh","RuleID":"github-pat","Fingerprint":"deploy.sh:github-pat:3"}}]"#
    );
    let plain = dir.path().join("gitleaks.json");
    std::fs::write(&plain, &report).unwrap();
    let packed = dir.path().join("gitleaks-2.json.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&packed).unwrap(), flate2::Compression::best());
    gz.write_all(report.replace("deploy.sh", "other.sh").as_bytes()).unwrap();
    gz.finish().unwrap();
    let output = ingest(&store, &["--repo", "acme/web"], &[&plain, &packed]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let conn = duckdb::Connection::open(&store).unwrap();
    let mut statement = conn.prepare("SELECT body FROM blobs").unwrap();
    let bodies: Vec<Vec<u8>> = statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        let text = String::from_utf8(body.clone()).expect("both stored as text: the compressed one decompressed");
        assert!(!text.contains(&token) && text.contains("[REDACTED]"), "{text}");
    }
    let notes = rows(
        &store,
        "SELECT format('{} {}', provenance->>'$.redacted.cut.tokens', coalesce(provenance->>'stored_decompressed', '-'))
         FROM evidence ORDER BY evidence_id",
    );
    assert_eq!(notes.len(), 2);
    assert!(notes[0].starts_with("1 -"), "the Match field's token; Secret is cut as a field: {notes:?}");
    assert!(notes[1].starts_with("1 it held credentials"), "{notes:?}");
    assert_eq!(rows(&store, "SELECT count(*)::VARCHAR FROM secret_findings"), ["2"], "the facts are kept");
    let again = ingest(&store, &["--repo", "acme/web"], &[&plain, &packed]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already ingested"), "{again:?}");
    assert_eq!(rows(&store, "SELECT count(*)::VARCHAR FROM evidence"), ["2"], "a redacted file is known again");
}
