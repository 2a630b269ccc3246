//! Evidence bundles: built from the demo, verified offline, and every kind of tampering caught by name.

use crate::common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use common::{pipeproof, run_demo};

/// A demo folder with its signed bundle, store and throwaway key.
struct Demo {
    dir: tempfile::TempDir,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        run_demo(dir.path(), None);
        Demo { dir }
    }
    fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle.zip")
    }
    fn public_key(&self) -> PathBuf {
        self.dir.path().join("demo-signing.key.pub")
    }
    fn store(&self) -> PathBuf {
        self.dir.path().join("pipeproof-demo.duckdb")
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Runs `verify`; returns (exit code, stdout).
fn verify(bundle: &Path, public_key: Option<&Path>) -> (i32, String) {
    let mut command = pipeproof();
    command.arg("verify").arg(bundle);
    if let Some(key) = public_key {
        command.arg("--pubkey").arg(key);
    }
    let output = command.output().unwrap();
    (output.status.code().unwrap(), String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Reads every entry of a zip, in order.
fn entries(zip_path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().to_string(), bytes)
        })
        .collect()
}

/// Writes entries as a new zip.
fn write_zip(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
}

/// A copy of the bundle with `edit` applied to its entries.
fn tampered(demo: &Demo, name: &str, edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> PathBuf {
    let mut all = entries(&demo.bundle());
    edit(&mut all);
    let path = demo.path(name);
    write_zip(&path, &all);
    path
}

fn first_evidence(entries: &[(String, Vec<u8>)]) -> usize {
    entries.iter().position(|(name, _)| name.starts_with("evidence/")).expect("the demo bundle holds evidence")
}

fn manifest(entries: &[(String, Vec<u8>)]) -> serde_json::Value {
    let (_, bytes) = entries.iter().find(|(name, _)| name == "manifest.json").unwrap();
    serde_json::from_slice(bytes).unwrap()
}

fn set_manifest(entries: &mut [(String, Vec<u8>)], manifest: &serde_json::Value) {
    let slot = entries.iter_mut().find(|(name, _)| name == "manifest.json").unwrap();
    slot.1 = serde_json::to_vec_pretty(manifest).unwrap();
}

#[test]
fn the_demo_bundle_verifies_offline_with_and_without_its_key() {
    let demo = Demo::new();
    let (code, out) = verify(&demo.bundle(), Some(&demo.public_key()));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("signature: VERIFIED with key"), "{out}");
    assert!(out.contains("verified: every file, hash and reference holds"), "{out}");

    let (code, out) = verify(&demo.bundle(), None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("NOT CHECKED: the bundle is signed, but no --pubkey was given"), "{out}");

    let names: Vec<String> = entries(&demo.bundle()).into_iter().map(|(name, _)| name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries are sorted");
    for expected in [
        "index.html",
        "report.pdf",
        "report.json",
        "findings.csv",
        "requirements.csv",
        "oscal/assessment-results.json",
        "manifest.json",
        "manifest.json.minisig",
        "controls/builtin/source/SRC-01.yaml",
        "controls/builtin/frameworks/soc2.yaml",
        "controls/waivers.json",
        "controls/attestations.json",
        "populations/SRC-01.csv",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
    }
    let all = entries(&demo.bundle());
    let manifest = manifest(&all);
    for item in manifest["evidence"].as_array().unwrap() {
        let file = item["file"].as_str().unwrap();
        let (_, bytes) = all.iter().find(|(name, _)| name == file).expect("every cited evidence item is bundled");
        assert_eq!(pipeproof::store::sha256_hex(bytes), item["sha256"].as_str().unwrap());
        assert!(item["provenance"].is_object(), "provenance is kept: {item}");
    }
    let index = String::from_utf8(all.iter().find(|(n, _)| n == "index.html").unwrap().1.clone()).unwrap();
    let first = manifest["evidence"][0]["file"].as_str().unwrap();
    assert!(index.contains(&format!("href=\"{first}\"")), "index.html links into the bundle's evidence");
    assert!(index.contains("href=\"populations/SRC-01.csv\""), "and to the populations to sample from");
}

#[test]
fn the_same_store_and_evaluation_give_a_byte_identical_zip() {
    let demo = Demo::new();
    let write = |name: &str| {
        let out = demo.path(name);
        pipeproof()
            .arg("--store")
            .arg(demo.store())
            .args(["bundle", "--evaluation", "1", "--output"])
            .arg(&out)
            .assert()
            .success();
        std::fs::read(out).unwrap()
    };
    assert_eq!(write("a.zip"), write("b.zip"));

    let folder = demo.path("as-folder");
    pipeproof().arg("--store").arg(demo.store()).args(["bundle", "--output"]).arg(&folder).assert().success();
    let (code, out) = verify(&folder, None);
    assert_eq!(code, 0, "a folder bundle verifies too: {out}");
    assert!(out.contains("NOT CHECKED: the bundle is not signed"), "{out}");

    std::os::unix::fs::symlink("/etc/passwd", folder.join("evidence/passwd")).unwrap();
    let (code, out) = verify(&folder, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED   evidence/passwd is a symbolic link"), "{out}");
}

#[test]
fn each_kind_of_tampering_is_named() {
    let demo = Demo::new();
    let key = demo.public_key();

    let flipped = tampered(&demo, "flipped.zip", |all| {
        let i = first_evidence(all);
        all[i].1[0] ^= 0x01;
    });
    let (code, out) = verify(&flipped, Some(&key));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ALTERED   evidence/"), "{out}");

    let deleted = tampered(&demo, "deleted.zip", |all| {
        all.remove(first_evidence(all));
    });
    let (code, out) = verify(&deleted, Some(&key));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("MISSING   evidence/") && out.contains("listed in the manifest but not in the bundle"),
        "{out}"
    );

    let added = tampered(&demo, "added.zip", |all| all.push(("evidence/zz/smuggled".into(), b"{}".to_vec())));
    let (code, out) = verify(&added, Some(&key));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("EXTRA     evidence/zz/smuggled: in the bundle but not listed in the manifest"), "{out}");

    let edited = tampered(&demo, "edited.zip", |all| {
        let mut manifest = manifest(all);
        manifest["organisation"] = "Someone Else".into();
        set_manifest(all, &manifest);
    });
    let (code, out) = verify(&edited, Some(&key));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature: FAILED") && out.contains("does not verify with the given key"), "{out}");

    let rehashed = tampered(&demo, "rehashed.zip", |all| {
        let i = first_evidence(all);
        all[i].1[0] ^= 0x01;
        let new_hash = pipeproof::store::sha256_hex(&all[i].1);
        let name = all[i].0.clone();
        let mut manifest = manifest(all);
        for file in manifest["files"].as_array_mut().unwrap() {
            if file["path"] == name.as_str() {
                file["sha256"] = new_hash.clone().into();
            }
        }
        set_manifest(all, &manifest);
    });
    let (code, out) = verify(&rehashed, None);
    assert_eq!(code, 1, "an edited file list is caught even without a key: {out}");
    assert!(out.contains("does not match the file list") && out.contains("the manifest was edited"), "{out}");
    assert!(out.contains("is not bundled under"), "the evidence's content address no longer matches: {out}");

    let other_key = demo.path("other.key");
    pipeproof().args(["keygen", "--no-password", "--output"]).arg(&other_key).assert().success();
    let resigned = demo.path("resigned.zip");
    pipeproof()
        .arg("--store")
        .arg(demo.store())
        .args(["bundle", "--sign"])
        .arg(&other_key)
        .arg("--output")
        .arg(&resigned)
        .assert()
        .success();
    let foreign_signature = entries(&resigned).into_iter().find(|(n, _)| n == "manifest.json.minisig").unwrap().1;
    let swapped = tampered(&demo, "swapped.zip", |all| {
        all.iter_mut().find(|(n, _)| n == "manifest.json.minisig").unwrap().1 = foreign_signature;
    });
    let (code, out) = verify(&swapped, Some(&key));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature: FAILED") && out.contains("key id"), "{out}");

    let bad_key = pipeproof().arg("verify").arg(demo.bundle()).args(["--pubkey", "not-a-key"]).output().unwrap();
    assert_eq!(bad_key.status.code(), Some(2), "a key that is not a key is a usage error, not a failed bundle");
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("neither a readable key file nor a minisign public key"));

    let unsigned = tampered(&demo, "unsigned.zip", |all| all.retain(|(n, _)| n != "manifest.json.minisig"));
    let (code, out) = verify(&unsigned, Some(&key));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("a public key was given but the bundle is not signed"), "{out}");
}

