//! The HTTP client for REST APIs: auth, pinned API version, retries, `Link` pagination and provenance.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, ETAG, LINK, RETRY_AFTER, USER_AGENT};
use reqwest::StatusCode;

/// The GitHub REST API version every request pins.
pub const GITHUB_API_VERSION: &str = "2022-11-28";

/// How many times a request is tried before giving up on 5xx, 429 or a timeout.
const MAX_ATTEMPTS: u32 = 4;

/// The longest `Retry-After` we honour before giving up (seconds).
const MAX_RETRY_AFTER_SECS: u64 = 120;

/// An API token; its value never appears in `Debug` output, logs or errors.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token value.
    pub fn new(value: String) -> Token {
        Token(value)
    }

    /// Reads the token from the named environment variable.
    pub fn from_env(variable: &str) -> Result<Token> {
        match std::env::var(variable) {
            Ok(value) if !value.trim().is_empty() => Ok(Token(value.trim().to_string())),
            _ => Err(crate::error::input_error(format!(
                "no GitHub token: set the environment variable {variable} (named by github.token_env in the config)"
            ))),
        }
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// One HTTP response, kept whole so it can be stored as evidence.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The URL requested (never carries credentials).
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The raw body bytes.
    pub body: Vec<u8>,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// The API version the server says it used.
    pub api_version_selected: Option<String>,
    /// The `rel="next"` URL from the `Link` header, if any.
    pub next: Option<String>,
    /// The page number within a paginated listing (1-based).
    pub page: u32,
    /// When the response was received.
    pub received_at: chrono::NaiveDateTime,
}

impl ApiResponse {
    /// The provenance recorded with this response's evidence.
    pub fn provenance(&self, pagination_complete: Option<bool>) -> serde_json::Value {
        serde_json::json!({
            "method": "GET",
            "url": self.url,
            "api_version": GITHUB_API_VERSION,
            "api_version_selected": self.api_version_selected,
            "status": self.status,
            "etag": self.etag,
            "page": self.page,
            "pagination_complete": pagination_complete,
        })
    }

    /// The `message` field of a GitHub error body, if any.
    pub fn error_message(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        value.get("message")?.as_str().map(str::to_string)
    }

    /// Parses the body as JSON, naming the URL on failure.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| format!("response from {} is not valid JSON", self.url))
    }
}

/// A REST client bound to one API base URL and token.
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
    token: Token,
}

impl ApiClient {
    /// Creates a client for `base_url` (e.g. `https://api.github.com`).
    pub fn new(base_url: &str, token: Token) -> Result<ApiClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(ApiClient { http, base_url: base_url.trim_end_matches('/').to_string(), token })
    }

    /// The absolute URL for an API path such as `/orgs/acme`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// GETs one URL, retrying server errors, rate limits and timeouts with backoff.
    pub async fn get(&self, url: &str, page: u32) -> Result<ApiResponse> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .http
                .get(url)
                .header(ACCEPT, "application/vnd.github+json")
                .header(AUTHORIZATION, format!("Bearer {}", self.token.0))
                .header("X-GitHub-Api-Version", GITHUB_API_VERSION)
                .header(USER_AGENT, concat!("pipeproof/", env!("CARGO_PKG_VERSION")))
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(error) if attempt < MAX_ATTEMPTS && (error.is_timeout() || error.is_connect()) => {
                    tracing::warn!("GET {url}: {}; retrying", describe_transport_error(&error));
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(error) => return Err(anyhow!("GET {url} failed: {}", describe_transport_error(&error))),
            };
            let status = response.status();
            if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS) && attempt < MAX_ATTEMPTS {
                let wait = retry_wait(response.headers(), attempt)?;
                tracing::warn!("GET {url}: HTTP {status}; retrying in {}s", wait.as_secs());
                tokio::time::sleep(wait).await;
                continue;
            }
            let headers = response.headers().clone();
            let body = response.bytes().await.with_context(|| format!("reading the body of {url}"))?.to_vec();
            return Ok(ApiResponse {
                url: url.to_string(),
                status: status.as_u16(),
                body,
                etag: header_text(&headers, ETAG.as_str()),
                api_version_selected: header_text(&headers, "x-github-api-version-selected"),
                next: headers.get(LINK).and_then(|link| link.to_str().ok()).and_then(next_link),
                page,
                received_at: crate::time::now_utc(),
            });
        }
    }

    /// GETs every page of a listing by following `Link: rel="next"` verbatim; stops at the first non-200 page.
    pub async fn get_all_pages(&self, path: &str) -> Result<Vec<ApiResponse>> {
        let mut pages = Vec::new();
        let mut url = self.url(path);
        loop {
            let response = self.get(&url, pages.len() as u32 + 1).await?;
            let next = if response.status == 200 { response.next.clone() } else { None };
            pages.push(response);
            match next {
                Some(next_url) => url = next_url,
                None => return Ok(pages),
            }
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        error.to_string()
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 2u64.pow(attempt.saturating_sub(1)))
}

fn retry_wait(headers: &HeaderMap, attempt: u32) -> Result<Duration> {
    let Some(seconds) = header_text(headers, RETRY_AFTER.as_str()).and_then(|text| text.trim().parse::<u64>().ok())
    else {
        return Ok(backoff(attempt));
    };
    if seconds > MAX_RETRY_AFTER_SECS {
        return Err(anyhow!("the server asked to wait {seconds}s before retrying (Retry-After); try again later"));
    }
    Ok(Duration::from_secs(seconds))
}

/// Extracts the `rel="next"` target from a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|param| {
            let param = param.trim();
            param == "rel=\"next\"" || param == "rel=next"
        });
        let target = target.trim();
        (is_next && target.starts_with('<') && target.ends_with('>')).then(|| target[1..target.len() - 1].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_taken_verbatim() {
        let header = r#"<https://api.github.com/organizations/9/repos?page=2&per_page=3>; rel="next", <https://api.github.com/organizations/9/repos?page=4&per_page=3>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/organizations/9/repos?page=2&per_page=3")
        );
        assert_eq!(next_link(r#"<https://x/1>; rel="prev", <https://x/0>; rel="first""#), None);
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let token = Token::new("ghp_supersecret".to_string());
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }
}
