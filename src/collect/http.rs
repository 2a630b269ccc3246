//! The HTTP client for GitHub's REST API, and the few GraphQL queries beside it: auth, pinned API version, retries,
//! `Link` pagination and provenance.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LINK, USER_AGENT};

use super::retry::{RetryPolicy, Verdict};

/// The GitHub REST API version every request pins.
pub const GITHUB_API_VERSION: &str = "2022-11-28";

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

impl Token {
    /// What kind of token this is, from GitHub's documented prefixes (the value itself is never shown).
    pub fn kind(&self) -> &'static str {
        match self.0.split('_').next().unwrap_or_default() {
            "ghp" => "classic personal access token",
            "github" if self.0.starts_with("github_pat_") => "fine-grained personal access token",
            "ghs" => "GitHub App installation token",
            "ghu" => "GitHub App user token",
            "gho" => "OAuth token",
            _ => "token of unknown kind",
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
    /// The kind of token that made the request (never the token).
    pub token_kind: &'static str,
    /// The OAuth scopes GitHub says the token has (`x-oauth-scopes`), for classic tokens.
    pub scopes: Option<String>,
    /// Primary rate-limit requests left after this one.
    pub rate_limit_remaining: Option<i64>,
    /// Whether GitHub answered `304 Not Modified` and the body is the stored one.
    pub not_modified: bool,
    /// The GraphQL request this answers (query and variables), for a POST to the GraphQL endpoint.
    pub graphql: Option<String>,
}

/// What a URL answered last time: sent back as `If-None-Match`, reused on `304 Not Modified`.
#[derive(Debug, Clone)]
pub struct CachedPage {
    /// The ETag it carried.
    pub etag: String,
    /// Its body.
    pub body: Vec<u8>,
    /// Its `rel="next"` link.
    pub next: Option<String>,
}

impl ApiResponse {
    /// The provenance recorded with this response's evidence.
    pub fn provenance(&self, pagination_complete: Option<bool>) -> serde_json::Value {
        serde_json::json!({
            "method": if self.graphql.is_some() { "POST" } else { "GET" },
            "url": self.url,
            "graphql": self.graphql,
            "api_version": GITHUB_API_VERSION,
            "api_version_selected": self.api_version_selected,
            "status": if self.not_modified { 304 } else { self.status },
            "observed_unchanged": self.not_modified,
            "etag": self.etag,
            "page": self.page,
            "pagination_complete": pagination_complete,
            "token_kind": self.token_kind,
            "token_scopes": self.scopes,
            "rate_limit_remaining": self.rate_limit_remaining,
        })
    }

    /// The `message` field of a GitHub error body, if any.
    pub fn error_message(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        value.get("message")?.as_str().map(str::to_string)
    }

    /// Parses the body as JSON, naming the URL on failure; `204 No Content` reads as an empty list.
    pub fn json(&self) -> Result<serde_json::Value> {
        if self.status == 204 {
            return Ok(serde_json::Value::Array(Vec::new()));
        }
        serde_json::from_slice(&self.body).with_context(|| format!("response from {} is not valid JSON", self.url))
    }
}

/// A REST client bound to one API base URL and token.
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
    auth: super::auth::Authenticator,
    policy: RetryPolicy,
    cache: std::collections::HashMap<String, CachedPage>,
    progress: crate::progress::Collection,
}

impl ApiClient {
    /// Creates a client for `base_url` (e.g. `https://api.github.com`) with the default retry policy.
    pub fn new(base_url: &str, auth: impl Into<super::auth::Auth>) -> Result<ApiClient> {
        Self::with_policy(base_url, auth, RetryPolicy::default())
    }

