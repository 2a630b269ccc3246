//! The root hash of the bundle a new one follows (`--previous`), read back and checked against its own file list, so
//! quarters chain only onto a bundle that holds together.

use std::path::Path;

use anyhow::{Context, Result};

use super::archive::Archive;
use super::manifest::{root_hash, ManifestView, MANIFEST};
use crate::error::input_error;

/// The largest manifest read whole.
const MAX_MANIFEST_BYTES: u64 = 512 << 20;

/// The root hash of a previous bundle (zip, folder or its manifest.json), after checking it against its file list.
pub fn previous_root(path: &Path) -> Result<String> {
    let bytes = if path.file_name().is_some_and(|n| n == MANIFEST) {
        let metadata = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if !metadata.is_file() || metadata.len() > MAX_MANIFEST_BYTES {
            return Err(input_error(format!(
                "--previous {}: not a regular file of at most {} MiB",
                path.display(),
                MAX_MANIFEST_BYTES >> 20
            )));
        }
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
    } else {
        let (mut archive, present) = Archive::open(path, super::DEFAULT_MAX_UNPACKED_BYTES)
            .map_err(|problems| input_error(format!("--previous {}: {}", path.display(), problems.join("; "))))?;
        let listing = present
            .get(MANIFEST)
            .ok_or_else(|| input_error(format!("--previous {} has no manifest.json", path.display())))?;
        archive.read(MANIFEST, listing, MAX_MANIFEST_BYTES)?
    };
    let manifest: ManifestView = serde_json::from_slice(&bytes)
        .map_err(|e| input_error(format!("--previous {}: not a pipeproof manifest: {e}", path.display())))?;
    if root_hash(&manifest.files, manifest.format_version) != manifest.root_hash {
        return Err(input_error(format!(
            "--previous {}: its root hash does not match its file list; verify it before chaining to it",
            path.display()
        )));
    }
    Ok(manifest.root_hash)
}
