//! An in-process HTTP server on 127.0.0.1 that replays recorded API responses (a cassette), so the
//! real collector code runs in `demo` and in tests without touching the network.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

/// A set of recorded request → response pairs.
#[derive(Debug, Clone, Deserialize)]
pub struct Cassette {
    /// What the recording is of.
    #[serde(default)]
    pub description: String,
    /// The recorded exchanges, matched on method and path with query.
    pub interactions: Vec<Interaction>,
}

/// One recorded exchange.
#[derive(Debug, Clone, Deserialize)]
pub struct Interaction {
    /// The HTTP method.
    #[serde(default = "default_method")]
    pub method: String,
    /// The path with query, e.g. `/orgs/acme/repos?per_page=100`; a trailing `*` matches any rest (for queries
    /// that carry a date, such as `created=>=…`).
    pub path: String,
    /// The status to answer with.
    pub status: u16,
    /// Response headers; `{base}` in a value is replaced by the server's base URL.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The JSON body (absent for an empty body).
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// The body as these exact characters instead (GitLab's plain-text `Retry later`, a bare `null`).
    #[serde(default)]
    pub text: Option<String>,
    /// Serve this answer for this many requests, then fall through to the next matching one (default: always).
    #[serde(default)]
    pub times: Option<usize>,
    /// Wait this long before answering (to exercise client timeouts).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Only answer requests carrying this `If-None-Match` value (for recorded `304 Not Modified`).
    #[serde(default)]
    pub if_none_match: Option<String>,
}

fn default_method() -> String {
    "GET".to_string()
}

/// A request the server received, for tests to inspect.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// The method.
    pub method: String,
    /// The path with query.
    pub path: String,
    /// The request headers (lower-case names).
    pub headers: BTreeMap<String, String>,
}

/// Requests being answered now, and the most there have been at once.
#[derive(Default)]
struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl InFlight {
    fn enter(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Which interaction answers a request, counting how often each has answered.
struct Script {
    cassette: Cassette,
    served: Vec<usize>,
    /// Interaction indexes per exact path, in cassette order.
    by_path: std::collections::HashMap<String, Vec<usize>>,
    /// Interactions whose path ends in `*`, in cassette order.
    by_prefix: Vec<usize>,
}

impl Script {
    fn new(cassette: Cassette) -> Script {
        let mut by_path: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
        let mut by_prefix = Vec::new();
        for (index, interaction) in cassette.interactions.iter().enumerate() {
            if interaction.path.ends_with('*') {
                by_prefix.push(index);
            } else {
                by_path.entry(interaction.path.clone()).or_default().push(index);
            }
        }
        Script { served: vec![0; cassette.interactions.len()], cassette, by_path, by_prefix }
    }

    fn pick(&mut self, method: &str, path: &str, if_none_match: Option<&str>) -> Option<Interaction> {
        let mut candidates: Vec<usize> = self.by_path.get(path).cloned().unwrap_or_default();
        candidates.extend(
            self.by_prefix
                .iter()
                .filter(|i| path.starts_with(self.cassette.interactions[**i].path.trim_end_matches('*'))),
        );
        candidates.sort_unstable();
        let index = candidates.into_iter().find(|index| {
            let i = &self.cassette.interactions[*index];
            i.method.eq_ignore_ascii_case(method)
                && i.if_none_match.as_deref().is_none_or(|tag| Some(tag) == if_none_match)
                && i.times.is_none_or(|limit| self.served[*index] < limit)
        })?;
        self.served[index] += 1;
        Some(self.cassette.interactions[index].clone())
    }
}

/// A running replay server; it stops when dropped.
pub struct ReplayServer {
    address: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedRequest>>>,
    in_flight: Arc<InFlight>,
    task: tokio::task::JoinHandle<()>,
}

impl Cassette {
    /// Parses a cassette from JSON text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Cassette> {
        serde_json::from_str(text).map_err(|error| {
            crate::error::input_error(format!("{origin}: line {}, column {}: {error}", error.line(), error.column()))
        })
    }
}

impl ReplayServer {
    /// Starts serving the cassette on an ephemeral port of 127.0.0.1 (call inside a tokio runtime).
    pub async fn start(cassette: Cassette) -> Result<ReplayServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot bind 127.0.0.1")?;
        let address = listener.local_addr()?;
        let base = format!("http://{address}");
        let script = Arc::new(Mutex::new(Script::new(cassette)));
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let in_flight = Arc::new(InFlight::default());
        let counter = Arc::clone(&in_flight);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let script = Arc::clone(&script);
                let log = Arc::clone(&log);
                let counter = Arc::clone(&counter);
                let base = base.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        counter.enter();
                        let (answer, delay) = answer(&script, &base, &log, &request);
                        let counter = Arc::clone(&counter);
                        async move {
                            if let Some(delay) = delay {
                                tokio::time::sleep(delay).await;
                            }
                            counter.leave();
                            Ok::<_, Infallible>(answer)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(ReplayServer { address, received, in_flight, task })
    }

    /// The base URL to point a client at, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The most requests that were being answered at the same time.
    pub fn most_in_flight(&self) -> usize {
        self.in_flight.most.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.received.lock().expect("request log").clone()
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(
    script: &Mutex<Script>,
    base: &str,
    log: &Mutex<Vec<ReceivedRequest>>,
    request: &Request<Incoming>,
) -> (Response<Full<Bytes>>, Option<std::time::Duration>) {
    let path = request.uri().path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_default();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), value.to_str().unwrap_or_default().to_string()))
        .collect::<BTreeMap<_, _>>();
    let has_token = headers.get("authorization").is_some_and(|value| value.starts_with("Bearer "));
    let if_none_match = headers.get("if-none-match").cloned();
    log.lock().expect("request log").push(ReceivedRequest {
        method: request.method().to_string(),
        path: path.clone(),
        headers,
    });
    if !has_token {
        let body = serde_json::json!({"message": "Requires authentication"});
        return (json_response(401, &BTreeMap::new(), base, Some(&body)), None);
    }
    let picked = script.lock().expect("script").pick(request.method().as_str(), &path, if_none_match.as_deref());
    match picked {
        Some(interaction) => (
            match &interaction.text {
                Some(text) => response(interaction.status, &interaction.headers, base, text.clone().into_bytes()),
                None => json_response(interaction.status, &interaction.headers, base, interaction.body.as_ref()),
            },
            interaction.delay_ms.map(std::time::Duration::from_millis),
        ),
        None => {
            tracing::debug!("replay: no recorded response for {} {path}", request.method());
            (json_response(404, &BTreeMap::new(), base, Some(&serde_json::json!({"message": "Not Found"}))), None)
        }
    }
}

