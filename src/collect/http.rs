//! The HTTP client for GitHub's and GitLab's REST APIs, and the few GraphQL queries beside them: auth, pinned API
//! version, retries, `Link` pagination and provenance. A request that gets no usable answer (the server failed, rate limited past what
//! this run waits, redirected off the API origin, sent no JSON or too much) is answered with an *unanswered* response
//! (status 0, the reason as its message), so one endpoint's failure is recorded as incomplete evidence and the rest
//! of the collection goes on.

use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LINK, USER_AGENT};

use super::origin;
use super::retry::{RetryPolicy, Verdict};

/// The largest answer read from the server; a larger one is refused (GitHub's pages are a few megabytes at most).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Pages read per listing by default before it is cut as incomplete (`github.max_pages`).
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// The status of an unanswered request: no HTTP answer was usable, and the body's `message` says why.
pub const UNANSWERED: u16 = 0;

/// The GitHub REST API version every request pins.
pub const GITHUB_API_VERSION: &str = "2022-11-28";

/// The GitLab REST API version (in every path: `/api/v4`).
pub const GITLAB_API_VERSION: &str = "v4";

/// Which forge's REST API a client speaks: the headers it sends and the version its provenance names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// GitHub's (pins `X-GitHub-Api-Version`).
    Github,
    /// GitLab's v4 (the version is in the path).
    Gitlab,
}

impl Api {
    /// The API version its answers are recorded with.
    pub fn version(self) -> &'static str {
        match self {
            Api::Github => GITHUB_API_VERSION,
            Api::Gitlab => GITLAB_API_VERSION,
        }
    }

    /// The forge's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Api::Github => "GitHub",
            Api::Gitlab => "GitLab",
        }
    }
}

/// An API token; its value never appears in `Debug` output, logs or errors.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token value.
    pub fn new(value: String) -> Token {
        Token(value)
    }

    /// Reads the token from the named environment variable; `setting` names the config key that named it
    /// (`github.token_env`).
    pub fn from_env(variable: &str, setting: &str) -> Result<Token> {
        match std::env::var(variable) {
            Ok(value) if !value.trim().is_empty() => Ok(Token(value.trim().to_string())),
            _ => Err(crate::error::input_error(format!(
                "no API token: set the environment variable {variable} (named by {setting} in the config)"
            ))),
        }
    }
}

impl Token {
    /// What kind of token this is, from GitHub's and GitLab's documented prefixes (the value itself is never
    /// shown).
    pub fn kind(&self) -> &'static str {
        if self.0.starts_with("glpat-") {
            return "GitLab personal, project or group access token";
        }
        if self.0.starts_with("gloas-") || self.0.starts_with("glcbt-") || self.0.starts_with("gldt-") {
            return "GitLab token of a kind the REST API does not take for reading";
        }
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
    /// The HTTP status; [`UNANSWERED`] when no usable answer came (the body's `message` says why).
    pub status: u16,
    /// The raw body bytes.
    pub body: Vec<u8>,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// The API version the request asked for (`2022-11-28` on GitHub, `v4` on GitLab).
    pub api_version: &'static str,
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
    /// JSON pointers of secrets taken out of the body before it was kept (the body is not what the server sent).
    pub redacted: Vec<String>,
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
    /// A request that got no usable answer, and why.
    pub fn unanswered(url: &str, page: u32, token_kind: &'static str, why: &str) -> ApiResponse {
        ApiResponse {
            url: origin::printable(url),
            status: UNANSWERED,
            body: serde_json::json!({ "message": why }).to_string().into_bytes(),
            etag: None,
            api_version: "",
            api_version_selected: None,
            next: None,
            page,
            received_at: crate::time::now_utc(),
            token_kind,
            scopes: None,
            rate_limit_remaining: None,
            not_modified: false,
            graphql: None,
            redacted: Vec::new(),
        }
    }