#[test]
fn unsafe_archives_are_refused() {
    let demo = Demo::new();
    let climbing = tampered(&demo, "climbing.zip", |all| all.push(("../evil.sh".into(), b"#!/bin/sh".to_vec())));
    let (code, out) = verify(&climbing, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED   entry \"../evil.sh\" has a `..` component"), "{out}");

    let absolute = tampered(&demo, "absolute.zip", |all| all.push(("/etc/cron.d/x".into(), b"x".to_vec())));
    let (code, out) = verify(&absolute, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED   entry \"/etc/cron.d/x\" has an absolute path"), "{out}");

    let symlink = demo.path("symlink.zip");
    {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&symlink).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for (name, bytes) in entries(&demo.bundle()) {
            writer.start_file(name.as_str(), options).unwrap();
            writer.write_all(&bytes).unwrap();
        }
        writer.add_symlink("evidence/passwd", "/etc/passwd", options).unwrap();
        writer.finish().unwrap();
    }
    let (code, out) = verify(&symlink, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED   entry \"evidence/passwd\" is a symbolic link"), "{out}");

    let bomb = tampered(&demo, "bomb.zip", |all| all.push(("padding.bin".into(), vec![0u8; 64 << 20])));
    let (code, out) = verify(&bomb, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED   entry \"padding.bin\" inflates") && out.contains("a zip bomb"), "{out}");

    let limited = verify_with_limit(&demo.bundle(), 1000);
    assert!(limited.contains("more than the limit of 1000"), "{limited}");

    let duplicated = tampered(&demo, "duplicated.zip", |all| {
        all.push(("dup-1.txt".into(), b"first".to_vec()));
        all.push(("dup-2.txt".into(), b"other".to_vec()));
    });
    let mut bytes = std::fs::read(&duplicated).unwrap();
    let (from, to) = (b"dup-2.txt", b"dup-1.txt");
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + to.len()].copy_from_slice(to);
        }
        i += 1;
    }
    std::fs::write(&duplicated, bytes).unwrap();
    let (code, out) = verify(&duplicated, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED   the zip holds 2 entries named \"dup-1.txt\" (duplicate names)"), "{out}");
}

