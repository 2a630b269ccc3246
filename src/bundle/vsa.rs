//! SLSA source-track Verification Summary Attestations (`https://slsa.dev/verification_summary/v1`), one per
//! repository and evaluation: an in-toto Statement about the latest revision known on the repository's default
//! branch, stating the highest SLSA source level the evaluation found met, wrapped in a DSSE envelope signed with
//! the bundle's key (plain Ed25519, so `pipeproof verify` and stock in-toto or cosign tooling check it offline with
//! the public key as PEM, `vsa/signing-key.pem`). The subject's address comes from the repository's pull requests as
//! the API gave them, accepted only as a plain `https` address of exactly that repository. A repository with no known
//! revision or address gets no attestation (its subject would be incomplete); `vsa/index.json` says why.

use std::collections::BTreeMap;

use anyhow::Result;
use base64::Engine;
use serde_json::{json, Value};

use super::signature::{public_pem, verify_ed25519, SigningKey};
use crate::evaluate::subjects::Revision;
use crate::report::ReportModel;

/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The predicate type of a verification summary.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The framework whose levels the summaries state.
const FRAMEWORK: &str = "slsa";

/// DSSE's pre-authentication encoding of a payload: what is signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The bundle file of a repository's attestation: its name made safe, and a hash so two names never collide.
pub fn file_for(repo: &str) -> String {
    let safe: String =
        repo.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') { c } else { '_' }).collect();
    let hash = crate::store::sha256_hex(repo.as_bytes());
    format!("vsa/{safe}-{}.dsse.json", &hash[..8])
}

/// The signed attestations, their index and the public key, as (bundle path, bytes); nothing when the model has no
/// SLSA source levels.
pub fn attestations(
    model: &ReportModel,
    revisions: &BTreeMap<String, Revision>,
    key: &SigningKey,
) -> Result<Vec<(String, Vec<u8>)>> {
    let Some(levels) = model.frameworks.iter().find(|f| f.id == FRAMEWORK).and_then(|f| f.levels.as_ref()) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    let mut index = Vec::new();
    for repository in &levels.repositories {
        let known = revisions.get(&repository.repository).and_then(|r| r.web_url.as_ref().map(|url| (r, url)));
        let Some((revision, web_url)) = known else {
            index.push(json!({
                "repository": repository.repository,
                "level": repository.level_name,
                "attestation": null,
                "why": "no revision of its default branch, or no web address of the repository, is known (no change \
                        merged into it was collected), so the attestation would have no subject",
            }));
            continue;
        };
        let uri = format!("git+{web_url}");
        let verified = repository.level >= 1;
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{
                "uri": uri,
                "digest": { "gitCommit": revision.commit },
                "annotations": { "sourceRefs": [format!("refs/heads/{}", revision.branch)] },
            }],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "verifier": { "id": "https://pipeproof.dev/verifier", "version": { "pipeproof": model.tool_version } },
                "timeVerified": model.as_of_iso,
                "resourceUri": uri,
                "policy": {
                    "uri": "https://pipeproof.dev/policy/slsa-source-v1.2",
                    "digest": { "sha256": model.catalogue_sha256 },
                },
                "verificationResult": if verified { "PASSED" } else { "FAILED" },
                "verifiedLevels": if verified {
                    vec![format!("SLSA_SOURCE_LEVEL_{}", repository.level)]
                } else {
                    Vec::new()
                },
                "slsaVersion": "1.2",
            },
        });
        let payload = serde_json::to_vec(&statement)?;
        let signature = key.sign_ed25519(&pae(PAYLOAD_TYPE, &payload))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let envelope = json!({
            "payloadType": PAYLOAD_TYPE,
            "payload": b64.encode(&payload),
            "signatures": [{ "keyid": key.key_id(), "sig": b64.encode(signature) }],
        });
        let file = file_for(&repository.repository);
        index.push(json!({
            "repository": repository.repository,
            "level": repository.level_name,
            "revision": revision.commit,
            "attestation": file,
        }));
        files.push((file, (serde_json::to_string_pretty(&envelope)? + "\n").into_bytes()));
    }
    let index = json!({
        "predicateType": PREDICATE_TYPE,
        "key_id": key.key_id(),
        "public_key": "vsa/signing-key.pem",
        "check_with": "pipeproof verify BUNDLE --pubkey KEY.pub; or any DSSE/in-toto verifier with vsa/signing-key.pem \
                       (after checking it is the key you trust)",
        "repositories": index,
    });
    files.push(("vsa/index.json".into(), (serde_json::to_string_pretty(&index)? + "\n").into_bytes()));
    files.push(("vsa/signing-key.pem".into(), public_pem(key.public()).into_bytes()));
    Ok(files)
}

/// Checks one envelope's signature with the trusted key and that it states a verification summary; the problem in
/// words otherwise.
pub fn check(envelope: &[u8], public: &minisign::PublicKey) -> Result<(), String> {
    let envelope: Value = serde_json::from_slice(envelope).map_err(|e| format!("not a DSSE envelope: {e}"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload_type = envelope["payloadType"].as_str().ok_or("no payloadType")?;
    let payload = b64.decode(envelope["payload"].as_str().ok_or("no payload")?).map_err(|e| format!("payload: {e}"))?;
    let signatures = envelope["signatures"].as_array().filter(|s| !s.is_empty()).ok_or("no signatures")?;
    let message = pae(payload_type, &payload);
    let signed = signatures.iter().any(|s| {
        s["sig"].as_str().and_then(|sig| b64.decode(sig).ok()).is_some_and(|sig| verify_ed25519(&message, &sig, public))
    });
    if !signed {
        return Err("no signature verifies with the given public key".into());
    }
    let statement: Value = serde_json::from_slice(&payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    if payload_type != PAYLOAD_TYPE || statement["predicateType"] != PREDICATE_TYPE {
        return Err("not an in-toto verification summary".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::signature::{keygen, load_public, Password};

    #[test]
    fn an_envelope_verifies_with_its_key_only_and_not_after_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let files = keygen(&dir.path().join("k"), Password::None, false).unwrap();
        let key = SigningKey::load(&files.secret, Password::None).unwrap();
        let payload = serde_json::to_vec(&json!({ "predicateType": PREDICATE_TYPE, "subject": [] })).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let envelope = |payload: &[u8], sig: &[u8]| {
            serde_json::to_vec(&json!({
                "payloadType": PAYLOAD_TYPE,
                "payload": b64.encode(payload),
                "signatures": [{ "keyid": key.key_id(), "sig": b64.encode(sig) }],
            }))
            .unwrap()
        };
        let signature = key.sign_ed25519(&pae(PAYLOAD_TYPE, &payload)).unwrap();
        let public = load_public(files.public.to_str().unwrap()).unwrap();
        assert_eq!(check(&envelope(&payload, &signature), &public), Ok(()));
        let forged = serde_json::to_vec(&json!({ "predicateType": PREDICATE_TYPE, "subject": [{}] })).unwrap();
        assert!(check(&envelope(&forged, &signature), &public).unwrap_err().contains("no signature verifies"));
        let other = keygen(&dir.path().join("other"), Password::None, false).unwrap();
        let other = load_public(other.public.to_str().unwrap()).unwrap();
        assert!(check(&envelope(&payload, &signature), &other).is_err());
        assert!(check(b"{}", &public).is_err());
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert!(file_for("acme/web-app").starts_with("vsa/acme_web-app-"));
        assert_ne!(file_for("a/b_c"), file_for("a_b/c"));
        assert!(!file_for("../../etc/passwd").contains(".."));
    }
}
