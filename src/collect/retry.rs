//! When to retry a request and how long to wait first, per GitHub's documented rate-limit algorithm (GitLab's
//! `429` with `Retry-After`, and its `RateLimit-*` headers, read the same way).

use std::time::Duration;

use reqwest::header::HeaderMap;

/// How the client retries and waits.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first backoff for server errors and timeouts; it doubles on each retry (plus up to 50 % jitter).
    pub base_backoff: Duration,
    /// The wait after a secondary rate limit that names no time (GitHub: at least one minute).
    pub secondary_wait: Duration,
    /// The longest single wait this run accepts; a longer one is an error that says when to come back.
    pub max_wait: Duration,
    /// The time limit for one request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_secs(1),
            secondary_wait: Duration::from_secs(60),
            max_wait: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// What to do about a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Use it.
    Accept,
    /// Wait, then ask again; the string says why (for the log).
    RetryAfter(Duration, String),
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl RetryPolicy {
    /// Exponential backoff with jitter for the given attempt (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self.base_backoff.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        exponential.mul_f64(1.0 + fastrand::f64() * 0.5)
    }

    /// Decides about a response: rate limits (429, or 403 that says so) and server errors are retried.
    pub fn judge(&self, status: u16, headers: &HeaderMap, body: &[u8], attempt: u32, now_epoch: i64) -> Verdict {
        let retry_after = header_number(headers, "retry-after");
        // GitHub's names, else GitLab's (`RateLimit-Reset` is epoch seconds there too).
        let remaining =
            header_number(headers, "x-ratelimit-remaining").or_else(|| header_number(headers, "ratelimit-remaining"));
        let reset = header_number(headers, "x-ratelimit-reset").or_else(|| header_number(headers, "ratelimit-reset"));
        let says_rate_limit =
            String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase().contains("rate limit");
        let rate_limited =
            status == 429 || (status == 403 && (retry_after.is_some() || remaining == Some(0) || says_rate_limit));
        if rate_limited {
            let (wait, why) = if let Some(seconds) = retry_after {
                (
                    Duration::from_secs(seconds.max(0) as u64),
                    format!("rate limited (HTTP {status}, retry-after {seconds}s)"),
                )
            } else if let (Some(0), Some(reset)) = (remaining, reset) {
                let seconds = (reset - now_epoch).max(0) as u64 + 1;
                (Duration::from_secs(seconds), format!("primary rate limit exhausted until epoch {reset}"))
            } else {
                (self.secondary_wait, format!("secondary rate limit (HTTP {status})"))
            };
            let wait = if attempt > 1 { wait.max(self.backoff(attempt)) } else { wait };
            return Verdict::RetryAfter(wait, why);
        }
        if status >= 500 {
            return Verdict::RetryAfter(self.backoff(attempt), format!("server error HTTP {status}"));
        }
        Verdict::Accept
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn the_documented_order_is_followed() {
        let policy = RetryPolicy::default();
        let wait = |status, pairs: &[(&'static str, &str)], body: &str| match policy.judge(
            status,
            &headers(pairs),
            body.as_bytes(),
            1,
            1_000,
        ) {
            Verdict::RetryAfter(wait, _) => Some(wait),
            Verdict::Accept => None,
        };
        assert_eq!(wait(429, &[("retry-after", "7")], ""), Some(Duration::from_secs(7)));
        assert_eq!(
            wait(403, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1030")], ""),
            Some(Duration::from_secs(31))
        );
        assert_eq!(
            wait(403, &[], r#"{"message":"You have exceeded a secondary rate limit"}"#),
            Some(Duration::from_secs(60))
        );
        assert_eq!(wait(403, &[("x-ratelimit-remaining", "12")], r#"{"message":"Resource not accessible"}"#), None);
        assert_eq!(wait(404, &[], ""), None);
        assert!(wait(502, &[], "").is_some());
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let policy = RetryPolicy { base_backoff: Duration::from_millis(100), ..RetryPolicy::default() };
        let third = policy.backoff(3);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(600), "{third:?}");
    }
}
