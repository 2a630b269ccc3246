//! Evidence bundles for auditors: everything one evaluation rests on, hashed into a manifest, optionally signed
//! (minisign-compatible), written as a deterministic zip or a folder, and verified offline without a store.

mod archive;
mod contents;
pub mod manifest;
mod packages;
mod previous;
mod record;
pub mod signature;
mod verify;
pub mod vsa;
mod write;

pub use contents::{assemble, Content, Contents, Entry, RenderOptions};
pub use manifest::Manifest;
pub use previous::previous_root;
pub use verify::{verify, Problem, SignatureCheck, Verification};
pub use write::write;

/// The default bound on a zip's total uncompressed size when verifying (64 GiB).
pub const DEFAULT_MAX_UNPACKED_BYTES: u64 = 64 << 30;

/// Assembles, optionally signs, writes and records in the store the bundle of one evaluation; returns its manifest
/// and whether it was signed.
pub fn create(
    store: &crate::store::Store,
    evaluation_id: i64,
    options: &RenderOptions<'_>,
    sign_with: Option<(&std::path::Path, signature::Password<'_>)>,
    output: &std::path::Path,
) -> anyhow::Result<(Manifest, bool)> {
    let conn = store.conn();
    let key = sign_with.map(|(file, password)| signature::SigningKey::load(file, password)).transpose()?;
    let contents = assemble(conn, evaluation_id, options, key.as_ref())?;
    let manifest = &contents.manifest;
    let signature = match &key {
        Some(key) => {
            let period = manifest.period.as_ref().map(|p| p.label.as_str()).unwrap_or("as-of");
            let comment = format!(
                "pipeproof bundle of {} {period} evaluation {} root_hash:{}",
                manifest.organisation, manifest.evaluation_id, manifest.root_hash
            );
            let comment: String = comment.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            Some(key.sign(&manifest.to_bytes()?, &comment)?)
        }
        None => None,
    };
    write(conn, &contents, signature.as_ref().map(|signed| signed.text.as_str()), output)?;
    record::record(store, &contents.manifest, signature.as_ref().map(|signed| signed.key_id.as_str()), output)?;
    Ok((contents.manifest, signature.is_some()))
}