/// Fills `{base}` (the server's URL) and `{now+N}` (epoch seconds N from now) in a recorded header value.
fn fill_placeholders(value: &str, base: &str) -> String {
    let mut text = value.replace("{base}", base);
    while let Some(start) = text.find("{now+") {
        let Some(length) = text[start..].find('}') else { break };
        let seconds: i64 = text[start + 5..start + length].parse().unwrap_or(0);
        let epoch = chrono::Utc::now().timestamp() + seconds;
        text.replace_range(start..start + length + 1, &epoch.to_string());
    }
    text
}

/// Fills `{days_ago:N}` in a recorded body with the UTC time N days (a decimal number) before now, so recorded
/// events stay inside "the last 90 days" whenever the cassette is replayed.
fn fill_days_ago(text: &str) -> String {
    let mut filled = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{days_ago:") {
        let Some(length) = rest[start..].find('}') else { break };
        let days: f64 = rest[start + 10..start + length].parse().unwrap_or(0.0);
        let moment = chrono::Utc::now() - chrono::Duration::seconds((days * 86_400.0) as i64);
        filled.push_str(&rest[..start]);
        filled.push_str(&moment.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        rest = &rest[start + length + 1..];
    }
    filled.push_str(rest);
    filled
}

fn json_response(
    status: u16,
    headers: &BTreeMap<String, String>,
    base: &str,
    body: Option<&serde_json::Value>,
) -> Response<Full<Bytes>> {
    let bytes = body
        .map(|value| fill_days_ago(&serde_json::to_string_pretty(value).expect("JSON value serialises")).into_bytes())
        .unwrap_or_default();
    response(status, headers, base, bytes)
}

/// An answer with these headers (JSON unless they say otherwise) and body bytes (none for 204 and 304).
fn response(status: u16, headers: &BTreeMap<String, String>, base: &str, bytes: Vec<u8>) -> Response<Full<Bytes>> {
    let bytes = if status == 204 || status == 304 { Vec::new() } else { bytes };
    let mut builder = Response::builder().status(status);
    if !headers.keys().any(|name| name.eq_ignore_ascii_case("content-type")) {
        builder = builder.header("content-type", "application/json; charset=utf-8");
    }
    for (name, value) in headers {
        builder = builder.header(name.as_str(), fill_placeholders(value, base));
    }
    builder.body(Full::new(Bytes::from(bytes))).expect("valid response")
}