    /// The provenance recorded with this response's evidence.
    pub fn provenance(&self, pagination_complete: Option<bool>) -> serde_json::Value {
        let mut provenance = serde_json::json!({
            "method": if self.graphql.is_some() { "POST" } else { "GET" },
            "url": self.url,
            "graphql": self.graphql,
            "api_version": self.api_version,
            "api_version_selected": self.api_version_selected,
            "status": if self.not_modified { 304 } else { self.status },
            "observed_unchanged": self.not_modified,
            "etag": self.etag,
            "page": self.page,
            "pagination_complete": pagination_complete,
            "token_kind": self.token_kind,
            "token_scopes": self.scopes,
            "rate_limit_remaining": self.rate_limit_remaining,
        });
        if !self.redacted.is_empty() {
            provenance["secrets_removed"] = serde_json::json!(self.redacted);
        }
        provenance
    }

    /// This answer as evidence from `source` (`github`, `gitlab`) of `kind` about `subject`; `pagination_complete` for
    /// a page of a listing.
    pub fn evidence<'a>(
        &'a self,
        source: &'a str,
        kind: &'a str,
        subject: &'a str,
        pagination_complete: Option<bool>,
    ) -> crate::store::NewEvidence<'a> {
        crate::store::NewEvidence {
            source,
            kind,
            subject,
            collected_at: self.received_at,
            provenance: self.provenance(pagination_complete),
            body: &self.body,
        }
    }

    /// The `message` of an error body (GitLab also answers `{"error": …}` for an unknown route), if any.
    pub fn error_message(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        ["message", "error"].iter().find_map(|key| value.get(*key)?.as_str().map(str::to_string))
    }

    /// Parses the body as JSON, naming the URL on failure; `204 No Content` reads as an empty list.
    pub fn json(&self) -> Result<serde_json::Value> {
        if self.status == 204 {
            return Ok(serde_json::Value::Array(Vec::new()));
        }
        serde_json::from_slice(&self.body).with_context(|| format!("response from {} is not valid JSON", self.url))
    }
}

