//! `pipeproof verify`: checks a bundle offline, with no store — every file's size and sha256 against the manifest,
//! the root hash, the signature when a key is given, that every evidence item the reports cite is present, and
//! that nothing is missing or extra. Every problem is named; none stops the others being found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::archive::Archive;
use super::manifest::{root_hash, ManifestView, FORMAT, FORMAT_VERSION, MANIFEST, SIGNATURE};
use crate::report::model::evidence_file;

/// The largest manifest read whole (its exact bytes are what is signed); every other file is streamed.
const MAX_MANIFEST_BYTES: u64 = 512 << 20;

/// One thing wrong with a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `missing`, `altered`, `extra`, `refused`, `manifest`, `reference`, `signature` or `attestation`.
    pub kind: &'static str,
    /// The file concerned, when there is one.
    pub path: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

/// What became of the signature check.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// Checked and valid.
    Verified {
        /// The key id.
        key_id: String,
        /// The signed trusted comment.
        trusted_comment: String,
    },
    /// Not checked: no public key was given.
    NotChecked {
        /// Whether the bundle carries a signature that could be checked.
        signature_present: bool,
    },
    /// Checked and invalid (or absent when a key was given).
    Failed,
}

/// The outcome of verifying a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The manifest, when it could be read.
    #[serde(skip)]
    pub manifest: Option<ManifestView>,
    /// Files whose hashes were checked.
    pub files_checked: usize,
    /// Evidence items listed.
    pub evidence_items: usize,
    /// The root hash recomputed from the manifest's file list.
    pub root_hash: Option<String>,
    /// The signature check.
    pub signature: SignatureCheck,
    /// Signed attestations inside the bundle (SLSA verification summaries) checked with the key.
    pub attestations_checked: usize,
    /// Everything wrong, in path order.
    pub problems: Vec<Problem>,
}

impl Verification {
    /// True when every check held (a signature not checked is reported, but is not a failure).
    pub fn holds(&self) -> bool {
        self.problems.is_empty() && !matches!(self.signature, SignatureCheck::Failed)
    }
}

fn problem(kind: &'static str, path: Option<&str>, message: impl Into<String>) -> Problem {
    Problem { kind, path: path.map(str::to_string), message: message.into() }
}

/// Verifies the bundle at `path` (a zip or a folder), checking the signature with `public_key` when given.
pub fn verify(path: &Path, public_key: Option<&minisign::PublicKey>, max_unpacked: u64) -> Verification {
    let mut result = Verification {
        manifest: None,
        files_checked: 0,
        evidence_items: 0,
        root_hash: None,
        signature: SignatureCheck::NotChecked { signature_present: false },
        attestations_checked: 0,
        problems: Vec::new(),
    };
    let (mut archive, present) = match Archive::open(path, max_unpacked) {
        Ok(opened) => opened,
        Err(refusals) => {
            result.problems = refusals.into_iter().map(|message| problem("refused", None, message)).collect();
            return result;
        }
    };
    let Some(manifest_listing) = present.get(MANIFEST).cloned() else {
        result.problems.push(problem("missing", Some(MANIFEST), "the bundle has no manifest.json"));
        return result;
    };
    let manifest_bytes = match archive.read(MANIFEST, &manifest_listing, MAX_MANIFEST_BYTES) {
        Ok(bytes) => bytes,
        Err(error) => {
            result.problems.push(problem("manifest", Some(MANIFEST), format!("unreadable: {error:#}")));
            return result;
        }
    };
    let manifest: ManifestView = match serde_json::from_slice(&manifest_bytes) {
        Ok(manifest) => manifest,
        Err(error) => {
            result.problems.push(problem("manifest", Some(MANIFEST), format!("not a pipeproof manifest: {error}")));
            return result;
        }
    };
    if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
        result.problems.push(problem(
            "manifest",
            Some(MANIFEST),
            format!(
                "format {} version {} is not one this pipeproof ({}) reads (up to {FORMAT} version {FORMAT_VERSION})",
                manifest.format,
                manifest.format_version,
                crate::VERSION
            ),
        ));
        return result;
    }

    result.signature = check_signature(&mut archive, &present, &manifest_bytes, public_key, &mut result.problems);
    drop(manifest_bytes);
    check_files(&mut archive, &present, &manifest, &mut result);
    let recomputed = root_hash(&manifest.files, manifest.format_version);
    if recomputed != manifest.root_hash {
        result.problems.push(problem(
            "manifest",
            Some(MANIFEST),
            format!(
                "the root hash recorded ({}) does not match the file list ({recomputed}): the manifest was edited",
                manifest.root_hash
            ),
        ));
    }
    result.root_hash = Some(recomputed);
    check_references(&mut archive, &present, &manifest, &mut result.problems);
    if let Some(key) = public_key {
        result.attestations_checked = check_attestations(&mut archive, &present, &manifest, key, &mut result.problems);
    }
    result.evidence_items = manifest.evidence.len();
    result.problems.sort_by(|a, b| (&a.path, a.kind).cmp(&(&b.path, b.kind)));
    result.manifest = Some(manifest);
    result
}

