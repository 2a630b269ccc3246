//! Webhook notifications of drift: a JSON summary (a Slack/Teams-compatible `text` plus the structured diff) POSTed
//! to each URL with a timeout and retries. Secrets in URLs come from `${ENV_VAR}` placeholders and are never logged:
//! only the scheme and host are ever shown. A failed notification is reported and changes nothing else.

use std::time::Duration;

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use crate::drift::{Change, Drift};

/// Attempts per URL.
const ATTEMPTS: u32 = 3;
/// Time allowed for one attempt.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What happened to one notification.
#[derive(Debug)]
pub struct Outcome {
    /// The URL as it may be shown (scheme and host only).
    pub shown: String,
    /// `None` when delivered, else why not.
    pub error: Option<String>,
}

/// The notification body for a drift: `text` for chat tools, the rest for machines.
pub fn payload(organisation: &str, drift: &Drift, regressions: &[&Change]) -> Value {
    let mut text = format!(
        "pipeproof: {organisation}: evaluation #{} compared with #{}: {} regression(s), {} change(s) in all",
        drift.to.0,
        drift.from.0,
        regressions.len(),
        drift.changes.len()
    );
    for change in regressions.iter().take(10) {
        text.push_str(&format!(
            "\n- {} {} on {}: {}",
            change.label.to_lowercase(),
            change.control,
            change.resource,
            change.reason
        ));
    }
    if regressions.len() > 10 {
        text.push_str(&format!("\n- and {} more", regressions.len() - 10));
    }
    json!({
        "text": text,
        "organisation": organisation,
        "regressions": regressions.len(),
        "drift": drift,
    })
}

/// POSTs `payload` to every URL (after resolving `${VAR}` placeholders), retrying failures; never fails itself.
pub fn send_all(urls: &[String], payload: &Value) -> Vec<Outcome> {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            return urls.iter().map(|url| Outcome { shown: shown(url), error: Some(error.to_string()) }).collect()
        }
    };
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!("pipeproof/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            return urls.iter().map(|url| Outcome { shown: shown(url), error: Some(error.to_string()) }).collect()
        }
    };
    urls.iter()
        .map(|template| {
            let shown = shown(template);
            let error = match resolve(template) {
                Ok(url) => runtime.block_on(deliver(&client, &url, payload)).err().map(|e| e.to_string()),
                Err(error) => Some(error.to_string()),
            };
            Outcome { shown, error }
        })
        .collect()
}

async fn deliver(client: &reqwest::Client, url: &str, payload: &Value) -> Result<()> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
        match client.post(url).json(payload).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) if response.status().is_client_error() && response.status().as_u16() != 429 => {
                return Err(anyhow!("refused with HTTP {}", response.status().as_u16()));
            }
            Ok(response) => last = format!("HTTP {}", response.status().as_u16()),
            // reqwest's error text can hold the URL; say only what kind of failure it was.
            Err(error) if error.is_timeout() => last = format!("no answer within {}s", TIMEOUT.as_secs()),
            Err(error) if error.is_connect() => last = "could not connect".to_string(),
            Err(_) => last = "the request failed".to_string(),
        }
    }
    Err(anyhow!("gave up after {ATTEMPTS} attempts (last: {last})"))
}

/// Replaces `${VAR}` with the environment variable's value; an unset variable is an error naming it.
fn resolve(template: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').ok_or_else(|| anyhow!("unclosed ${{ in a notification URL"))? + start;
        let name = &rest[start + 2..end];
        let value = std::env::var(name).map_err(|_| anyhow!("the environment variable {name} is not set"))?;
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The URL as it may appear in logs: scheme and host, never the path or query (where webhook secrets live).
fn shown(template: &str) -> String {
    let (scheme, rest) = template.split_once("://").unwrap_or(("", template));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let host = if host.contains("${") { "(host from the environment)" } else { host };
    format!("{scheme}://{host}/…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_secret_parts() {
        assert_eq!(shown("https://hooks.slack.com/services/T0/B0/SECRET"), "https://hooks.slack.com/…");
        assert_eq!(shown("https://user:pw@example.com/x?token=SECRET"), "https://example.com/…");
        assert_eq!(shown("https://${HOOK_HOST}/x"), "https://(host from the environment)/…");
    }

    #[test]
    fn placeholders_come_from_the_environment() {
        std::env::set_var("PIPEPROOF_TEST_HOOK_SECRET", "s3cret");
        assert_eq!(resolve("https://h/x/${PIPEPROOF_TEST_HOOK_SECRET}?a=1").unwrap(), "https://h/x/s3cret?a=1");
        let error = resolve("https://h/${PIPEPROOF_TEST_UNSET_VARIABLE}").unwrap_err().to_string();
        assert!(error.contains("PIPEPROOF_TEST_UNSET_VARIABLE"));
    }
}
