//! Every real evidence sample ingests with the rows the file itself holds (counted independently with jq, see
//! tests/fixtures/sample_counts.sh); every malformed sample gets its deliberate outcome.

use crate::common;

use std::path::{Path, PathBuf};

use common::{pipeproof, samples};

fn expectations() -> Vec<(String, String, i64)> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample_counts.tsv"))
        .unwrap();
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[0].to_string(), fields[1].to_string(), fields[2].parse().unwrap())
        })
        .collect()
}

fn ingest(store: &Path, args: &[&str], files: &[PathBuf]) -> std::process::Output {
    pipeproof().arg("--store").arg(store).arg("ingest").args(args).args(files).output().unwrap()
}

#[test]
fn every_sample_ingests_with_the_rows_its_file_holds() {
    let expected = expectations();
    let mut files: Vec<String> = expected.iter().map(|(path, _, _)| path.clone()).collect();
    files.dedup();
    assert!(files.len() > 160, "expected the shared samples, found {}", files.len());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let mut paths: Vec<PathBuf> = files.iter().map(|file| samples().join(file)).collect();
    paths.push(samples().join("sigstore/gh-cli-trusted_root.json"));
    paths.push(samples().join("vex/dd-openvex_not_a_document.json"));
    let output = ingest(&store, &[], &paths);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "two files are not evidence: {stderr}");
    assert!(stderr.contains("a Sigstore trusted root is not evidence"), "{stderr}");
    assert!(stderr.contains("dd-openvex_not_a_document.json: not a recognised evidence format (found a string)"));
    assert!(stderr.contains(&format!("2 of {} file(s) could not be ingested; the others were stored", paths.len())));
    assert_eq!(stdout.lines().filter(|line| line.starts_with("ingested ")).count(), files.len(), "{stdout}");
    // One connection for every check: opening the store costs more than a query.
    let conn = duckdb::Connection::open(&store).unwrap();
    let mut stored_rows: std::collections::BTreeMap<(String, String), i64> = Default::default();
    let tables: std::collections::BTreeSet<&str> = expected.iter().map(|(_, table, _)| table.as_str()).collect();
    for table in tables {
        let sql = format!(
            "SELECT e.provenance->>'path', count(*) FROM {table}_history t JOIN evidence e USING (evidence_id) GROUP BY 1"
        );
        let mut statement = conn.prepare(&sql).unwrap();
        let rows =
            statement.query_map([], |row| Ok((row.get::<_, Option<String>>(0)?, row.get::<_, i64>(1)?))).unwrap();
        for row in rows {
            let (path, count) = row.unwrap();
            stored_rows.insert((table.to_string(), path.unwrap_or_default()), count);
        }
    }
    let mut mismatches = Vec::new();
    for (file, table, rows) in &expected {
        let path = samples().join(file).display().to_string();
        let stored = stored_rows.get(&(table.clone(), path)).copied().unwrap_or(0);
        if stored != *rows {
            mismatches.push(format!("{file}: {table} has {stored} rows, the file holds {rows}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Each file's own digest is in its provenance; the evidence's is of the bytes stored (redacted, if anything was
    // cut, and then the provenance says what and keeps the digest as received).
    let hashes: std::collections::BTreeMap<String, String> = {
        let mut statement = conn
            .prepare(
                "SELECT provenance->>'path', CASE WHEN (provenance->'redacted') IS NULL THEN sha256
                                                  ELSE provenance->>'$.redacted.sha256_as_received' END
                 FROM evidence WHERE (provenance->>'format') IS NOT NULL",
            )
            .unwrap();
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let redacted: Vec<String> = {
        let mut statement = conn
            .prepare(
                "SELECT format('{} {}', provenance->>'path', provenance->>'$.redacted.cut') FROM evidence
                 WHERE (provenance->'redacted') IS NOT NULL ORDER BY 1",
            )
            .unwrap();
        let rows = statement.query_map([], |row| row.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    eprintln!("samples stored redacted:\n{}", redacted.join("\n"));
    for file in &files {
        let path = samples().join(file);
        let sha256 = hashes.get(&path.display().to_string()).unwrap_or_else(|| panic!("{file} is stored"));
        assert_eq!(*sha256, pipeproof::store::sha256_hex(&std::fs::read(&path).unwrap()), "{file}");
    }
    // Secrets are located, never copied into facts.
    for secret in ["secretAWSsecret", "BEGIN OPENSSH PRIVATE KEY", "AWS_ACCESS_KEY_ID="] {
        let found: i64 = conn
            .query_row(
                "SELECT count(*) FROM secret_findings_history s WHERE s::VARCHAR LIKE '%' || ? || '%'",
                [secret],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(found, 0, "{secret} was stored in a fact");
    }
    assert!(stderr.contains("run gitleaks with --redact"), "{stderr}");

    // The same bytes again add nothing.
    let before: i64 = conn.query_row("SELECT count(*) FROM evidence", [], |row| row.get(0)).unwrap();
    drop(conn);
    let again = ingest(&store, &[], &paths[..20]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stdout).contains("already ingested as evidence #"));
    let conn = duckdb::Connection::open(&store).unwrap();
    let after: i64 = conn.query_row("SELECT count(*) FROM evidence", [], |row| row.get(0)).unwrap();
    assert_eq!(before, after);
}

#[test]
fn each_malformed_sample_has_a_deliberate_outcome() {
    // (file, accepted, what the output says)
    let cases = [
        ("cyclonedx/malformed/spec-invalid-bomformat-1.6.json", false, "at /bomFormat: expected \"CycloneDX\""),
        (
            "cyclonedx/malformed/spec-invalid-dependency-1.6.json",
            false,
            "at /dependencies/0/ref: expected a non-empty bom-ref",
        ),
        (
            "cyclonedx/malformed/spec-invalid-metadata-timestamp-1.6.json",
            false,
            "at /metadata/timestamp: expected an RFC 3339",
        ),
        ("cyclonedx/malformed/spec-invalid-serialnumber-1.6.json", false, "at /serialNumber: expected a urn:uuid:"),
        ("github-webhooks/malformed/argocd-testdata-invalid-event.json", false, "not a recognised evidence format"),
        (
            "k8s-audit/malformed/falco-fal_01_003.jsonl",
            false,
            "not a recognised evidence format (found an object with keys kind)",
        ),
        ("osv-scanner/malformed/dd-osv-scanner-no_findings.empty-file.json", false, "the file is empty"),
        ("other-scanners/malformed/dd-semgrep-empty.json", true, "does not show that Semgrep scanned anything"),
        ("spdx/malformed/dd-spdx_3_unsupported.json", false, "SPDX 3 (JSON-LD) is not supported yet"),
        ("spdx/malformed/spdx-examples-example11-sbom.spdx3.json", false, "SPDX 3 (JSON-LD) is not supported yet"),
        ("trivy-json/malformed/dd-trivy-legacy_no_vuln.null.json", false, "the document is `null`"),
        (
            "in-toto/malformed/slsa-verifier-bcr-MODULE-wrong-signer.bazel.intoto.jsonl",
            true,
            "which is not an expected signer",
        ),
        (
            "in-toto/malformed/slsa-verifier-expired-cert.intoto.jsonl",
            true,
            "builder_go_slsa3.yml@refs/heads/malicious, which is not an expected signer",
        ),
        ("sigstore/malformed/gh-cli-bundle-missing-cert.jsonl", true, "FAILED: no verification material"),
        (
            "sigstore/malformed/gh-cli-bundle-missing-verification-material.jsonl",
            true,
            "FAILED: no verification material",
        ),
        (
            "sigstore/malformed/gh-cli-sigstoreBundle-invalid-signature.json",
            true,
            "FAILED: the DSSE signature does not verify",
        ),
        (
            "sigstore/malformed/npm-registry-attestations-invalidsigprov.json",
            true,
            "FAILED: the DSSE signature does not verify",
        ),
        (
            "sigstore/malformed/sigstore-go-dsse-2sigs.sigstore.json",
            true,
            "FAILED: 2 signatures where a Sigstore bundle allows exactly one",
        ),
    ];
    let mut malformed: Vec<String> = walk(&samples())
        .into_iter()
        .filter(|path| {
            path.components().any(|c| c.as_os_str() == "malformed") && !path.starts_with(samples().join("sarif"))
        })
        .map(|path| path.strip_prefix(samples()).unwrap().display().to_string())
        .collect();
    malformed.sort();
    let mut listed: Vec<String> = cases.iter().map(|(file, _, _)| file.to_string()).collect();
    listed.sort();
    assert_eq!(
        malformed, listed,
        "a new malformed sample needs an expectation here (SARIF ones: tests/it/ingest_sarif.rs)"
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let trusted_root = samples().join("sigstore/gh-cli-trusted_root.json").display().to_string();
    for (file, accepted, message) in cases {
        let args = ["--trusted-root", trusted_root.as_str(), "--signer", "https://github.com/bazel-contrib/*"];
        let output = ingest(&store, &args, &[samples().join(file)]);
        let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.success(), accepted, "{file}: {all}");
        assert!(all.contains(message), "{file}: expected {message:?} in {all}");
        assert!(all.contains(file), "{file}: the output names the file: {all}");
        assert!(!all.contains("panicked"), "{file}: {all}");
    }
    let conn = duckdb::Connection::open(&store).unwrap();
    let verified: i64 =
        conn.query_row("SELECT count(*) FROM attestations_history WHERE verified", [], |row| row.get(0)).unwrap();
    assert_eq!(verified, 0, "nothing malformed counts as signed");
    // Offline, a certificate's expiry can only be judged against a transparency-log time; without one it says so.
    let expired: String = conn
        .query_row("SELECT verification FROM attestations_history WHERE artifact = 'binary-linux-amd64'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert!(expired.contains("signing time unknown (no transparency-log entry)"), "{expired}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|ext| ext != "md") {
            files.push(path);
        }
    }
    files
}

#[test]
fn attestations_verify_against_a_trusted_root_and_expected_signers() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let trusted_root = samples().join("sigstore/gh-cli-trusted_root.json").display().to_string();
    let good = samples().join("in-toto/slsa-verifier-bcr-MODULE.bazel.intoto.jsonl");
    let output =
        ingest(&store, &["--trusted-root", &trusted_root, "--signer", "https://github.com/bazel-contrib/*"], &[good]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let conn = duckdb::Connection::open(&store).unwrap();
    let (verified, identity, verification): (bool, String, String) = conn
        .query_row("SELECT verified, signer_identity, verification FROM attestations_history", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .unwrap();
    assert!(verified, "{verification}");
    assert_eq!(
        identity,
        "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1"
    );
    assert!(verification.contains("certificate chains to the trusted root"), "{verification}");
    // Without a trusted root nothing counts as verified, and the record says why.
    let unchecked = dir.path().join("unchecked.duckdb");
    let output = ingest(&unchecked, &[], &[samples().join("in-toto/slsa-verifier-bcr-MODULE.bazel.intoto.jsonl")]);
    assert!(output.status.success());
    let conn = duckdb::Connection::open(&unchecked).unwrap();
    let (verified, verification): (bool, String) = conn
        .query_row("SELECT verified, verification FROM attestations_history", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap();
    assert!(!verified);
    assert!(verification.contains("certificate chain not checked (no --trusted-root given)"), "{verification}");
}

#[test]
fn audit_events_are_stored_once_and_a_bad_line_stores_nothing_of_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let log = samples().join("github-audit-log/azure-sentinel-Github_sample_logs.excerpt.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    // The same events as a JSON array, and as gzip: different bytes, same events.
    let array = dir.path().join("export.json");
    let records: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    std::fs::write(&array, serde_json::to_vec_pretty(&records).unwrap()).unwrap();
    let gzipped = dir.path().join("export.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(&gzipped).unwrap(), Default::default());
    std::io::Write::write_all(&mut encoder, format!("{text}\n\n").as_bytes()).unwrap();
    encoder.finish().unwrap();
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, format!("{}\n{{\"action\": \n", text.lines().next().unwrap())).unwrap();

    let output = ingest(&store, &[], &[log.clone(), array, gzipped.clone(), broken]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("excerpt.jsonl (github-audit-log-jsonl): 17 audit events"), "{stdout}");
    assert!(stdout.contains("export.json (github-audit-log-json): 17 audit events"), "{stdout}");
    assert!(stderr.contains("17 event(s) were already stored"), "{stderr}");
    assert!(stderr.contains("broken.jsonl: Malformed JSON in file"), "{stderr}");
    assert!(stderr.contains("in line 3"), "DuckDB names where the JSON broke: {stderr}");
    assert!(stderr.contains("1 of 4 file(s) could not be ingested; the others were stored"), "{stderr}");
    let conn = duckdb::Connection::open(&store).unwrap();
    let events: i64 = conn.query_row("SELECT count(*) FROM audit_events_history", [], |row| row.get(0)).unwrap();
    assert_eq!(events, 17);
    let compression: String = conn
        .query_row(
            "SELECT (provenance->>'compression') FROM evidence WHERE (provenance->>'path') = ?",
            [gzipped.display().to_string()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(compression, "gzip");
    let kinds: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_events WHERE event_time IS NULL OR actor IS NULL OR action IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kinds, 0, "every GitHub event has a time, an actor and an action");
}

#[test]
fn a_generic_log_is_read_through_its_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let mapping = dir.path().join("jenkins.yaml");
    std::fs::write(&mapping, "source: jenkins\nformat: csv\nfields:\n  time: when\n  action: what\n  actor: who\n")
        .unwrap();
    let log = dir.path().join("jenkins.csv");
    std::fs::write(&log, "when,what,who\n2026-08-01 10:00:00,job.deploy,ann\n2026-08-02T11:00:00Z,job.approve,bob\n")
        .unwrap();
    let args = ["--kind", "generic", "--mapping", mapping.to_str().unwrap()];
    let output = ingest(&store, &args, &[log]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("(generic-csv): 2 audit events"));
    let conn = duckdb::Connection::open(&store).unwrap();
    let actors: String = conn
        .query_row("SELECT string_agg(actor || ':' || action, ',' ORDER BY event_time) FROM audit_events WHERE source = 'jenkins'", [], |row| row.get(0))
        .unwrap();
    assert_eq!(actors, "ann:job.deploy,bob:job.approve");
    let schema = pipeproof().args(["schema", "log-mapping"]).output().unwrap();
    assert!(String::from_utf8_lossy(&schema.stdout).contains("\"time\""));
    let missing =
        pipeproof().arg("--store").arg(&store).args(["ingest", "--kind", "generic", "x.csv"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--kind generic needs --mapping FILE"));
}

/// The rows of `audit_events` in a store, in a stable order, as text.
fn audit_rows(store: &Path) -> Vec<String> {
    let conn = duckdb::Connection::open(store).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT concat_ws(' | ', source, event_time, actor, action, target, source_ip, outcome, event_key)
             FROM audit_events_history ORDER BY event_key",
        )
        .unwrap();
    statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn json_lines_read_by_duckdb_and_json_exports_read_in_rust_give_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut logs: Vec<PathBuf> =
        vec![samples().join("github-audit-log/azure-sentinel-Github_sample_logs.excerpt.jsonl")];
    logs.extend(
        walk(&samples().join("k8s-audit")).into_iter().filter(|path| !path.to_string_lossy().contains("malformed")),
    );
    for (index, log) in logs.iter().enumerate() {
        let text = std::fs::read_to_string(log).unwrap();
        let records: Vec<serde_json::Value> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let array = dir.path().join(format!("export-{index}.json"));
        std::fs::write(&array, serde_json::to_vec(&records).unwrap()).unwrap();
        let (streamed, parsed) =
            (dir.path().join(format!("s{index}.duckdb")), dir.path().join(format!("p{index}.duckdb")));
        assert!(ingest(&streamed, &[], std::slice::from_ref(log)).status.success());
        let output = ingest(&parsed, &[], &[array]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let (left, right) = (audit_rows(&streamed), audit_rows(&parsed));
        assert!(!left.is_empty());
        assert_eq!(left, right, "{}", log.display());
    }
}

#[test]
fn collect_ingests_the_files_the_config_lists_with_their_kinds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(samples().join("trivy-json/trivy-alpine-310.json"), dir.path().join("trivy.json")).unwrap();
    let log = std::fs::read(samples().join("k8s-audit/falco-create_configmap_sensitive_values.jsonl")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
    std::io::Write::write_all(&mut encoder, &log).unwrap();
    std::fs::write(dir.path().join("k8s.log.gz"), encoder.finish().unwrap()).unwrap();
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(&config, "files:\n  - path: trivy.json\n  - path: k8s.log.gz\n    kind: k8s-audit\n").unwrap();
    let store = dir.path().join("store.duckdb");
    let output = pipeproof().arg("--store").arg(&store).arg("--config").arg(&config).arg("collect").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("trivy.json (trivy-json-2): 4 vulnerabilities"), "{stdout}");
    assert!(stdout.contains("k8s.log.gz (k8s-audit-jsonl): 6 audit events"), "{stdout}");
    std::fs::write(&config, "files:\n  - path: trivy.json\n    kind: spdx\n").unwrap();
    let wrong = pipeproof().arg("--store").arg(&store).arg("--config").arg(&config).arg("collect").output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("the content does not match --kind"));
}

#[test]
fn an_event_already_stored_is_found_by_its_key_inside_the_new_logs_span_of_times_or_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let event = |id: &str, time: Option<i64>| match time {
        Some(ms) => {
            format!("{{\"@timestamp\":{ms},\"_document_id\":\"{id}\",\"action\":\"repo.create\",\"actor\":\"a\"}}")
        }
        None => format!("{{\"_document_id\":\"{id}\",\"action\":\"repo.create\",\"actor\":\"a\"}}"),
    };
    let day = 86_400_000;
    let logs = [
        ("first.jsonl", vec![event("e1", Some(day)), event("e2", None), event("e3", Some(3 * day))], 0),
        // Every event has a time: earlier events are searched inside days 1 to 4, and e1 is there.
        ("second.jsonl", vec![event("e1", Some(day)), event("e4", Some(4 * day))], 1),
        // One event has no time: every earlier event is searched, and e2 (no time either) is found.
        ("third.jsonl", vec![event("e2", None), event("e5", Some(5 * day))], 1),
    ];
    for (name, lines, repeated) in logs {
        let log = dir.path().join(name);
        std::fs::write(&log, lines.join("\n") + "\n").unwrap();
        let output = ingest(&store, &[], &[log]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("github-audit-log-jsonl"), "{name}: streamed");
        if repeated > 0 {
            assert!(stderr.contains(&format!("{repeated} event(s) were already stored")), "{name}: {stderr}");
        } else {
            assert!(!stderr.contains("already stored"), "{name}: {stderr}");
        }
    }
    let conn = duckdb::Connection::open(&store).unwrap();
    let keys: Vec<String> = conn
        .prepare("SELECT event_key FROM audit_events_history ORDER BY event_key")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys, ["e1", "e2", "e3", "e4", "e5"], "each event once");
}

#[test]
fn a_log_that_repeats_its_own_events_stores_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    for (name, sample) in [
        ("github.jsonl", "github-audit-log/azure-sentinel-Github_sample_logs.excerpt.jsonl"),
        ("k8s.jsonl", "k8s-audit/falco-create_configmap_sensitive_values.jsonl"),
    ] {
        let text = std::fs::read_to_string(samples().join(sample)).unwrap();
        let log = dir.path().join(name);
        std::fs::write(&log, format!("{}\n{}\n", text.trim_end(), text.trim_end())).unwrap();
        let output = ingest(&store, &[], &[log]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let events = text.lines().filter(|line| !line.trim().is_empty()).count();
        assert!(stdout.contains(&format!("{events} audit events")), "{name}: {stdout}");
        assert!(stderr.contains(&format!("{events} event(s) were already stored")), "{name}: {stderr}");
    }
}

#[test]
fn collect_checks_attestations_against_the_configured_sigstore_trust() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(samples().join("sigstore/gh-cli-trusted_root.json"), dir.path().join("trusted_root.json")).unwrap();
    std::fs::copy(samples().join("in-toto/slsa-verifier-bcr-MODULE.bazel.intoto.jsonl"), dir.path().join("good.jsonl"))
        .unwrap();
    std::fs::copy(
        samples().join("in-toto/malformed/slsa-verifier-bcr-MODULE-wrong-signer.bazel.intoto.jsonl"),
        dir.path().join("wrong-signer.jsonl"),
    )
    .unwrap();
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(
        &config,
        "sigstore:\n  trusted_root: trusted_root.json\n  signers: ['https://github.com/bazel-contrib/*']\n\
         files:\n  - path: good.jsonl\n  - path: wrong-signer.jsonl\n",
    )
    .unwrap();
    let store = dir.path().join("store.duckdb");
    let output = pipeproof().arg("--store").arg(&store).arg("--config").arg(&config).arg("collect").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("which is not an expected signer"));
    let conn = duckdb::Connection::open(&store).unwrap();
    let verified: Vec<bool> = conn
        .prepare("SELECT verified FROM attestations_history ORDER BY evidence_id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(verified, [true, false], "the expected signer verifies; the other never counts as signed");
}

#[test]
fn provenance_signed_by_an_approved_reusable_workflow_meets_slsa_build_level_3() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let trusted_root = samples().join("sigstore/gh-cli-trusted_root.json").display().to_string();
    let bcr = samples().join("in-toto/slsa-verifier-bcr-MODULE.bazel.intoto.jsonl");
    let output =
        ingest(&store, &["--trusted-root", &trusted_root, "--signer", "https://github.com/bazel-contrib/*"], &[bcr]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let art_02 = |config: Option<&Path>, out: &str| -> (String, String) {
        let mut evaluate = pipeproof();
        evaluate.arg("--store").arg(&store);
        if let Some(config) = config {
            evaluate.arg("--config").arg(config);
        }
        evaluate.arg("evaluate").output().unwrap();
        let report = common::report_json(&store, config, &dir.path().join(out));
        let control = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == "ART-02").unwrap();
        let findings = control["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{findings:?}");
        (findings[0]["status"].as_str().unwrap().into(), findings[0]["reason"].as_str().unwrap().into())
    };
    // By default only the SLSA GitHub generator is an approved builder.
    let (status, reason) = art_02(None, "default");
    assert_eq!(status, "fail");
    assert!(reason.contains("bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1, which is not an approved builder"), "{reason}");
    // The organisation's policy approves the publishing workflow it keeps in its own repository.
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(
        &config,
        "policy:\n  ART-02:\n    trusted_builders: '^https://github\\.com/bazel-contrib/publish-to-bcr/\\.github/workflows/publish\\.yaml@refs/tags/v'\n",
    )
    .unwrap();
    let (status, reason) = art_02(Some(&config), "approved");
    assert_eq!(status, "pass", "{reason}");
    assert!(
        reason.contains("Signed by the approved builder https://github.com/bazel-contrib/publish-to-bcr/"),
        "{reason}"
    );
}

#[test]
fn scans_keep_what_was_scanned_when_the_repository_is_the_subject() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let image = samples().join("trivy-json/trivy-alpine-310.json");
    let output = ingest(&store, &["--repo", "o/a"], &[image]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = ingest(&store, &[], &[samples().join("grype/grype-json-dir-source.json")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let conn = duckdb::Connection::open(&store).unwrap();
    let mut statement = conn
        .prepare("SELECT subject || ' | ' || artifact || ' | ' || artifact_type FROM scans_history ORDER BY tool")
        .unwrap();
    let rows: Vec<String> = statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(
        rows,
        ["/some/path | /some/path | filesystem", "o/a | testdata/fixtures/images/alpine-310.tar.gz | image"]
    );
}

#[test]
fn argo_cd_applications_keep_their_sync_policy_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let files = [
        samples().join("deploy-events/argocd-diff-cache.application.json"),
        samples().join("deploy-events/argocd-live-child-application.application.json"),
    ];
    let output = ingest(&store, &[], &files);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let conn = duckdb::Connection::open(&store).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT concat_ws(' | ', application, automated, self_heal, prune, coalesce(sync_status, '-'), \
             coalesce(destination, '-')) FROM gitops_applications_history ORDER BY application",
        )
        .unwrap();
    let rows: Vec<String> = statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
    drop(statement);
    drop(conn);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().any(|r| r.ends_with("| false | false | false | Synced | gke-alpha-01-europe-west1/test-lla")),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"argocd/argo-workflows | true | false | true | - | in-cluster/argo-workflows".to_string()),
        "{rows:?}"
    );
    pipeproof().arg("--store").arg(&store).arg("evaluate").output().unwrap();
    let report = common::report_json(&store, None, &dir.path().join("out"));
    let control = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == "DEP-06").unwrap();
    let reasons: Vec<String> = control["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["status"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("fail Manual sync")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("fail Automated sync without selfHeal")), "{reasons:?}");
}

#[test]
fn two_images_of_one_repository_each_keep_their_latest_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    for image in ["trivy-json/trivy-alpine-310.json", "trivy-json/trivy-debian-stretch.json"] {
        let output = ingest(&store, &["--repo", "o/a"], &[samples().join(image)]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let conn = duckdb::Connection::open(&store).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM scans WHERE subject = 'o/a'"), 2, "one scan per image, not the newest only");
    assert_eq!(
        count("SELECT count(*) FROM vulnerabilities WHERE artifact = 'testdata/fixtures/images/alpine-310.tar.gz'"),
        4
    );
    assert_eq!(
        count("SELECT count(*) FROM vulnerabilities WHERE artifact = 'testdata/fixtures/images/debian-stretch.tar.gz'"),
        5
    );
}
