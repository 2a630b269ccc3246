//! `manifest.json`: what a bundle holds — every file with its size and sha256, every evidence item with its
//! provenance, the control files evaluated — and a root hash over the file list that chains bundles together.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::store::sha256_hex;

/// The manifest's file name inside a bundle.
pub const MANIFEST: &str = "manifest.json";
/// The minisign signature of the manifest.
pub const SIGNATURE: &str = "manifest.json.minisig";
/// The value of `format`.
pub const FORMAT: &str = "pipeproof-bundle";
/// The bundle layout version this pipeproof writes (and the newest it reads). Version 2 hashes the file list
/// with each path length-prefixed; version 1 (still verified) hashed plain lines.
pub const FORMAT_VERSION: u32 = 2;

/// A bundle's manifest; `E` is how each evidence item is held (in full when writing, lean when verifying).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Manifest<E = ManifestEvidence> {
    /// Always `pipeproof-bundle`.
    pub format: String,
    /// The bundle layout version.
    pub format_version: u32,
    /// The pipeproof version that wrote the bundle.
    pub tool_version: String,
    /// The organisation assessed.
    pub organisation: String,
    /// The evaluation bundled.
    pub evaluation_id: i64,
    /// The reporting period, when the evaluation covered one.
    pub period: Option<ManifestPeriod>,
    /// The moment the evidence was evaluated as of (ISO 8601 UTC).
    pub as_of: String,
    /// Digest of the control and framework files evaluated.
    pub catalogue_sha256: String,
    /// Digest over the ids and hashes of every evidence item the findings cite (as in the report).
    pub evidence_digest: String,
    /// Every file in the bundle except the manifest and its signature, sorted by path.
    pub files: Vec<ManifestFile>,
    /// Every evidence item the evaluation's findings cite, by id.
    pub evidence: Vec<E>,
    /// The control, framework and crosswalk files evaluated, and where the bundle keeps them.
    pub catalogue: Vec<ManifestCatalogueFile>,
    /// sha256 over the lines `<bytes of path>:<path> <size> <sha256>\n` of `files`, sorted by path (format
    /// version 1: `<sha256> <size> <path>\n`); paths never hold control characters.
    pub root_hash: String,
    /// The root hash of the previous period's bundle, when one was given: quarters form a chain.
    pub previous_root_hash: Option<String>,
}

/// The reporting period.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ManifestPeriod {
    /// The label, e.g. `2026-Q3`.
    pub label: String,
    /// First moment (ISO 8601 UTC).
    pub start: String,
    /// Last moment (ISO 8601 UTC).
    pub end: String,
}

/// One file in the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestFile {
    /// Path inside the bundle, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex sha256 of the bytes.
    pub sha256: String,
}

/// One evidence item and how it was obtained.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ManifestEvidence {
    /// The evidence id in the store (the report's `E<id>`).
    pub id: i64,
    /// sha256 of the raw bytes.
    pub sha256: String,
    /// Where the bundle keeps the raw bytes.
    pub file: String,
    /// Where it came from: `github`, `file`.
    pub source: String,
    /// What it is, e.g. `github.branch_protection`, `sarif`.
    pub kind: String,
    /// What it is about.
    pub subject: String,
    /// When it was collected (ISO 8601 UTC).
    pub collected_at: String,
    /// How it was obtained: for API evidence the request (URL without secrets, API version, status, ETag, page,
    /// whether pagination completed); for files the path, size and hash.
    pub provenance: serde_json::Value,
}

/// A control, framework or crosswalk file as evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ManifestCatalogueFile {
    /// Where it was read from at evaluation time (`builtin:controls/...` or the user's control folder).
    pub origin: String,
    /// Where the bundle keeps it.
    pub file: String,
    /// sha256 of its text.
    pub sha256: String,
}

/// What `verify` reads of a manifest: every evidence item without its provenance, so that checking a bundle of
/// 100,000 evidence items stays small in memory.
pub type ManifestView = Manifest<EvidenceView>;

/// An evidence item as `verify` reads it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceView {
    /// The evidence id.
    pub id: i64,
    /// sha256 of the raw bytes.
    pub sha256: String,
    /// Where the bundle keeps them.
    pub file: String,
}

/// The root hash over a file list as the given format version computes it (sorted by path here, whatever the
/// input order). Version 2 prefixes each path with its length in bytes, so no two file lists share an encoding
/// even if a path held a line break.
pub fn root_hash(files: &[ManifestFile], format_version: u32) -> String {
    let mut sorted: Vec<&ManifestFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let lines: String = sorted
        .iter()
        .map(|f| match format_version {
            1 => format!("{} {} {}\n", f.sha256, f.size, f.path),
            _ => format!("{}:{} {} {}\n", f.path.len(), f.path, f.size, f.sha256),
        })
        .collect();
    sha256_hex(lines.as_bytes())
}

/// Why a path cannot be in a bundle, if it cannot: control characters (a line break would let two entries pass
/// for one in a listing, and a terminal would obey them).
pub fn path_refusal(path: &str) -> Option<String> {
    path.chars()
        .any(crate::terminal::is_unsafe)
        .then(|| format!("the path {} holds control characters", crate::terminal::escaped(path)))
}

impl<E: Serialize> Manifest<E> {
    /// The manifest as pretty JSON, the bytes that are signed.
    pub fn to_bytes(&self) -> anyhow::Result<Vec<u8>> {
        Ok((serde_json::to_string_pretty(self)? + "\n").into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, sha: &str) -> ManifestFile {
        ManifestFile { path: path.into(), size: 3, sha256: sha.into() }
    }

    #[test]
    fn the_root_hash_ignores_input_order_and_sees_every_field() {
        let a = [file("a", "1"), file("b", "2")];
        let b = [file("b", "2"), file("a", "1")];
        for version in [1, 2] {
            assert_eq!(root_hash(&a, version), root_hash(&b, version));
            assert_ne!(root_hash(&a, version), root_hash(&[file("a", "1"), file("b", "3")], version));
            assert_ne!(root_hash(&a, version), root_hash(&[file("a", "1"), file("c", "2")], version));
        }
        assert_ne!(root_hash(&a, 1), root_hash(&a, 2));
    }

    #[test]
    fn two_entries_cannot_pass_for_one() {
        // In version 1 a path holding "\n<sha> <size> <path>" encodes exactly as two entries.
        let two = [file("a", "1"), file("b", "2")];
        let merged = [ManifestFile { path: "a\n2 3 b".into(), size: 3, sha256: "1".into() }];
        assert_eq!(root_hash(&two, 1), root_hash(&merged, 1), "the ambiguity version 2 removes");
        assert_ne!(root_hash(&two, 2), root_hash(&merged, 2));
        assert!(path_refusal("a\n2 3 b").is_some() && path_refusal("evidence/ab/cd").is_none());
    }
}
