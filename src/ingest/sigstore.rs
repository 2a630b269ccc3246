//! Sigstore bundles v0.1–v0.3 (also as JSON Lines and inside npm's attestations list), and DSSE envelopes that
//! embed their certificate: each subject becomes an attestation with its signer and what was verified.

use anyhow::Result;
use base64::Engine;
use serde_json::Value;

use super::intoto;
use super::json::{array, text};
use super::signature_check::{self, Material, TrustPolicy};
use crate::error::input_error;
use crate::facts::{Attestation, Facts};

/// Whether a document is a Sigstore bundle or an npm attestations list.
pub fn is_bundle(document: &Value) -> bool {
    text(document, "/mediaType").is_some_and(|media| media.contains("sigstore.bundle"))
}

/// Whether a document is npm's `{"attestations": [{predicateType, bundle}]}`.
pub fn is_npm_attestations(document: &Value) -> bool {
    array(document, "/attestations").first().is_some_and(|first| first.get("bundle").is_some_and(is_bundle))
}

/// Whether a document is a Sigstore trusted root (not evidence).
pub fn is_trusted_root(document: &Value) -> bool {
    text(document, "/mediaType").is_some_and(|media| media.contains("sigstore.trustedroot"))
}

/// Reads attestation documents (statements, envelopes, bundles), one per record of the file.
pub fn parse(records: &[(usize, Value)], origin: &str, policy: &TrustPolicy) -> Result<Facts> {
    let mut facts = Facts::new("attestation", "in-toto");
    let many = records.len() > 1;
    for (line, record) in records {
        let at = if many { format!("line {line}") } else { String::new() };
        if is_npm_attestations(record) {
            facts.format = "npm-attestations".into();
            for (index, attestation) in array(record, "/attestations").iter().enumerate() {
                let bundle = attestation.get("bundle").unwrap_or(&Value::Null);
                read_bundle(bundle, origin, &format!("{at}/attestations/{index}/bundle"), policy, &mut facts)?;
            }
        } else if is_bundle(record) {
            read_bundle(record, origin, &at, policy, &mut facts)?;
        } else if intoto::is_envelope(record) {
            facts.format = "dsse".into();
            read_envelope(record, origin, &at, policy, &mut facts)?;
        } else if intoto::is_statement(record) {
            facts.format = format!(
                "in-toto-statement-{}",
                text(record, "/_type").unwrap_or_default().rsplit('/').next().unwrap_or("")
            );
            facts.attestations.extend(intoto::attestations(record, "statement"));
        } else {
            return Err(input_error(format!(
                "{origin}: {}: expected an in-toto Statement, a DSSE envelope or a Sigstore bundle",
                if at.is_empty() { "the document".to_string() } else { at }
            )));
        }
    }
    for attestation in &facts.attestations {
        if attestation.verification.starts_with("FAILED") {
            facts.warnings.push(format!(
                "{origin}: {}: {} — stored, but it never counts as signed",
                attestation.artifact.as_deref().unwrap_or("attestation"),
                attestation.verification.split("; ").filter(|s| s.starts_with("FAILED")).collect::<Vec<_>>().join("; ")
            ));
        }
    }
    facts.warnings.dedup();
    Ok(facts)
}

fn read_envelope(envelope: &Value, origin: &str, at: &str, policy: &TrustPolicy, facts: &mut Facts) -> Result<()> {
    let decoded = intoto::decode_envelope(envelope, origin, at)?;
    let attestations = intoto::envelope_attestations(&decoded, "dsse", origin, at)?;
    let chain: Vec<Vec<u8>> = decoded
        .signatures
        .iter()
        .filter_map(|(_, _, pem)| pem.as_deref().and_then(signature_check::pem_to_der))
        .take(1)
        .collect();
    let keyid = decoded.signatures.first().and_then(|(keyid, _, _)| keyid.clone()).filter(|k| !k.is_empty());
    let material = Material {
        chain,
        signed_at: None,
        dsse: Some((&decoded.payload_type, &decoded.payload)),
        signatures: decoded.signatures.iter().map(|(_, sig, _)| sig.clone()).collect(),
        public_key_hint: Some(keyid.unwrap_or_else(|| "no key id".into())),
    };
    let checked = signature_check::check(&material, policy);
    for attestation in attestations {
        facts.attestations.push(signed(attestation, &material, &checked, None));
    }
    Ok(())
}

