//! Releases read in the collection window, and the artifact attestations GitHub holds for the digests of the assets
//! of those published in it. Each attestation is a Sigstore bundle, checked against the configured trust exactly as
//! an ingested one; GitHub's listing alone proves nothing about who signed what.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::types::Value as Cell;
use serde_json::{json, Value};

use super::cells::{flag, int, text, time};
use super::operating::{is_at_or_after, items, newest_time};
use crate::collect::http::{ApiClient, ApiResponse};
use crate::ingest::{Facts, TrustPolicy};

/// The evidence kind of a repository's release listing.
pub const RELEASES_KIND: &str = "github.releases";

/// The evidence kind of one digest's attestation lookup.
pub const ATTESTATIONS_KIND: &str = "github.attestations";

/// What the release listing needs to be visible (drafts need push access).
pub const RELEASES_NEEDS: &str = "read access to the repository (Contents: read for an App)";

/// What the attestation lookup needs to be visible.
pub const ATTESTATIONS_NEEDS: &str = "read access to the repository (Attestations: read for a fine-grained token)";

/// The attestations GitHub answered for one asset digest.
pub struct AttestationLookup {
    /// `sha256:HEX`.
    pub digest: String,
    /// The answer's pages (a 404 means GitHub holds none).
    pub pages: Vec<ApiResponse>,
}

/// One repository's releases and the attestation lookups of their assets.
#[derive(Default)]
pub struct ReleaseAnswers {
    /// Releases, newest first, read back to the window's start.
    pub pages: Vec<ApiResponse>,
    /// One lookup per distinct asset digest of the releases published in the window.
    pub attestations: Vec<AttestationLookup>,
}

impl ReleaseAnswers {
    /// Every response, for the conditional-request cache.
    pub fn responses(&self) -> impl Iterator<Item = &ApiResponse> {
        self.pages.iter().chain(self.attestations.iter().flat_map(|lookup| &lookup.pages))
    }
}

/// Whether a release belongs to the window: created or published since its start.
pub fn in_window(release: &Value, since: NaiveDateTime) -> bool {
    is_at_or_after(release, "created_at", since) || is_at_or_after(release, "published_at", since)
}

/// An asset's digest when it is a well-formed `sha256:` followed by 64 hex digits (it goes into a URL path).
fn asset_digest(asset: &Value) -> Option<String> {
    let digest = asset.get("digest")?.as_str()?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{}", hex.to_lowercase()))
}

/// The listing of a repository's releases, newest first.
pub fn releases_path(repo: &str, per_page: u32) -> String {
    format!("/repos/{repo}/releases?per_page={per_page}")
}

/// Reads the releases of `repo` back to `since`, then the attestations of each asset digest published since.
pub async fn fetch(client: &ApiClient, per_page: u32, repo: &str, since: NaiveDateTime) -> Result<ReleaseAnswers> {
    let pages = client
        .get_pages_while(&releases_path(repo, per_page), |page| {
            newest_time(page, "created_at").is_some_and(|at| at >= since)
        })
        .await?;
    let mut digests: Vec<String> = Vec::new();
    for release in items(&pages, None).iter().filter(|r| is_at_or_after(r, "published_at", since)) {
        for asset in release.get("assets").and_then(Value::as_array).into_iter().flatten() {
            if let Some(digest) = asset_digest(asset).filter(|digest| !digests.contains(digest)) {
                digests.push(digest);
            }
        }
    }
    let mut attestations = Vec::new();
    for digest in digests {
        let pages = client.get_all_pages(&format!("/repos/{repo}/attestations/{digest}?per_page={per_page}")).await?;
        attestations.push(AttestationLookup { digest, pages });
    }
    Ok(ReleaseAnswers { pages, attestations })
}

/// The cells of a release's `releases_history` row after the common `run_id, evidence_id, observed_at, org`.
pub fn release_cells(repo: &str, release: &Value) -> Vec<Cell> {
    vec![
        Cell::Text(repo.to_string()),
        int(release, "/id"),
        text(release, "/tag_name"),
        text(release, "/name"),
        text(release, "/target_commitish"),
        flag(release, "/draft"),
        flag(release, "/prerelease"),
        flag(release, "/immutable"),
        text(release, "/author/login"),
        time(release, "/created_at"),
        time(release, "/published_at"),
        text(release, "/html_url"),
    ]
}

/// The cells of each asset's `release_assets_history` row after the common four.
pub fn asset_cells(repo: &str, release: &Value) -> Vec<Vec<Cell>> {
    let release_id = int(release, "/id");
    release
        .get("assets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|asset| {
            vec![
                Cell::Text(repo.to_string()),
                release_id.clone(),
                int(asset, "/id"),
                text(asset, "/name"),
                text(asset, "/content_type"),
                int(asset, "/size"),
                asset_digest(asset).map(Cell::Text).unwrap_or(Cell::Null),
                text(asset, "/uploader/login"),
                time(asset, "/created_at"),
                time(asset, "/updated_at"),
            ]
        })
        .collect()
}

/// The attestations of one answered page, each bundle checked against `trust`; warnings name what could not be read
/// (entries GitHub gave without an inline bundle) and what failed its checks.
pub fn attestation_facts(body: &Value, origin: &str, trust: &TrustPolicy) -> Result<Facts> {
    let entries = body.get("attestations").and_then(Value::as_array).cloned().unwrap_or_default();
    let (bundled, bare): (Vec<Value>, Vec<Value>) =
        entries.into_iter().partition(|entry| entry.get("bundle").is_some_and(Value::is_object));
    let mut facts = if bundled.is_empty() {
        Facts::new("attestation", "github-attestations")
    } else {
        crate::ingest::parse_attestations(&[(1, json!({ "attestations": bundled }))], origin, trust)?
    };
    if !bare.is_empty() {
        facts.warnings.push(format!(
            "{origin}: {} attestation(s) came without an inline bundle (only bundle_url); they are not checked and \
             never count as signed",
            bare.len()
        ));
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_sha256_digests_are_looked_up() {
        let good = format!("sha256:{}", "AB".repeat(32));
        assert_eq!(asset_digest(&json!({"digest": good})), Some(format!("sha256:{}", "ab".repeat(32))));
        for bad in ["sha256:abc", "sha512:00", "sha256:../../orgs/x", "", "sha256:"] {
            assert_eq!(asset_digest(&json!({ "digest": bad })), None, "{bad}");
        }
        assert_eq!(asset_digest(&json!({"digest": null})), None);
        assert_eq!(asset_digest(&json!({})), None);
    }

    #[test]
    fn an_empty_answer_and_entries_without_bundles_store_nothing_and_say_so() {
        let trust = TrustPolicy::default();
        let empty = attestation_facts(&json!({"attestations": []}), "o/r@sha256:x", &trust).unwrap();
        assert!(empty.attestations.is_empty() && empty.warnings.is_empty());
        let bare = attestation_facts(
            &json!({"attestations": [{"bundle_url": "https://example.invalid/b", "repository_id": 1}]}),
            "o/r@sha256:x",
            &trust,
        )
        .unwrap();
        assert!(bare.attestations.is_empty());
        assert!(bare.warnings[0].contains("without an inline bundle"), "{:?}", bare.warnings);
    }
}
