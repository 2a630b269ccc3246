//! Checking Sigstore-style signatures offline: the certificate's identity and issuer, the DSSE signature against
//! the certificate's key, the certificate's validity at the transparency-log time, the chain to a trusted root,
//! and the signer against the identities the organisation expects.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use base64::Engine;
use chrono::DateTime;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde_json::Value;
use x509_cert::der::{Decode, DecodePem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

use super::json::{array, text};
use crate::error::input_error;

/// The codeSigning extended key usage (1.3.6.1.5.5.7.3.3), as DER content bytes.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// Fulcio's OIDC issuer extensions: the legacy raw string and the DER UTF8String form.
const FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";

/// What the organisation trusts: Sigstore CA certificates and the signer identities it expects.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    /// DER certificates of trusted CAs: (chain without the root, root).
    authorities: Vec<(Vec<Vec<u8>>, Vec<u8>)>,
    /// Glob patterns a signer identity must match (any), when not empty.
    signers: Vec<String>,
}

impl TrustPolicy {
    /// A policy from an optional Sigstore trusted-root file and signer identity patterns.
    pub fn load(trusted_root: Option<&Path>, signers: &[String]) -> Result<TrustPolicy> {
        let mut policy = TrustPolicy { authorities: Vec::new(), signers: signers.to_vec() };
        let Some(path) = trusted_root else { return Ok(policy) };
        let bytes = std::fs::read(path).with_context(|| format!("cannot read trusted root {}", path.display()))?;
        let origin = path.display().to_string();
        let root = super::json::parse_document(&bytes, &origin, "a Sigstore trusted root (trusted_root.json)")?;
        if !text(&root, "/mediaType").is_some_and(|m| m.contains("sigstore.trustedroot")) {
            return Err(input_error(format!(
                "{origin}: at /mediaType: expected application/vnd.dev.sigstore.trustedroot+json"
            )));
        }
        let engine = base64::engine::general_purpose::STANDARD;
        for (index, authority) in array(&root, "/certificateAuthorities").iter().enumerate() {
            let mut chain = Vec::new();
            for certificate in array(authority, "/certChain/certificates") {
                chain.push(engine.decode(text(certificate, "/rawBytes").unwrap_or_default()).map_err(|error| {
                    input_error(format!("{origin}: at /certificateAuthorities/{index}: expected base64 DER: {error}"))
                })?);
            }
            if let Some(anchor) = chain.pop() {
                policy.authorities.push((chain, anchor));
            }
        }
        Ok(policy)
    }
}

/// The outcome of checking one signed envelope.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The certificate's identity (SAN URI, e-mail or other name).
    pub identity: Option<String>,
    /// The OIDC issuer recorded in the certificate.
    pub issuer: Option<String>,
    /// Whether every check held (signature, time, chain and expected signer).
    pub verified: bool,
    /// What was checked and how it went, in one sentence per check.
    pub verification: String,
    /// A failure worth a warning (a check that ran and failed, or missing material).
    pub failure: Option<String>,
}

/// What one envelope offers for checking.
pub struct Material<'a> {
    /// The leaf certificate (DER) and any further chain certificates.
    pub chain: Vec<Vec<u8>>,
    /// The transparency-log integrated time, when the file has one.
    pub signed_at: Option<i64>,
    /// The DSSE envelope's payload type and payload, when the content is an envelope.
    pub dsse: Option<(&'a str, &'a [u8])>,
    /// The signatures over the content.
    pub signatures: Vec<Vec<u8>>,
    /// Whether a public key (not a certificate) is the verification material.
    pub public_key_hint: Option<String>,
}

/// Checks what can be checked offline; never fails, it reports.
pub fn check(material: &Material, policy: &TrustPolicy) -> Checked {
    let mut notes = Vec::new();
    let mut failures = Vec::new();
    let mut checked = Checked::default();
    if material.signatures.is_empty() {
        failures.push("no signature".to_string());
    } else if material.signatures.len() > 1 {
        failures.push(format!("{} signatures where a Sigstore bundle allows exactly one", material.signatures.len()));
    }
    let leaf = match material.chain.first() {
        Some(der) => match Certificate::from_der(der) {
            Ok(certificate) => Some(certificate),
            Err(error) => {
                failures.push(format!("the certificate cannot be parsed: {error}"));
                None
            }
        },
        None => {
            match &material.public_key_hint {
                Some(hint) => notes.push(format!("signed with a public key ({hint}) that the file does not contain")),
                None => failures.push("no verification material (certificate or public key)".to_string()),
            }
            None
        }
    };
    let mut signature_ok = false;
    let mut time_ok = false;
    let mut chain_ok = false;
    if let Some(certificate) = &leaf {
        let (identity, issuer) = identity_of(certificate);
        checked.identity = identity;
        checked.issuer = issuer;
        match (material.dsse, material.signatures.first()) {
            (Some((payload_type, payload)), Some(signature)) => {
                if verify_dsse(certificate, payload_type, payload, signature) {
                    signature_ok = true;
                    notes.push("DSSE signature verified against the certificate's key".into());
                } else {
                    failures.push("the DSSE signature does not verify against the certificate's key".into());
                }
            }
            (None, Some(_)) => notes.push(
                "message signature not checked: it signs the artifact itself, which the file does not contain".into(),
            ),
            _ => {}
        }
        let validity = certificate.tbs_certificate().validity();
        let not_before = validity.not_before.to_unix_duration().as_secs() as i64;
        let not_after = validity.not_after.to_unix_duration().as_secs() as i64;
        match material.signed_at {
            Some(moment) if moment < not_before || moment > not_after => failures.push(format!(
                "the certificate was not valid when signed: valid {} to {}, logged {}",
                show(not_before),
                show(not_after),
                show(moment)
            )),
            Some(_) => {
                time_ok = true;
                notes.push(
                    "certificate valid at the transparency-log time (the log's inclusion proof is not checked)".into(),
                );
            }
            None => notes.push(format!(
                "signing time unknown (no transparency-log entry): certificate validity {} to {} not checked",
                show(not_before),
                show(not_after)
            )),
        }
        if policy.authorities.is_empty() {
            notes.push("certificate chain not checked (no --trusted-root given)".into());
        } else if let Some(moment) = material.signed_at {
            match verify_chain(&material.chain, moment, policy) {
                Ok(()) => {
                    chain_ok = true;
                    notes.push("certificate chains to the trusted root".into());
                }
                Err(reason) => failures.push(format!("the certificate does not chain to the trusted root: {reason}")),
            }
        }
        if !policy.signers.is_empty() {
            let matches = checked
                .identity
                .as_deref()
                .is_some_and(|identity| policy.signers.iter().any(|p| crate::glob::matches(p, identity)));
            if !matches {
                failures.push(format!(
                    "signed by {}, which is not an expected signer ({})",
                    checked.identity.as_deref().unwrap_or("an unnamed identity"),
                    policy.signers.join(", ")
                ));
            }
        }
    }
    checked.verified = failures.is_empty() && signature_ok && time_ok && chain_ok;
    checked.failure = (!failures.is_empty()).then(|| failures.join("; "));
    let mut sentences = failures.iter().map(|f| format!("FAILED: {f}")).collect::<Vec<_>>();
    sentences.extend(notes);
    if !checked.verified && checked.failure.is_none() {
        sentences.push("not counted as verified: signature, signing time and chain must all be checked".into());
    }
    checked.verification = sentences.join("; ");
    checked
}