fn read_bundle(bundle: &Value, origin: &str, at: &str, policy: &TrustPolicy, facts: &mut Facts) -> Result<()> {
    let media = text(bundle, "/mediaType").unwrap_or_default();
    let version = media
        .split_once("version=")
        .map(|(_, v)| v.to_string())
        .or_else(|| media.split(".bundle.v").nth(1).map(|v| v.trim_end_matches("+json").to_string()))
        .unwrap_or_else(|| "?".into());
    let envelope_name = format!("sigstore-bundle-{version}");
    facts.format = envelope_name.clone();
    let engine = base64::engine::general_purpose::STANDARD;
    let material_json = bundle.get("verificationMaterial").unwrap_or(&Value::Null);
    let mut chain = Vec::new();
    for (index, certificate) in array(material_json, "/x509CertificateChain/certificates")
        .iter()
        .chain(material_json.get("certificate"))
        .enumerate()
    {
        chain.push(engine.decode(text(certificate, "/rawBytes").unwrap_or_default()).map_err(|error| {
            input_error(format!(
                "{origin}: {at}/verificationMaterial certificate {index}: expected base64 DER: {error}"
            ))
        })?);
    }
    let signed_at = signature_check::integrated_time(material_json);
    let log_index =
        array(material_json, "/tlogEntries").first().and_then(|entry| text(entry, "/logIndex")?.parse().ok());
    let public_key_hint = text(material_json, "/publicKey/hint");
    if let Some(envelope) = bundle.get("dsseEnvelope") {
        let decoded = intoto::decode_envelope(envelope, origin, &format!("{at}/dsseEnvelope"))?;
        let attestations =
            intoto::envelope_attestations(&decoded, &envelope_name, origin, &format!("{at}/dsseEnvelope"))?;
        let material = Material {
            chain,
            signed_at,
            dsse: Some((&decoded.payload_type, &decoded.payload)),
            signatures: decoded.signatures.iter().map(|(_, sig, _)| sig.clone()).collect(),
            public_key_hint,
        };
        let checked = signature_check::check(&material, policy);
        for attestation in attestations {
            facts.attestations.push(signed(attestation, &material, &checked, log_index));
        }
    } else if let Some(message) = bundle.get("messageSignature") {
        let signature = engine.decode(text(message, "/signature").unwrap_or_default()).unwrap_or_default();
        let material = Material {
            chain,
            signed_at,
            dsse: None,
            signatures: vec![signature].into_iter().filter(|s| !s.is_empty()).collect(),
            public_key_hint,
        };
        let checked = signature_check::check(&material, policy);
        let digest = text(message, "/messageDigest/digest").and_then(|digest| engine.decode(digest).ok());
        let sha256 = (text(message, "/messageDigest/algorithm").as_deref() == Some("SHA2_256"))
            .then(|| digest.map(|bytes| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
            .flatten();
        let attestation = Attestation {
            envelope: envelope_name,
            artifact_sha256: sha256,
            verification: String::new(),
            ..Attestation::default()
        };
        facts.attestations.push(signed(attestation, &material, &checked, log_index));
    } else {
        let material = Material { chain, signed_at, dsse: None, signatures: Vec::new(), public_key_hint };
        let mut checked = signature_check::check(&material, policy);
        checked.verification =
            format!("FAILED: the bundle has neither a DSSE envelope nor a message signature; {}", checked.verification);
        let attestation =
            Attestation { envelope: envelope_name, verification: String::new(), ..Attestation::default() };
        facts.attestations.push(signed(attestation, &material, &checked, log_index));
    }
    Ok(())
}

fn signed(
    attestation: Attestation,
    material: &Material,
    checked: &signature_check::Checked,
    log_index: Option<i64>,
) -> Attestation {
    Attestation {
        signer_identity: checked.identity.clone(),
        signer_issuer: checked.issuer.clone(),
        rekor_log_index: log_index,
        signature_count: material.signatures.len(),
        verified: checked.verified,
        verification: checked.verification.clone(),
        ..attestation
    }
}
