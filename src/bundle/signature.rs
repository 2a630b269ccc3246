//! minisign-compatible keys and signatures (Ed25519, prehashed), so an auditor can check a bundle with pipeproof
//! or with the stock `minisign -V` tool. The secret key is encrypted with a password (scrypt, as minisign does).

use std::io::{Cursor, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};

use crate::error::input_error;

/// The key files `keygen` wrote.
pub struct KeyFiles {
    /// The secret key file.
    pub secret: PathBuf,
    /// The public key file (`<secret>.pub`).
    pub public: PathBuf,
    /// The key id, as minisign prints it.
    pub key_id: String,
}

/// The result of checking a signature.
pub struct Checked {
    /// The key id that signed.
    pub key_id: String,
    /// The signed trusted comment.
    pub trusted_comment: String,
}

/// Where the password comes from.
pub enum Password<'a> {
    /// No password: an unencrypted key (throwaway keys only).
    None,
    /// From this environment variable, else a prompt on a terminal.
    FromEnv(&'a str),
}

/// Creates a key pair: the secret key at `secret` (mode 0600), the public key beside it with `.pub` appended.
pub fn keygen(secret: &Path, password: Password<'_>, force: bool) -> Result<KeyFiles> {
    let public = PathBuf::from(format!("{}.pub", secret.display()));
    for path in [secret, public.as_path()] {
        if path.exists() && !force {
            return Err(input_error(format!("{} exists: pass --force to overwrite it", path.display())));
        }
    }
    let pair = match password {
        Password::None => KeyPair::generate_unencrypted_keypair(),
        Password::FromEnv(var) => match std::env::var(var) {
            Ok(password) if !password.is_empty() => KeyPair::generate_encrypted_keypair(Some(password)),
            _ if std::io::stdin().is_terminal() => KeyPair::generate_encrypted_keypair(None),
            _ => {
                return Err(input_error(format!(
                    "no password for the secret key: set the environment variable {var} (or run on a terminal to be \
                     prompted; --no-password makes a throwaway unencrypted key)"
                )))
            }
        },
    }
    .map_err(|e| anyhow::anyhow!("cannot create a key pair: {e}"))?;
    let key_id = key_id(pair.pk.keynum());
    let secret_text = pair.sk.to_box(Some("pipeproof secret key")).map_err(|e| anyhow::anyhow!("{e}"))?.into_string();
    let public_text = pair.pk.to_box().map_err(|e| anyhow::anyhow!("{e}"))?.into_string().replacen(
        "untrusted comment: minisign public key",
        "untrusted comment: pipeproof public key",
        1,
    );
    write_private(secret, secret_text.as_bytes())?;
    std::fs::write(&public, public_text).with_context(|| format!("cannot write {}", public.display()))?;
    Ok(KeyFiles { secret: secret.to_path_buf(), public, key_id })
}

/// A signature made by [`sign`].
pub struct Signed {
    /// The `.minisig` text.
    pub text: String,
    /// The id of the key that signed, as minisign prints it.
    pub key_id: String,
}

/// A secret key unlocked once, to sign a bundle's manifest and the attestations inside it.
pub struct SigningKey {
    secret: SecretKey,
    public: PublicKey,
    file: PathBuf,
}

impl SigningKey {
    /// Reads and unlocks the secret key in `key_file`.
    pub fn load(key_file: &Path, password: Password<'_>) -> Result<SigningKey> {
        let text = std::fs::read_to_string(key_file)
            .with_context(|| format!("cannot read the secret key {}", key_file.display()))?;
        let secret = load_secret(&text, key_file, password)?;
        let public = PublicKey::from_secret_key(&secret).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(SigningKey { secret, public, file: key_file.to_path_buf() })
    }

    /// The key id, as minisign prints it.
    pub fn key_id(&self) -> String {
        key_id(self.public.keynum())
    }

    /// A minisign signature of `data` (prehashed Ed25519) with a signed trusted comment.
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> Result<Signed> {
        let key_id = self.key_id();
        let signature = minisign::sign(
            Some(&self.public),
            &self.secret,
            Cursor::new(data),
            Some(trusted_comment),
            Some(&format!("signature from pipeproof key {key_id}")),
        )
        .map_err(|e| anyhow::anyhow!("cannot sign with {}: {e}", self.file.display()))?;
        Ok(Signed { text: signature.into_string(), key_id })
    }