fn verify_with_limit(bundle: &Path, limit: u64) -> String {
    let output = pipeproof().arg("verify").arg(bundle).arg("--max-size").arg(limit.to_string()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_bundle_records_the_previous_bundles_root_hash() {
    let demo = Demo::new();
    let first = manifest(&entries(&demo.bundle()));
    let next = demo.path("next.zip");
    pipeproof()
        .arg("--store")
        .arg(demo.store())
        .args(["bundle", "--previous"])
        .arg(demo.bundle())
        .arg("--output")
        .arg(&next)
        .assert()
        .success();
    let second = manifest(&entries(&next));
    assert_eq!(second["previous_root_hash"], first["root_hash"]);
    let (code, out) = verify(&next, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("previous:  {}", first["root_hash"].as_str().unwrap())), "{out}");
}

#[test]
fn a_password_protected_key_signs_and_a_missing_password_is_a_clear_error() {
    let demo = Demo::new();
    let key = demo.path("team.key");
    pipeproof()
        .env("PIPEPROOF_KEY_PASSWORD", "correct horse battery staple")
        .args(["keygen", "--output"])
        .arg(&key)
        .assert()
        .success();
    let secret = std::fs::read_to_string(&key).unwrap();
    assert!(!secret.contains("correct horse"), "the password is never written");
    let signed = demo.path("team.zip");
    let bundle = |password: Option<&str>| {
        let mut command = pipeproof();
        command.env_remove("PIPEPROOF_KEY_PASSWORD");
        if let Some(password) = password {
            command.env("PIPEPROOF_KEY_PASSWORD", password);
        }
        command.arg("--store").arg(demo.store()).args(["bundle", "--sign"]).arg(&key).arg("--output").arg(&signed);
        command.output().unwrap()
    };
    let missing = bundle(None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("PIPEPROOF_KEY_PASSWORD"));
    let wrong = bundle(Some("wrong"));
    assert_eq!(wrong.status.code(), Some(2), "{}", String::from_utf8_lossy(&wrong.stderr));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("Wrong password"));
    assert!(bundle(Some("correct horse battery staple")).status.success());
    let (code, out) = verify(&signed, Some(&demo.path("team.key.pub")));
    assert_eq!(code, 0, "{out}");
}

