//! How API requests authenticate: a token read from an environment variable, or a GitHub App installation token
//! obtained with the app's private key (a short-lived RS256 JWT exchanged for a token that lasts an hour) and
//! renewed before it expires. Neither the key, the JWT nor any token is ever logged, stored or shown in errors.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;

use super::http::{Token, GITHUB_API_VERSION};

/// Renew an installation token when it has less than this left.
const RENEW_BEFORE_SECONDS: i64 = 300;

/// The credentials a client authenticates with.
pub enum Auth {
    /// A personal, fine-grained or other bearer token.
    Token(Token),
    /// A GitHub App installation.
    App(AppCredentials),
}

impl From<Token> for Auth {
    fn from(token: Token) -> Auth {
        Auth::Token(token)
    }
}

/// A GitHub App's id, its installation on the organisation, and its private key.
pub struct AppCredentials {
    app_id: String,
    installation_id: u64,
    key: RsaKeyPair,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AppCredentials(app {}, installation {}, key <redacted>)", self.app_id, self.installation_id)
    }
}

/// Decodes a PEM private key (`RSA PRIVATE KEY`, as GitHub issues it, or PKCS#8 `PRIVATE KEY`).
fn rsa_key_from_pem(text: &str, origin: &str) -> Result<RsaKeyPair> {
    let pkcs1 = text.contains("-----BEGIN RSA PRIVATE KEY-----");
    let pkcs8 = text.contains("-----BEGIN PRIVATE KEY-----");
    if !pkcs1 && !pkcs8 {
        return Err(crate::error::input_error(format!(
            "{origin}: expected a PEM private key (-----BEGIN RSA PRIVATE KEY----- as GitHub issues it, or PKCS#8)"
        )));
    }
    let body: String = text
        .lines()
        .skip_while(|line| !line.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .collect::<Vec<_>>()
        .concat();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|_| crate::error::input_error(format!("{origin}: the PEM body is not valid base64")))?;
    let key = if pkcs1 { RsaKeyPair::from_der(&der) } else { RsaKeyPair::from_pkcs8(&der) };
    key.map_err(|error| crate::error::input_error(format!("{origin}: not a usable RSA private key ({error})")))
}

impl AppCredentials {
    /// Reads the app's private key file.
    pub fn load(app_id: &str, installation_id: u64, private_key: &Path) -> Result<AppCredentials> {
        let text = std::fs::read_to_string(private_key)
            .with_context(|| format!("cannot read the GitHub App private key {}", private_key.display()))?;
        let key = rsa_key_from_pem(&text, &private_key.display().to_string())?;
        Ok(AppCredentials { app_id: app_id.to_string(), installation_id, key })
    }

    /// The JWT that authenticates as the app: issued a minute ago (clock drift), valid for nine minutes.
    pub fn jwt(&self, now_epoch: i64) -> Result<String> {
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let header = encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({ "iat": now_epoch - 60, "exp": now_epoch + 540, "iss": self.app_id });
        let signing_input = format!("{header}.{}", encode(claims.to_string().as_bytes()));
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| anyhow!("cannot sign the GitHub App JWT with the private key"))?;
        Ok(format!("{signing_input}.{}", encode(&signature)))
    }
}

/// Gives each request a bearer token; for an app, the current installation token, renewed before it expires.
pub struct Authenticator {
    auth: Auth,
    current: tokio::sync::Mutex<Option<(Token, i64)>>,
}

impl Authenticator {
    /// Wraps the credentials.
    pub fn new(auth: Auth) -> Authenticator {
        Authenticator { auth, current: tokio::sync::Mutex::new(None) }
    }

    /// The token for the next request.
    pub async fn token(&self, http: &reqwest::Client, base_url: &str) -> Result<Token> {
        let app = match &self.auth {
            Auth::Token(token) => return Ok(token.clone()),
            Auth::App(app) => app,
        };
        let mut current = self.current.lock().await;
        let now = chrono::Utc::now().timestamp();
        if let Some((token, expires)) = current.as_ref() {
            if *expires - now > RENEW_BEFORE_SECONDS {
                return Ok(token.clone());
            }
        }
        let (token, expires) = installation_token(http, base_url, app, now).await?;
        tracing::debug!("obtained a GitHub App installation token for installation {}", app.installation_id);
        *current = Some((token.clone(), expires));
        Ok(token)
    }
}

/// Exchanges the app's JWT for an installation token (`POST /app/installations/{id}/access_tokens`).
async fn installation_token(
    http: &reqwest::Client,
    base_url: &str,
    app: &AppCredentials,
    now: i64,
) -> Result<(Token, i64)> {
    let url = format!("{base_url}/app/installations/{}/access_tokens", app.installation_id);
    let response = http
        .post(&url)
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header(reqwest::header::AUTHORIZATION, format!("Bearer {}", app.jwt(now)?))
        .header("X-GitHub-Api-Version", GITHUB_API_VERSION)
        .header(reqwest::header::USER_AGENT, concat!("pipeproof/", env!("CARGO_PKG_VERSION")))
        .send()
        .await
        .map_err(|error| {
            anyhow!("POST {url}: {}", if error.is_timeout() { "timed out".to_string() } else { error.to_string() })
        })?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if status != 201 && status != 200 {
        let message = body.get("message").and_then(|m| m.as_str()).unwrap_or_default();
        let hint = match status {
            401 => ": GitHub rejected the app's JWT; check github.app.app_id and the private key",
            404 => ": no such installation for this app; check github.app.installation_id",
            _ => "",
        };
        return Err(anyhow!("POST {url}: HTTP {status} \"{message}\"{hint}"));
    }
    let token =
        body.get("token").and_then(|t| t.as_str()).ok_or_else(|| anyhow!("POST {url}: no token in the answer"))?;
    let expires = body
        .get("expires_at")
        .and_then(|t| t.as_str())
        .and_then(crate::time::parse_api_time)
        .map(|at| at.and_utc().timestamp())
        .unwrap_or(now + 3600);
    Ok((Token::new(token.to_string()), expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_pem_is_refused_with_what_was_expected() {
        let error = rsa_key_from_pem("not a key", "app.pem").unwrap_err().to_string();
        assert!(error.contains("app.pem") && error.contains("BEGIN RSA PRIVATE KEY"), "{error}");
    }

    #[test]
    fn credentials_never_show_the_key_in_debug_output() {
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let credentials = AppCredentials { app_id: "42".into(), installation_id: 7, key };
        assert_eq!(format!("{credentials:?}"), "AppCredentials(app 42, installation 7, key <redacted>)");
        let jwt = credentials.jwt(1_800_000_000).unwrap();
        assert_eq!(jwt.split('.').count(), 3);
    }
}