/// Checks each signed attestation the manifest lists (`vsa/*.dsse.json`) with the trusted key; returns how many.
fn check_attestations(
    archive: &mut Archive,
    present: &BTreeMap<String, super::archive::Listed>,
    manifest: &ManifestView,
    key: &minisign::PublicKey,
    problems: &mut Vec<Problem>,
) -> usize {
    let mut checked = 0;
    for file in manifest.files.iter().filter(|f| f.path.starts_with("vsa/") && f.path.ends_with(".dsse.json")) {
        let Some(listing) = present.get(&file.path) else { continue };
        checked += 1;
        let outcome = archive
            .read(&file.path, listing, 1 << 20)
            .map_err(|error| format!("unreadable: {error:#}"))
            .and_then(|bytes| super::vsa::check(&bytes, key));
        if let Err(message) = outcome {
            problems.push(problem("attestation", Some(&file.path), message));
        }
    }
    checked
}

fn check_signature(
    archive: &mut Archive,
    present: &BTreeMap<String, super::archive::Listed>,
    manifest_bytes: &[u8],
    public_key: Option<&minisign::PublicKey>,
    problems: &mut Vec<Problem>,
) -> SignatureCheck {
    let listing = present.get(SIGNATURE);
    let Some(key) = public_key else {
        return SignatureCheck::NotChecked { signature_present: listing.is_some() };
    };
    let Some(listing) = listing else {
        problems.push(problem("signature", Some(SIGNATURE), "a public key was given but the bundle is not signed"));
        return SignatureCheck::Failed;
    };
    let text = match archive.read(SIGNATURE, listing, 1 << 20).map(|b| String::from_utf8_lossy(&b).into_owned()) {
        Ok(text) => text,
        Err(error) => {
            problems.push(problem("signature", Some(SIGNATURE), format!("unreadable: {error:#}")));
            return SignatureCheck::Failed;
        }
    };
    match super::signature::verify(manifest_bytes, &text, key) {
        Ok(checked) => SignatureCheck::Verified { key_id: checked.key_id, trusted_comment: checked.trusted_comment },
        Err(error) => {
            problems.push(problem(
                "signature",
                Some(SIGNATURE),
                format!("the signature of manifest.json does not verify with the given key: {error:#}"),
            ));
            SignatureCheck::Failed
        }
    }
}

fn check_files(
    archive: &mut Archive,
    present: &BTreeMap<String, super::archive::Listed>,
    manifest: &ManifestView,
    result: &mut Verification,
) {
    let mut listed = BTreeSet::new();
    for file in &manifest.files {
        let path = file.path.as_str();
        if let Some(refusal) = super::manifest::path_refusal(path) {
            result.problems.push(problem("manifest", None, refusal));
            continue;
        }
        if !listed.insert(path) {
            result.problems.push(problem("manifest", Some(path), "listed twice in the manifest"));
            continue;
        }
        let Some(listing) = present.get(path) else {
            result.problems.push(problem("missing", Some(path), "listed in the manifest but not in the bundle"));
            continue;
        };
        match archive.hash(path, listing) {
            Ok((size, sha256)) if sha256 != file.sha256 || size != file.size => {
                result.problems.push(problem(
                    "altered",
                    Some(path),
                    format!(
                        "{size} bytes with sha256 {sha256}; the manifest says {} bytes with sha256 {}",
                        file.size, file.sha256
                    ),
                ));
            }
            Ok(_) => result.files_checked += 1,
            Err(error) => result.problems.push(problem("altered", Some(path), format!("unreadable: {error:#}"))),
        }
    }
    for path in present.keys() {
        if !listed.contains(path.as_str()) && path != MANIFEST && path != SIGNATURE {
            result.problems.push(problem("extra", Some(path), "in the bundle but not listed in the manifest"));
        }
    }
}

