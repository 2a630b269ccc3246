//! Manual attestations (`attestations.yaml`): signed-off evidence for framework requirements that no automated
//! control reaches (access reviews, policies, training). They count only while valid.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::input_error;
use crate::store::sha256_hex;

/// One attestation as written in `attestations.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The framework id (e.g. `soc2`).
    pub framework: String,
    /// The requirement id within it (e.g. `CC1.4`).
    pub requirement: String,
    /// What is attested, in one or two sentences.
    pub statement: String,
    /// Who attests it (name and role).
    pub attested_by: String,
    /// When (UTC date or time).
    pub attested_at: String,
    /// Until when it counts (UTC date or time; a date means the end of that day).
    pub valid_until: String,
    /// The supporting document: a path relative to the attestations file.
    pub document: String,
    /// The document's sha256, so anyone can check it was not changed since.
    pub document_sha256: String,
}

/// An attestation's state at the moment evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttestationState {
    /// Counts for its requirement.
    Valid,
    /// Made after the moment evaluated.
    NotYetValid,
    /// Past `valid_until`: does not count.
    Expired,
    /// Unreadable, incomplete, or its document does not match its hash: does not count.
    Invalid,
}

/// An attestation entry judged at a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JudgedAttestation {
    /// Position in the file (1-based).
    pub entry: usize,
    /// The attestation, when readable.
    pub attestation: Option<Attestation>,
    /// Its state.
    pub state: AttestationState,
    /// Whether the document was found and matched its hash.
    pub document_verified: bool,
    /// A sentence for people.
    pub note: String,
}

/// Reads an attestations file and judges every entry as of `as_of`; one bad entry never discards the others.
pub fn load(path: &Path, as_of: NaiveDateTime) -> Result<Vec<JudgedAttestation>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read attestations file {}", path.display()))?;
    let entries: Vec<serde_json::Value> = serde_saphyr::from_str(&text)
        .map_err(|error| input_error(format!("{}: not a list of attestations: {error}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(entries.into_iter().enumerate().map(|(index, entry)| judge(index + 1, entry, as_of, base)).collect())
}

fn judge(entry: usize, value: serde_json::Value, as_of: NaiveDateTime, base: &Path) -> JudgedAttestation {
    let invalid = |note: String, attestation: Option<Attestation>| JudgedAttestation {
        entry,
        attestation,
        state: AttestationState::Invalid,
        document_verified: false,
        note,
    };
    let attestation: Attestation = match serde_json::from_value(value) {
        Ok(attestation) => attestation,
        Err(error) => return invalid(format!("entry {entry}: {error}"), None),
    };
    let (Some(attested_at), Ok(valid_until)) =
        (crate::time::parse_start(&attestation.attested_at), crate::time::parse_as_of(&attestation.valid_until))
    else {
        return invalid(
            format!("entry {entry}: attested_at and valid_until must be UTC dates or times"),
            Some(attestation),
        );
    };
    let document = base.join(&attestation.document);
    let document_verified = match std::fs::read(&document) {
        Ok(bytes) if sha256_hex(&bytes) == attestation.document_sha256.to_ascii_lowercase() => true,
        Ok(_) => {
            return invalid(
                format!(
                    "entry {entry}: {} does not match its sha256: the document changed after attestation",
                    attestation.document
                ),
                Some(attestation),
            )
        }
        Err(_) => false,
    };
    let (state, mut note) = if as_of > valid_until {
        (AttestationState::Expired, format!("expired {}", crate::time::display_utc(&valid_until)))
    } else if as_of < attested_at {
        (AttestationState::NotYetValid, format!("attested only on {}", crate::time::display_utc(&attested_at)))
    } else {
        (AttestationState::Valid, format!("valid until {}", crate::time::display_utc(&valid_until)))
    };
    if !document_verified {
        note.push_str(&format!("; document {} not found here, so its hash was not checked", attestation.document));
    }
    JudgedAttestation { entry, attestation: Some(attestation), state, document_verified, note }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_and_validity_is_judged_at_the_moment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.pdf"), b"policy v3").unwrap();
        let hash = sha256_hex(b"policy v3");
        let entry = |requirement: &str, valid_until: &str, sha: &str, document: &str| {
            format!(
                "- {{ framework: soc2, requirement: {requirement}, statement: s, attested_by: CISO, attested_at: 2026-07-01, \
                 valid_until: {valid_until}, document: {document}, document_sha256: \"{sha}\" }}\n"
            )
        };
        let text = [
            entry("CC1.4", "2027-06-30", &hash, "policy.pdf"),
            entry("CC1.5", "2026-08-31", &hash, "policy.pdf"),
            entry("CC2.1", "2027-06-30", &"0".repeat(64), "policy.pdf"),
            entry("CC2.2", "2027-06-30", &hash, "elsewhere/training.pdf"),
            "- { framework: soc2 }\n".to_string(),
        ]
        .concat();
        let path = dir.path().join("attestations.yaml");
        std::fs::write(&path, text).unwrap();
        let judged = load(&path, crate::time::parse_as_of("2026-09-30").unwrap()).unwrap();
        let states: Vec<AttestationState> = judged.iter().map(|j| j.state).collect();
        use AttestationState::*;
        assert_eq!(states, [Valid, Expired, Invalid, Valid, Invalid]);
        assert!(judged[0].document_verified);
        assert!(judged[2].note.contains("does not match its sha256"), "{}", judged[2].note);
        assert!(!judged[3].document_verified && judged[3].note.contains("not found"), "{}", judged[3].note);
    }
}
