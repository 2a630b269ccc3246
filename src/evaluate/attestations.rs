//! Manual attestations (`attestations.yaml`): signed-off evidence for a framework requirement that no automated
//! control reaches (policies, training), or for a control that is decided by a sign-off (an access review). They
//! count only while valid.

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
    /// The framework id (e.g. `soc2`), with `requirement`; not with `control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// The requirement id within the framework (e.g. `CC1.4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// The control it is evidence for (e.g. `MON-04`): only controls that read `manual_attestations` take one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// With `control`: the resources it covers, a name or a pattern with `*` and `?` (default: every resource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
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
    /// Counts for what it covers.
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

/// What an attestation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers<'a> {
    /// A framework requirement: (framework id, requirement id).
    Requirement(&'a str, &'a str),
    /// A control, for the resources matching the pattern.
    Control(&'a str, &'a str),
}

impl Attestation {
    /// What it covers, or why it names nothing (or too much) to cover.
    pub fn covers(&self) -> Result<Covers<'_>, &'static str> {
        match (&self.framework, &self.requirement, &self.control) {
            (Some(framework), Some(requirement), None) if self.resource.is_none() => {
                Ok(Covers::Requirement(framework, requirement))
            }
            (None, None, Some(control)) => Ok(Covers::Control(control, self.resource.as_deref().unwrap_or("*"))),
            (Some(_), Some(_), None) => Err("resource applies only to an attestation for a control"),
            (None, None, None) => Err("name either a control, or a framework and a requirement"),
            (_, _, Some(_)) => Err("name either a control, or a framework and a requirement, not both"),
            _ => Err("a framework and a requirement go together"),
        }
    }

    /// What it covers, for people: `soc2 CC1.4` or `control MON-04` (with the resources, when limited).
    pub fn subject(&self) -> String {
        match self.covers() {
            Ok(Covers::Requirement(framework, requirement)) => format!("{framework} {requirement}"),
            Ok(Covers::Control(control, "*")) => format!("control {control}"),
            Ok(Covers::Control(control, resource)) => format!("control {control} for {resource}"),
            Err(_) => String::new(),
        }
    }
}

/// Reads an attestations file and judges every entry as of `as_of`; one bad entry never discards the others.
pub fn load(path: &Path, as_of: NaiveDateTime) -> Result<Vec<JudgedAttestation>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read attestations file {}", path.display()))?;
    let entries: Vec<serde_json::Value> = serde_saphyr::from_str(&text)
        .map_err(|error| input_error(format!("{}: not a list of attestations: {error}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(entries.into_iter().enumerate().map(|(index, entry)| judge_entry(index + 1, entry, as_of, base)).collect())
}

fn judge_entry(entry: usize, value: serde_json::Value, as_of: NaiveDateTime, base: &Path) -> JudgedAttestation {
    match serde_json::from_value(value) {
        Ok(attestation) => judge(entry, attestation, as_of, base),
        Err(error) => JudgedAttestation {
            entry,
            attestation: None,
            state: AttestationState::Invalid,
            document_verified: false,
            note: format!("entry {entry}: {error}"),
        },
    }
}

/// Judges one attestation as of `as_of`, its document looked up relative to `base`.
pub fn judge(entry: usize, attestation: Attestation, as_of: NaiveDateTime, base: &Path) -> JudgedAttestation {
    let invalid = |note: String, attestation: Option<Attestation>| JudgedAttestation {
        entry,
        attestation,
        state: AttestationState::Invalid,
        document_verified: false,
        note,
    };
    if let Err(problem) = attestation.covers() {
        return invalid(format!("entry {entry}: {problem}"), Some(attestation));
    }
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
            format!(
                "- {{ control: MON-04, resource: \"acme-*\", statement: s, attested_by: CISO, attested_at: 2026-07-01, \
                 valid_until: 2026-12-31, document: policy.pdf, document_sha256: \"{hash}\" }}\n"
            ),
            format!(
                "- {{ control: MON-04, framework: soc2, requirement: CC6.2, statement: s, attested_by: CISO, \
                 attested_at: 2026-07-01, valid_until: 2026-12-31, document: policy.pdf, document_sha256: \"{hash}\" }}\n"
            ),
        ]
        .concat();
        let path = dir.path().join("attestations.yaml");
        std::fs::write(&path, text).unwrap();
        let judged = load(&path, crate::time::parse_as_of("2026-09-30").unwrap()).unwrap();
        let states: Vec<AttestationState> = judged.iter().map(|j| j.state).collect();
        use AttestationState::*;
        assert_eq!(states, [Valid, Expired, Invalid, Valid, Invalid, Valid, Invalid]);
        assert_eq!(judged[5].attestation.as_ref().unwrap().subject(), "control MON-04 for acme-*");
        assert!(judged[6].note.contains("not both"), "{}", judged[6].note);
        assert!(judged[0].document_verified);
        assert!(judged[2].note.contains("does not match its sha256"), "{}", judged[2].note);
        assert!(!judged[3].document_verified && judged[3].note.contains("not found"), "{}", judged[3].note);
    }
}