/// Whether a listing was read to its end, said alike on every one of its pages: `true` when every page was read,
/// `false` when it was cut short (a later page failed, went unanswered, or the page cap stopped it), and `None` for
/// a lone refusal (401, 403, 404: nothing was listed, and coverage says why).
pub fn listing_complete(pages: &[ApiResponse]) -> Option<bool> {
    let read = |page: &ApiResponse| page.status == 200 || page.status == 204;
    match pages {
        [] => None,
        [only] if !read(only) && only.status != UNANSWERED => None,
        pages => Some(pages.iter().all(read)),
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
    max_pages: usize,
    api: Api,
}

impl ApiClient {
    /// Creates a client for `base_url` (e.g. `https://api.github.com`) with the default retry policy.
    pub fn new(base_url: &str, auth: impl Into<super::auth::Auth>) -> Result<ApiClient> {
        Self::with_policy(base_url, auth, RetryPolicy::default())
    }

    /// Creates a client with a chosen retry policy; the base URL must be `http(s)` without credentials.
    pub fn with_policy(base_url: &str, auth: impl Into<super::auth::Auth>, policy: RetryPolicy) -> Result<ApiClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(policy.request_timeout)
            .redirect(origin::redirect_policy())
            .build()
            .context("cannot build the HTTP client")?;
        Ok(ApiClient {
            http,
            base_url: origin::api_base(base_url)?,
            auth: super::auth::Authenticator::new(auth.into()),
            policy,
            cache: std::collections::HashMap::new(),
            progress: crate::progress::Collection::default(),
            max_pages: DEFAULT_MAX_PAGES,
            api: Api::Github,
        })
    }

    /// Speaks `api` (GitHub's by default): its headers, and its version in the provenance.
    pub fn speaking(mut self, api: Api) -> ApiClient {
        self.api = api;
        self
    }

    /// Cuts a listing after this many pages (and records it as incomplete).
    pub fn with_max_pages(mut self, max_pages: usize) -> ApiClient {
        self.max_pages = max_pages.max(1);
        self
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

    /// Sends one request (a GET, or a POST of `graphql`) until it is answered or the policy gives up; what is not
    /// answered usably comes back as an unanswered response saying why. Only a failure to authenticate is an error.
    async fn exchange(&self, url: &str, page: u32, graphql: Option<&str>) -> Result<ApiResponse> {
        let method = if graphql.is_some() { "POST" } else { "GET" };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.auth.token(&self.http, &self.base_url).await?;
            self.progress.request();
            let unanswered = |why: String| {
                let mut response = ApiResponse::unanswered(url, page, token.kind(), &why);
                response.graphql = graphql.map(str::to_string);
                response.api_version = self.api.version();
                tracing::warn!("{method} {}: {why}", origin::printable(url));
                Ok(response)
            };
            let failure = match self.attempt(url, page, &token, graphql).await {
                Ok((response, headers)) => {
                    if (300..400).contains(&response.status) {
                        return unanswered(self.redirect_refused(response.status, &headers));
                    }
                    let now = chrono::Utc::now().timestamp();
                    match self.policy.judge(response.status, &headers, &response.body, attempt, now) {
                        Verdict::Accept if response.status == 200 && !is_json(&response.body) => Failure {
                            wait: self.policy.backoff(attempt),
                            why: "the answer is not JSON".to_string(),
                            rate_limited: false,
                        },
                        Verdict::Accept => return Ok(response),
                        Verdict::RetryAfter(wait, why) => {
                            Failure { wait, why, rate_limited: response.status != 200 && response.status < 500 }
                        }
                    }
                }
                Err(Refusal { why, retry: false }) => return unanswered(why),
                Err(Refusal { why, retry: true }) => {
                    Failure { wait: self.policy.backoff(attempt), why, rate_limited: false }
                }
            };
            if failure.wait > self.policy.max_wait {
                let back = chrono::Utc::now() + chrono::Duration::seconds(failure.wait.as_secs() as i64);
                return unanswered(format!(
                    "{}; {} asks to wait {}s, longer than this run waits ({}s): not read, collect again after {}",
                    failure.why,
                    self.api.name(),
                    failure.wait.as_secs(),
                    self.policy.max_wait.as_secs(),
                    back.format("%Y-%m-%d %H:%M UTC")
                ));
            }
            if attempt >= self.policy.max_attempts {
                let advice = if failure.rate_limited {
                    ": rate limiting is not a permission verdict, collect again later"
                } else {
                    ""
                };
                return unanswered(format!("{}, still after {attempt} attempts{advice}", failure.why));
            }
            tracing::warn!(
                "{method} {}: {}; retrying in {:.1}s (attempt {attempt})",
                origin::printable(url),
                failure.why,
                failure.wait.as_secs_f64()
            );
            self.progress.waiting(&failure.why, failure.wait);
            tokio::time::sleep(failure.wait).await;
        }
    }

    /// Why a redirect the client did not follow was refused.
    fn redirect_refused(&self, status: u16, headers: &HeaderMap) -> String {
        let target = header_text(headers, "location").map(|l| origin::printable(&l)).unwrap_or_default();
        format!(
            "the server redirected (HTTP {status}) to {target:?}, off the API origin {} or more than five hops: not \
             followed, so the token and the evidence stay on the API origin",
            origin::printable(&self.base_url)
        )
    }

    async fn attempt(
        &self,
        url: &str,
        page: u32,
        token: &Token,
        graphql: Option<&str>,
    ) -> std::result::Result<(ApiResponse, HeaderMap), Refusal> {
        let cached = self.cache.get(url).filter(|_| graphql.is_none());
        let request = match graphql {
            Some(body) => self.http.post(url).header(CONTENT_TYPE, "application/json").body(body.to_string()),
            None => self.http.get(url),
        };
        let mut request = request
            .header(AUTHORIZATION, format!("Bearer {}", token.0))
            .header(USER_AGENT, concat!("pipeproof/", env!("CARGO_PKG_VERSION")));
        request = match self.api {
            Api::Github => {
                request.header(ACCEPT, "application/vnd.github+json").header("X-GitHub-Api-Version", GITHUB_API_VERSION)
            }
            Api::Gitlab => request.header(ACCEPT, "application/json"),
        };
        if let Some(cached) = cached {
            request = request.header(IF_NONE_MATCH, cached.etag.as_str());
        }
        let transport = |error: reqwest::Error| Refusal { why: describe_transport_error(&error), retry: true };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let too_big = || Refusal {
            why: format!("the answer is larger than {} MiB: refused", MAX_ANSWER_BYTES / (1024 * 1024)),
            retry: false,
        };
        if response.content_length().is_some_and(|length| length > MAX_ANSWER_BYTES as u64) {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        let reused = cached.filter(|_| status == 304);
        let api_response = ApiResponse {
            url: url.to_string(),
            status: if reused.is_some() { 200 } else { status },
            body: reused.map(|c| c.body.clone()).unwrap_or(body),
            etag: header_text(&headers, ETAG.as_str()).or_else(|| reused.map(|c| c.etag.clone())),
            api_version: self.api.version(),
            api_version_selected: header_text(&headers, "x-github-api-version-selected"),
            next: match reused {
                Some(cached) => cached.next.clone(),
                None => headers.get(LINK).and_then(|link| link.to_str().ok()).and_then(next_link),
            },
            page,
            received_at: crate::time::now_utc(),
            token_kind: token.kind(),
            scopes: header_text(&headers, "x-oauth-scopes"),
            rate_limit_remaining: header_text(&headers, "x-ratelimit-remaining")
                .or_else(|| header_text(&headers, "ratelimit-remaining"))
                .and_then(|v| v.parse().ok()),
            not_modified: reused.is_some(),
            graphql: graphql.map(str::to_string),
            redacted: Vec::new(),
        };
        Ok((api_response, headers))
    }

    /// GETs every page of a listing by following `Link: rel="next"`; stops at the first non-200 page.
    pub async fn get_all_pages(&self, path: &str) -> Result<Vec<ApiResponse>> {
        self.get_pages_while(path, |_| true).await
    }

    /// Like [`ApiClient::get_all_pages`], but stops after a page for which `more` says no (for listings sorted
    /// newest first, read back only as far as needed). A `Link` off the API origin, back to a page already read, or
    /// past `max_pages` is not followed: the listing ends with an unanswered page saying so.
    pub async fn get_pages_while(&self, path: &str, more: impl Fn(&ApiResponse) -> bool) -> Result<Vec<ApiResponse>> {
        let mut pages: Vec<ApiResponse> = Vec::new();
        let mut url = self.url(path);
        let mut read = std::collections::HashSet::new();
        loop {
            read.insert(url.clone());
            let response = self.get(&url, pages.len() as u32 + 1).await?;
            let next = if response.status == 200 && more(&response) { response.next.clone() } else { None };
            let token_kind = response.token_kind;
            let api_version = response.api_version;
            pages.push(response);
            let Some(next) = next else { return Ok(pages) };
            let refused = if !origin::same_origin(&next, &self.base_url) {
                Some(format!(
                    "the Link header points off the API origin {}: not followed, the listing is incomplete",
                    origin::printable(&self.base_url)
                ))
            } else if read.contains(&next) {
                Some("the Link header points back to a page already read: the listing loops and is incomplete".into())
            } else if pages.len() >= self.max_pages {
                Some(format!(
                    "the listing has more than {} pages (github.max_pages): cut there, it is incomplete",
                    self.max_pages
                ))
            } else {
                None
            };
            if let Some(why) = refused {
                tracing::warn!("{}: {why}", origin::printable(&url));
                let mut cut = ApiResponse::unanswered(&next, pages.len() as u32 + 1, token_kind, &why);
                cut.api_version = api_version;
                pages.push(cut);
                return Ok(pages);
            }
            url = next;
        }
    }
}

/// Whether a body is one JSON value (checked without building it).
fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
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

/// Why an attempt got no answer, and whether asking again may help.
struct Refusal {
    why: String,
    retry: bool,
}

/// Why an attempt did not give a usable answer, and how long to wait before the next.
struct Failure {
    wait: Duration,
    why: String,
    /// Whether the server said to slow down (429 or a rate-limit 403).
    rate_limited: bool,
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
    fn every_page_of_a_listing_says_whether_the_listing_was_read_to_its_end() {
        let page = |status: u16| {
            let mut page = ApiResponse::unanswered("https://x/1", 1, "test token", "");
            page.status = status;
            page
        };
        assert_eq!(listing_complete(&[page(200), page(200), page(204)]), Some(true), "a whole listing, every page");
        assert_eq!(listing_complete(&[page(200), page(502)]), Some(false), "a later page failed");
        assert_eq!(listing_complete(&[page(200), page(UNANSWERED)]), Some(false), "cut at the page cap");
        assert_eq!(listing_complete(&[page(UNANSWERED)]), Some(false), "nothing usable came");
        assert_eq!(listing_complete(&[page(403)]), None, "a refusal lists nothing: coverage says why");
        assert_eq!(listing_complete(&[]), None);
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let token = Token::new("ghp_supersecret".to_string());
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }
}
