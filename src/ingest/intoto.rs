//! in-toto Statements v0.1 and v1, raw or in a DSSE envelope, with SLSA provenance v0.2 and v1 predicates.

use anyhow::Result;
use base64::Engine;
use serde_json::Value;

use super::json::{array, first_text, text};
use crate::error::input_error;
use crate::facts::Attestation;

/// The DSSE payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD: &str = "application/vnd.in-toto+json";

/// Whether a document is an in-toto Statement.
pub fn is_statement(document: &Value) -> bool {
    text(document, "/_type").is_some_and(|kind| kind.starts_with("https://in-toto.io/Statement/"))
}

/// Whether a document is a DSSE envelope.
pub fn is_envelope(document: &Value) -> bool {
    document.get("payload").is_some_and(Value::is_string) && document.get("signatures").is_some()
}

/// A DSSE envelope, decoded.
pub struct Envelope {
    /// The payload type.
    pub payload_type: String,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// The signatures: (keyid, raw signature bytes, certificate PEM when embedded).
    pub signatures: Vec<(Option<String>, Vec<u8>, Option<String>)>,
}

/// Decodes a DSSE envelope; `at` names where it sits in the file for errors.
pub fn decode_envelope(envelope: &Value, origin: &str, at: &str) -> Result<Envelope> {
    let engine = base64::engine::general_purpose::STANDARD;
    let payload_type = text(envelope, "/payloadType").unwrap_or_else(|| IN_TOTO_PAYLOAD.into());
    let payload = engine
        .decode(text(envelope, "/payload").unwrap_or_default())
        .map_err(|error| input_error(format!("{origin}: at {at}/payload: expected base64: {error}")))?;
    let mut signatures = Vec::new();
    for (index, signature) in array(envelope, "/signatures").iter().enumerate() {
        let raw = engine.decode(text(signature, "/sig").unwrap_or_default()).map_err(|error| {
            input_error(format!("{origin}: at {at}/signatures/{index}/sig: expected base64: {error}"))
        })?;
        signatures.push((text(signature, "/keyid"), raw, text(signature, "/cert")));
    }
    Ok(Envelope { payload_type, payload, signatures })
}

/// The attestations an envelope carries: one per statement subject, or one row naming the payload type when the
/// payload is not an in-toto statement (its signature is still checked and recorded).
pub fn envelope_attestations(envelope: &Envelope, name: &str, origin: &str, at: &str) -> Result<Vec<Attestation>> {
    if envelope.payload_type != IN_TOTO_PAYLOAD {
        return Ok(vec![Attestation {
            envelope: name.to_string(),
            statement_type: Some(format!("payload {}", envelope.payload_type)),
            ..Attestation::default()
        }]);
    }
    Ok(attestations(&statement_of(envelope, origin, at)?, name))
}

fn statement_of(envelope: &Envelope, origin: &str, at: &str) -> Result<Value> {
    let statement: Value = serde_json::from_slice(&envelope.payload)
        .map_err(|error| input_error(format!("{origin}: at {at}/payload: the decoded payload is not JSON: {error}")))?;
    if !is_statement(&statement) {
        return Err(input_error(format!(
            "{origin}: at {at}/payload: expected an in-toto Statement (_type https://in-toto.io/Statement/v0.1 or v1)"
        )));
    }
    Ok(statement)
}

/// One attestation row per subject of a statement, with its provenance fields; verification is filled in later.
pub fn attestations(statement: &Value, envelope: &str) -> Vec<Attestation> {
    let predicate = statement.get("predicate").unwrap_or(&Value::Null);
    let (source_repo, source_ref, source_digest) = source_of(predicate);
    let template = Attestation {
        envelope: envelope.to_string(),
        statement_type: text(statement, "/_type"),
        predicate_type: text(statement, "/predicateType"),
        builder_id: first_text(predicate, &["/runDetails/builder/id", "/builder/id", "/verifier/id"]),
        build_type: first_text(predicate, &["/buildDefinition/buildType", "/buildType"]),
        source_repo,
        source_ref,
        source_digest,
        verification: "not signed: a bare statement carries no signature".into(),
        ..Attestation::default()
    };
    let subjects = array(statement, "/subject");
    if subjects.is_empty() {
        return vec![template];
    }
    subjects
        .iter()
        .map(|subject| Attestation {
            artifact: text(subject, "/name"),
            artifact_sha256: text(subject, "/digest/sha256"),
            ..template.clone()
        })
        .collect()
}

/// The source repository, ref and commit a provenance predicate names.
fn source_of(predicate: &Value) -> (Option<String>, Option<String>, Option<String>) {
    if let Some(workflow) = predicate.pointer("/buildDefinition/externalParameters/workflow") {
        let digest = array(predicate, "/buildDefinition/resolvedDependencies")
            .first()
            .and_then(|dependency| first_text(dependency, &["/digest/gitCommit", "/digest/sha1"]));
        return (text(workflow, "/repository"), text(workflow, "/ref"), digest);
    }
    let uri = first_text(
        predicate,
        &[
            "/invocation/configSource/uri",
            "/buildDefinition/resolvedDependencies/0/uri",
            "/materials/0/uri",
            "/buildDefinition/externalParameters/source/uri",
        ],
    );
    let digest = first_text(
        predicate,
        &[
            "/invocation/configSource/digest/sha1",
            "/buildDefinition/resolvedDependencies/0/digest/gitCommit",
            "/buildDefinition/resolvedDependencies/0/digest/sha1",
            "/materials/0/digest/sha1",
        ],
    );
    match uri {
        Some(uri) => {
            let uri = uri.trim_start_matches("git+").to_string();
            match uri.rsplit_once('@') {
                Some((repo, reference)) if reference.starts_with("refs/") => {
                    (Some(repo.to_string()), Some(reference.to_string()), digest)
                }
                _ => (Some(uri), None, digest),
            }
        }
        None => (None, None, digest),
    }
}