/// The stock minisign tool accepts our signature (installed by .ci/run; required when CI is set).
#[test]
fn the_stock_minisign_tool_verifies_the_manifest() {
    let available = std::process::Command::new("minisign").arg("-v").output().is_ok();
    if !available {
        assert!(std::env::var_os("CI").is_none(), "CI must install minisign (.ci/run does)");
        eprintln!("minisign is not installed here; skipping the compatibility check");
        return;
    }
    let demo = Demo::new();
    let unpacked = demo.path("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    for (name, bytes) in entries(&demo.bundle()) {
        if name.starts_with("manifest.json") {
            std::fs::write(unpacked.join(&name), bytes).unwrap();
        }
    }
    let check = |manifest: &Path| {
        std::process::Command::new("minisign")
            .arg("-Vm")
            .arg(manifest)
            .arg("-p")
            .arg(demo.public_key())
            .output()
            .unwrap()
    };
    let output = check(&unpacked.join("manifest.json"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("pipeproof bundle of"), "the trusted comment is shown");

    let mut edited = std::fs::read(unpacked.join("manifest.json")).unwrap();
    edited[10] ^= 0x01;
    std::fs::write(unpacked.join("manifest.json"), edited).unwrap();
    assert!(!check(&unpacked.join("manifest.json")).status.success(), "minisign rejects an edited manifest");
}

#[test]
fn the_manifest_validates_against_its_published_schema() {
    let demo = Demo::new();
    let output = pipeproof().args(["schema", "bundle-manifest"]).output().unwrap();
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("urn:pipeproof-bundle-manifest", schema).unwrap();
    let index = compiler.compile("urn:pipeproof-bundle-manifest", &mut schemas).unwrap();
    let manifest = manifest(&entries(&demo.bundle()));
    schemas.validate(&manifest, index).unwrap_or_else(|e| panic!("{e:#}"));
    let mut broken = manifest.clone();
    broken["files"][0]["size"] = "large".into();
    assert!(schemas.validate(&broken, index).is_err(), "the schema is not vacuous");
}

#[test]
fn every_bundle_written_is_recorded_and_a_later_evaluation_judges_its_custody() {
    let demo = Demo::new();
    let recorded = |sql: &str| common::store_texts(&demo.store(), sql);
    let demo_bundle = recorded("SELECT format('{} {} {}', output, signed, key_id) FROM bundles_history");
    assert_eq!(demo_bundle.len(), 1, "the demo's signed bundle is recorded");
    assert!(demo_bundle[0].starts_with("bundle.zip true "), "{demo_bundle:?}");
    let manifest = entries(&demo.bundle()).into_iter().find(|(name, _)| name == "manifest.json").unwrap().1;
    assert_eq!(
        recorded("SELECT e.sha256 FROM evidence e JOIN bundles_history b USING (evidence_id)"),
        [pipeproof::store::sha256_hex(&manifest)],
        "the manifest handed over is the evidence kept"
    );

    let unsigned = demo.path("unsigned.zip");
    pipeproof().arg("--store").arg(demo.store()).args(["bundle", "--output"]).arg(&unsigned).assert().success();
    std::fs::write(demo.path("object-lock.json"), "{\"ObjectLockEnabled\": \"Enabled\"}").unwrap();
    let lock_hash = pipeproof::store::sha256_hex(b"{\"ObjectLockEnabled\": \"Enabled\"}");
    std::fs::write(
        demo.path("attestations.yaml"),
        format!(
            "- {{ control: GOV-07, resource: \"*.zip\", statement: Bundles kept under S3 Object Lock, attested_by: CISO, \
             attested_at: 2026-01-01, valid_until: 2099-12-31, document: object-lock.json, document_sha256: \"{lock_hash}\" }}\n"
        ),
    )
    .unwrap();
    let config = demo.path("pipeproof.yaml");
    std::fs::write(&config, "organisation: Acme\n").unwrap();
    pipeproof().arg("--store").arg(demo.store()).arg("--config").arg(&config).arg("evaluate").assert().success();
    let report = common::report_json(&demo.store(), Some(&config), &demo.path("later"));
    let gov07 = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == "GOV-07").unwrap().clone();
    let by_output = |output: &str| {
        gov07["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["reason"].as_str().unwrap().starts_with(&format!("{output} of evaluation 1")))
            .unwrap_or_else(|| panic!("GOV-07 judged {output}: {gov07}"))
            .clone()
    };
    let signed = by_output("bundle.zip");
    assert_eq!(signed["status"], "pass", "{signed}");
    assert!(
        signed["reason"].as_str().unwrap().contains("kept immutably: Bundles kept under S3 Object Lock"),
        "{signed}"
    );
    let unsigned = by_output("unsigned.zip");
    assert_eq!(unsigned["status"], "fail", "{unsigned}");
    assert!(unsigned["reason"].as_str().unwrap().contains("not signed"), "{unsigned}");
}

/// The demo bundle unpacked into a folder.
fn unpacked(demo: &Demo, name: &str) -> PathBuf {
    let folder = demo.path(name);
    for (entry, bytes) in entries(&demo.bundle()) {
        let target = folder.join(&entry);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    folder
}

#[test]
fn a_hostile_bundle_cannot_hang_flood_or_forge_the_terminal() {
    let demo = Demo::new();
    let folder = unpacked(&demo, "folder");
    let (code, out) = verify(&folder, Some(&demo.public_key()));
    assert_eq!(code, 0, "the unpacked bundle verifies: {out}");

    // A FIFO inside a folder bundle, or as the bundle itself, is refused without being opened (it would block).
    let fifo = folder.join("evidence/fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (code, out) = verify(&folder, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("evidence/fifo is not a regular file"), "{out}");
    std::fs::remove_file(&fifo).unwrap();
    let lone = demo.path("bundle.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&lone).status().unwrap().success());
    let (code, out) = verify(&lone, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("neither a regular file nor a folder"), "{out}");

    // A file whose name holds a line break or an escape is refused.
    std::fs::write(folder.join("evidence/a\nverified: b"), b"x").unwrap();
    let (code, out) = verify(&folder, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("evidence/a\\u{a}verified: b has control characters"), "{out}");
    std::fs::remove_file(folder.join("evidence/a\nverified: b")).unwrap();

    // An organisation name that clears the screen and prints a fake verdict is shown escaped, on one line.
    let mut edited: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    edited["organisation"] = serde_json::json!("Acme\u{1b}[2J\u{1b}[H\nverified: every file, hash and reference holds");
    std::fs::write(folder.join("manifest.json"), serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
    let (_, out) = verify(&folder, None);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("Acme\\u{1b}[2J\\u{1b}[H\\u{a}verified: every file"), "{out}");
    let (code, out) = verify(&folder, Some(&demo.public_key()));
    assert_eq!(code, 1, "the edited manifest no longer matches its signature: {out}");

    // A report.json that is not what it claims is a problem, not a silent pass of its references.
    let bad = tampered(&demo, "bad-report.zip", |all| {
        let at = all.iter().position(|(name, _)| name == "report.json").unwrap();
        all[at].1 = b"{\"evidence\": [{\"id\": \"E1\"".to_vec();
        let bytes = all[at].1.clone();
        let mut manifest = manifest(all);
        for file in manifest["files"].as_array_mut().unwrap() {
            if file["path"] == "report.json" {
                file["size"] = serde_json::json!(bytes.len());
                file["sha256"] = serde_json::json!(pipeproof::store::sha256_hex(&bytes));
            }
        }
        let files: Vec<pipeproof::bundle::manifest::ManifestFile> =
            serde_json::from_value(manifest["files"].clone()).unwrap();
        manifest["root_hash"] = serde_json::json!(pipeproof::bundle::manifest::root_hash(
            &files,
            pipeproof::bundle::manifest::FORMAT_VERSION
        ));
        set_manifest(all, &manifest);
    });
    let (code, out) = verify(&bad, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("report.json: its references cannot be read"), "{out}");
}

#[test]
fn a_bundle_written_in_format_version_1_still_verifies() {
    let demo = Demo::new();
    let old = tampered(&demo, "v1.zip", |all| {
        let mut manifest = manifest(all);
        let files: Vec<pipeproof::bundle::manifest::ManifestFile> =
            serde_json::from_value(manifest["files"].clone()).unwrap();
        manifest["format_version"] = serde_json::json!(1);
        manifest["root_hash"] = serde_json::json!(pipeproof::bundle::manifest::root_hash(&files, 1));
        set_manifest(all, &manifest);
    });
    let (code, out) = verify(&old, None);
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(&demo.bundle(), None);
    assert_eq!(code, 0, "{out}");
}