    /// Creates a client with a chosen retry policy.
    pub fn with_policy(base_url: &str, auth: impl Into<super::auth::Auth>, policy: RetryPolicy) -> Result<ApiClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(policy.request_timeout)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(ApiClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            auth: super::auth::Authenticator::new(auth.into()),
            policy,
            cache: std::collections::HashMap::new(),
            progress: crate::progress::Collection::default(),
        })
    }

    /// Sends `If-None-Match` for these URLs and reuses their stored answers on `304 Not Modified`.
    pub fn with_cache(mut self, cache: std::collections::HashMap<String, CachedPage>) -> ApiClient {
        self.cache = cache;
        self
    }

    /// Shows a progress bar (on a terminal) while this client collects.
    pub fn with_progress(mut self, progress: crate::progress::Collection) -> ApiClient {
        self.progress = progress;
        self
    }

    /// The collection's progress bar.
    pub fn progress(&self) -> &crate::progress::Collection {
        &self.progress
    }

    /// The absolute URL for an API path such as `/orgs/acme`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// The GraphQL endpoint beside this REST base URL (`…/api/v3` on GitHub Enterprise Server becomes
    /// `…/api/graphql`).
    pub fn graphql_url(&self) -> String {
        match self.base_url.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{}/graphql", self.base_url),
        }
    }

    /// GETs one URL, retrying rate limits, server errors, timeouts and dropped connections per the policy.
    pub async fn get(&self, url: &str, page: u32) -> Result<ApiResponse> {
        self.exchange(url, page, None).await
    }

    /// POSTs one GraphQL query with its variables, retrying as [`ApiClient::get`] does. GraphQL answers `200` with
    /// an `errors` list for fields the token may not read: the caller reads them.
    pub async fn graphql(&self, query: &str, variables: serde_json::Value) -> Result<ApiResponse> {
        let request = serde_json::json!({ "query": query, "variables": variables }).to_string();
        self.exchange(&self.graphql_url(), 1, Some(&request)).await
    }

    /// Sends one request (a GET, or a POST of `graphql`) until it is answered or the policy gives up.
    async fn exchange(&self, url: &str, page: u32, graphql: Option<&str>) -> Result<ApiResponse> {
        let method = if graphql.is_some() { "POST" } else { "GET" };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.auth.token(&self.http, &self.base_url).await?;
            self.progress.request();
            let failure = match self.attempt(url, page, &token, graphql).await {
                Ok((response, headers)) => {
                    let now = chrono::Utc::now().timestamp();
                    match self.policy.judge(response.status, &headers, &response.body, attempt, now) {
                        Verdict::Accept => return Ok(response),
                        Verdict::RetryAfter(wait, why) => Failure { wait, why, last: Some(response) },
                    }
                }
                Err(error) => {
                    Failure { wait: self.policy.backoff(attempt), why: describe_transport_error(&error), last: None }
                }
            };
            if failure.wait > self.policy.max_wait {
                return Err(anyhow!(
                    "{method} {url}: {}; GitHub asks to wait {}s, longer than this run waits ({}s): run again later",
                    failure.why,
                    failure.wait.as_secs(),
                    self.policy.max_wait.as_secs()
                ));
            }
            if attempt >= self.policy.max_attempts {
                return match failure.last {
                    Some(response) if response.status >= 500 => Err(anyhow!(
                        "{method} {url}: HTTP {} after {attempt} attempts {}",
                        response.status,
                        response.error_message().unwrap_or_default()
                    )),
                    Some(response) => Ok(response),
                    None => Err(anyhow!("{method} {url} failed after {attempt} attempts: {}", failure.why)),
                };
            }
            tracing::warn!(
                "{method} {url}: {}; retrying in {:.1}s (attempt {attempt})",
                failure.why,
                failure.wait.as_secs_f64()
            );
            self.progress.waiting(&failure.why, failure.wait);
            tokio::time::sleep(failure.wait).await;
        }
    }

    async fn attempt(
        &self,
        url: &str,
        page: u32,
        token: &Token,
        graphql: Option<&str>,
    ) -> std::result::Result<(ApiResponse, HeaderMap), reqwest::Error> {
        let cached = self.cache.get(url).filter(|_| graphql.is_none());
        let request = match graphql {
            Some(body) => self.http.post(url).header(CONTENT_TYPE, "application/json").body(body.to_string()),
            None => self.http.get(url),
        };
        let mut request = request
            .header(ACCEPT, "application/vnd.github+json")
            .header(AUTHORIZATION, format!("Bearer {}", token.0))
            .header("X-GitHub-Api-Version", GITHUB_API_VERSION)
            .header(USER_AGENT, concat!("pipeproof/", env!("CARGO_PKG_VERSION")));
        if let Some(cached) = cached {
            request = request.header(IF_NONE_MATCH, cached.etag.as_str());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        let reused = cached.filter(|_| status == 304);
        let api_response = ApiResponse {
            url: url.to_string(),
            status: if reused.is_some() { 200 } else { status },
            body: reused.map(|c| c.body.clone()).unwrap_or(body),
            etag: header_text(&headers, ETAG.as_str()).or_else(|| reused.map(|c| c.etag.clone())),
            api_version_selected: header_text(&headers, "x-github-api-version-selected"),
            next: match reused {
                Some(cached) => cached.next.clone(),
                None => headers.get(LINK).and_then(|link| link.to_str().ok()).and_then(next_link),
            },
            page,
            received_at: crate::time::now_utc(),
            token_kind: token.kind(),
            scopes: header_text(&headers, "x-oauth-scopes"),
            rate_limit_remaining: header_text(&headers, "x-ratelimit-remaining").and_then(|v| v.parse().ok()),
            not_modified: reused.is_some(),
            graphql: graphql.map(str::to_string),
        };
        Ok((api_response, headers))
    }

    /// GETs every page of a listing by following `Link: rel="next"` verbatim; stops at the first non-200 page.
    pub async fn get_all_pages(&self, path: &str) -> Result<Vec<ApiResponse>> {
        self.get_pages_while(path, |_| true).await
    }

    /// Like [`ApiClient::get_all_pages`], but stops after a page for which `more` says no (for listings sorted
    /// newest first, read back only as far as needed).
    pub async fn get_pages_while(&self, path: &str, more: impl Fn(&ApiResponse) -> bool) -> Result<Vec<ApiResponse>> {
        let mut pages = Vec::new();
        let mut url = self.url(path);
        loop {
            let response = self.get(&url, pages.len() as u32 + 1).await?;
            let next = if response.status == 200 && more(&response) { response.next.clone() } else { None };
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

/// Why an attempt did not give a usable answer, and how long to wait before the next.
struct Failure {
    wait: Duration,
    why: String,
    last: Option<ApiResponse>,
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