/// Every evidence item the manifest, report.json, findings.csv and the OSCAL results cite must be a bundled file.
fn check_references(
    archive: &mut Archive,
    present: &BTreeMap<String, super::archive::Listed>,
    manifest: &ManifestView,
    problems: &mut Vec<Problem>,
) {
    let files: BTreeMap<&str, &str> = manifest.files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
    let mut evidence_ids = BTreeSet::new();
    for item in &manifest.evidence {
        evidence_ids.insert(item.id);
        let expected = evidence_file(&item.sha256);
        if item.file != expected || files.get(expected.as_str()) != Some(&item.sha256.as_str()) {
            problems.push(problem(
                "reference",
                Some(&item.file),
                format!("evidence E{} (sha256 {}) is not bundled under {expected}", item.id, item.sha256),
            ));
        }
    }
    // The reports are parsed as streams into the few fields checked, so a huge document costs what it cites, not
    // its size; one that cannot be read is a problem, never a silent pass.
    let unreadable = |name: &str, error: &dyn std::fmt::Display| {
        problem("reference", Some(name), format!("its references cannot be read: {error}"))
    };
    if let Some(reader) = open_listed(archive, present, &files, "report.json", problems) {
        match serde_json::from_reader::<_, ReportReferences>(reader) {
            Ok(report) => {
                for item in &report.evidence {
                    let (id, sha) = (item.id.unwrap_or(-1), item.sha256.as_deref().unwrap_or(""));
                    if !manifest.evidence.iter().any(|e| e.id == id && e.sha256 == sha) {
                        problems.push(problem(
                            "reference",
                            Some("report.json"),
                            format!("cites evidence E{id} (sha256 {sha}), which the manifest does not list"),
                        ));
                    }
                }
                for finding in report.controls.iter().flat_map(|c| &c.findings) {
                    if let Some(id) = finding.evidence_id.filter(|id| !evidence_ids.contains(id)) {
                        problems.push(problem(
                            "reference",
                            Some("report.json"),
                            format!(
                                "a finding of {:?} cites evidence E{id}, which the bundle lacks",
                                finding.control.as_deref().unwrap_or("?")
                            ),
                        ));
                    }
                }
            }
            Err(error) => problems.push(unreadable("report.json", &error)),
        }
    }
    if let Some(reader) = open_listed(archive, present, &files, "findings.csv", problems) {
        let mut reader = csv::Reader::from_reader(reader);
        let column = reader.headers().ok().and_then(|h| h.iter().position(|name| name == "evidence_id"));
        for (line, record) in reader.records().enumerate() {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    problems.push(unreadable("findings.csv", &error));
                    break;
                }
            };
            let Some(cell) = column.and_then(|c| record.get(c)) else { continue };
            let cited = cell.strip_prefix('E').and_then(|id| id.parse::<i64>().ok());
            if let Some(id) = cited.filter(|id| !evidence_ids.contains(id)) {
                problems.push(problem(
                    "reference",
                    Some("findings.csv"),
                    format!("row {} cites evidence E{id}, which the bundle lacks", line + 2),
                ));
            }
        }
    }
    if let Some(reader) = open_listed(archive, present, &files, "oscal/assessment-results.json", problems) {
        match serde_json::from_reader::<_, OscalReferences>(reader) {
            Ok(oscal) => {
                let observations = oscal.results.results.iter().flat_map(|r| &r.observations);
                for href in observations.flat_map(|o| &o.evidence).filter_map(|e| e.href.as_deref()) {
                    if !files.contains_key(href) {
                        problems.push(problem(
                            "reference",
                            Some("oscal/assessment-results.json"),
                            format!("links to {href}, which the bundle lacks"),
                        ));
                    }
                }
            }
            Err(error) => problems.push(unreadable("oscal/assessment-results.json", &error)),
        }
    }
}

/// A document the manifest lists and the bundle holds, as a bounded stream; `None` when absent (an unreadable
/// one is a problem).
fn open_listed<'a>(
    archive: &'a mut Archive,
    present: &BTreeMap<String, super::archive::Listed>,
    files: &BTreeMap<&str, &str>,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Box<dyn std::io::Read + 'a>> {
    let listing = present.get(name)?;
    files.get(name)?;
    match archive.reader(name, listing) {
        Ok(reader) => Some(reader),
        Err(error) => {
            problems.push(problem("reference", Some(name), format!("unreadable: {error:#}")));
            None
        }
    }
}

/// What `report.json` cites: its evidence list and each finding's evidence (every other field is skipped).
#[derive(Deserialize)]
struct ReportReferences {
    #[serde(default)]
    evidence: Vec<CitedEvidence>,
    #[serde(default)]
    controls: Vec<CitingControl>,
}

#[derive(Deserialize)]
struct CitedEvidence {
    id: Option<i64>,
    sha256: Option<String>,
}

#[derive(Deserialize)]
struct CitingControl {
    #[serde(default)]
    findings: Vec<CitingFinding>,
}

#[derive(Deserialize)]
struct CitingFinding {
    evidence_id: Option<i64>,
    control: Option<String>,
}

/// What the OSCAL assessment results link to.
#[derive(Deserialize)]
struct OscalReferences {
    #[serde(rename = "assessment-results")]
    results: OscalResults,
}

#[derive(Deserialize)]
struct OscalResults {
    #[serde(default)]
    results: Vec<OscalResult>,
}

#[derive(Deserialize)]
struct OscalResult {
    #[serde(default)]
    observations: Vec<OscalObservation>,
}

#[derive(Deserialize)]
struct OscalObservation {
    #[serde(default, rename = "relevant-evidence")]
    evidence: Vec<OscalEvidence>,
}

#[derive(Deserialize)]
struct OscalEvidence {
    href: Option<String>,
}