    /// A plain Ed25519 signature of `message` (RFC 8032, as DSSE and in-toto tools check it) with the same key.
    pub fn sign_ed25519(&self, message: &[u8]) -> Result<Vec<u8>> {
        // A minisign secret key serialises as algorithm ids (6 bytes), KDF salt and limits (48), key number (8),
        // then the Ed25519 secret key: its 32-byte seed followed by its 32-byte public key.
        let bytes = self.secret.to_bytes();
        let secret = bytes.get(62..126).ok_or_else(|| anyhow::anyhow!("the secret key is too short"))?;
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_and_public_key(&secret[..32], &secret[32..])
            .map_err(|_| anyhow::anyhow!("{} does not hold a usable Ed25519 key", self.file.display()))?;
        Ok(pair.sign(message).as_ref().to_vec())
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

/// The raw 32-byte Ed25519 public key inside a minisign public key.
pub fn ed25519_public(public: &PublicKey) -> Vec<u8> {
    // Algorithm id (2 bytes), key number (8), then the key.
    public.to_bytes().get(10..42).map(<[u8]>::to_vec).unwrap_or_default()
}

/// Checks a plain Ed25519 signature made by [`SigningKey::sign_ed25519`].
pub fn verify_ed25519(message: &[u8], signature: &[u8], public: &PublicKey) -> bool {
    let key = ed25519_public(public);
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, key).verify(message, signature).is_ok()
}

/// The public key as PEM (SubjectPublicKeyInfo), the form in-toto and cosign tools read.
pub fn public_pem(public: &PublicKey) -> String {
    use base64::Engine;
    let mut der = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    der.extend(ed25519_public(public));
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
}

/// Checks a `.minisig` over `data` with a public key.
pub fn verify(data: &[u8], signature: &str, public: &PublicKey) -> Result<Checked> {
    let signature =
        SignatureBox::from_string(signature).map_err(|e| anyhow::anyhow!("the signature file is malformed: {e}"))?;
    minisign::verify(public, &signature, Cursor::new(data), true, false, false).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Checked {
        key_id: key_id(public.keynum()),
        trusted_comment: signature.trusted_comment().map_err(|e| anyhow::anyhow!("{e}"))?,
    })
}

/// The key id as minisign prints it (upper-case hex of the little-endian key number).
fn key_id(keynum: &[u8]) -> String {
    keynum.iter().rev().map(|b| format!("{b:02X}")).collect()
}

/// A public key given as a file path or as the key's base64 text; anything else is an input error.
pub fn load_public(given: &str) -> Result<PublicKey> {
    let path = Path::new(given);
    if path.is_file() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return PublicKeyBox::from_string(&text)
            .and_then(PublicKeyBox::into_public_key)
            .map_err(|e| input_error(format!("{} is not a minisign public key: {e}", path.display())));
    }
    PublicKey::from_base64(given.trim()).map_err(|e| {
        input_error(format!("--pubkey {given:?} is neither a readable key file nor a minisign public key: {e}"))
    })
}

fn load_secret(text: &str, key_file: &Path, password: Password<'_>) -> Result<SecretKey> {
    let shown = key_file.display();
    let sk_box = || SecretKeyBox::from_string(text).map_err(|e| anyhow::anyhow!("{e}"));
    match SecretKey::from_unencrypted_box(sk_box()?) {
        Ok(secret) => return Ok(secret),
        Err(error) if !error.to_string().contains("encrypted") => {
            return Err(input_error(format!("{shown} is not a minisign secret key: {error}")))
        }
        Err(_) => {}
    }
    let password = match password {
        Password::FromEnv(var) => std::env::var(var).ok().filter(|p| !p.is_empty()),
        Password::None => None,
    };
    if password.is_none() && !std::io::stdin().is_terminal() {
        return Err(input_error(format!(
            "{shown} is encrypted: set the environment variable named by --password-env (default \
             PIPEPROOF_KEY_PASSWORD) to its password"
        )));
    }
    SecretKey::from_box(sk_box()?, password).map_err(|e| input_error(format!("cannot unlock {shown}: {e}")))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_makes_plain_ed25519_signatures_its_public_key_checks() {
        let dir = tempfile::tempdir().unwrap();
        let files = keygen(&dir.path().join("k"), Password::None, false).unwrap();
        let key = SigningKey::load(&files.secret, Password::None).unwrap();
        let signature = key.sign_ed25519(b"statement").unwrap();
        let public = load_public(files.public.to_str().unwrap()).unwrap();
        assert!(verify_ed25519(b"statement", &signature, &public));
        assert!(!verify_ed25519(b"statement!", &signature, &public));
        assert!(public_pem(&public).starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"));
    }

    #[test]
    fn a_signature_verifies_with_its_key_and_not_after_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let files = keygen(&dir.path().join("k.key"), Password::None, false).unwrap();
        let signed =
            SigningKey::load(&files.secret, Password::None).unwrap().sign(b"manifest", "pipeproof test").unwrap();
        assert_eq!(signed.key_id, files.key_id);
        let signature = signed.text;
        let public = load_public(files.public.to_str().unwrap()).unwrap();
        let checked = verify(b"manifest", &signature, &public).unwrap();
        assert_eq!(checked.key_id, files.key_id);
        assert_eq!(checked.trusted_comment, "pipeproof test");
        assert!(verify(b"manifesT", &signature, &public).is_err());
        let other = keygen(&dir.path().join("other.key"), Password::None, false).unwrap();
        assert!(verify(b"manifest", &signature, &load_public(other.public.to_str().unwrap()).unwrap()).is_err());
        assert!(keygen(&files.secret, Password::None, false).is_err(), "an existing key is never overwritten");
    }
}