fn show(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .map(|moment| crate::time::display_utc(&moment.naive_utc()))
        .unwrap_or_else(|| seconds.to_string())
}

/// Parses a PEM certificate embedded in a DSSE signature (`cert`), as DER.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let certificate = Certificate::from_pem(pem.as_bytes()).ok()?;
    x509_cert::der::Encode::to_der(&certificate).ok()
}

fn identity_of(certificate: &Certificate) -> (Option<String>, Option<String>) {
    let tbs = certificate.tbs_certificate();
    let identity = tbs.get_extension::<SubjectAltName>().ok().flatten().and_then(|(_, names)| {
        names.0.iter().find_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            GeneralName::Rfc822Name(mail) => Some(mail.to_string()),
            GeneralName::DnsName(dns) => Some(dns.to_string()),
            GeneralName::OtherName(other) => {
                other.value.decode_as::<x509_cert::der::asn1::Utf8StringRef>().ok().map(|s| s.to_string())
            }
            _ => None,
        })
    });
    let issuer = tbs.extensions().into_iter().flatten().find_map(|extension| {
        let bytes = extension.extn_value.as_bytes();
        match extension.extn_id.to_string().as_str() {
            FULCIO_ISSUER_V2 => x509_cert::der::asn1::Utf8StringRef::from_der(bytes).ok().map(|s| s.to_string()),
            FULCIO_ISSUER_V1 => std::str::from_utf8(bytes).ok().map(str::to_string),
            _ => None,
        }
    });
    (identity, issuer)
}

fn verify_dsse(certificate: &Certificate, payload_type: &str, payload: &[u8], signature: &[u8]) -> bool {
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, ED25519};
    let mut message = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    message.extend_from_slice(payload);
    let info = certificate.tbs_certificate().subject_public_key_info();
    let key = info.subject_public_key.raw_bytes();
    let curve =
        info.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok());
    let algorithms: &[&dyn aws_lc_rs::signature::VerificationAlgorithm] = match curve.map(|c| c.to_string()).as_deref()
    {
        Some("1.2.840.10045.3.1.7") => &[&ECDSA_P256_SHA256_ASN1],
        Some("1.3.132.0.34") => &[&ECDSA_P384_SHA384_ASN1],
        _ => &[&ED25519],
    };
    algorithms.iter().any(|algorithm| UnparsedPublicKey::new(*algorithm, key).verify(&message, signature).is_ok())
}

fn verify_chain(chain: &[Vec<u8>], signed_at: i64, policy: &TrustPolicy) -> std::result::Result<(), String> {
    let leaf_der = CertificateDer::from(chain[0].as_slice());
    let leaf = webpki::EndEntityCert::try_from(&leaf_der).map_err(|error| format!("{error:?}"))?;
    let anchors = policy
        .authorities
        .iter()
        .map(|(_, root)| webpki::anchor_from_trusted_cert(&CertificateDer::from(root.as_slice())).map(|a| a.to_owned()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| format!("a trusted root certificate is unusable: {error:?}"))?;
    let intermediates: Vec<CertificateDer> = chain[1..]
        .iter()
        .chain(policy.authorities.iter().flat_map(|(intermediates, _)| intermediates))
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let time = UnixTime::since_unix_epoch(Duration::from_secs(signed_at.max(0) as u64));
    leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        time,
        webpki::KeyUsage::required(CODE_SIGNING),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|error| format!("{error:?}"))
}

/// The integrated time of a bundle's first transparency-log entry.
pub fn integrated_time(material: &Value) -> Option<i64> {
    array(material, "/tlogEntries").first().and_then(|entry| match entry.get("integratedTime")? {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    })
}
