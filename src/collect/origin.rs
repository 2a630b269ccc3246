//! Where the token may go: only to the configured API origin (scheme, host and port). A `Link` or a redirect that
//! points anywhere else is not followed, so a server cannot send the token, or evidence, across origins.

use anyhow::Result;
use reqwest::Url;

/// Redirect hops followed within the origin before giving up.
const MAX_REDIRECTS: usize = 5;

/// Checks an API base URL from a config: `http` or `https`, a host, no credentials, query or fragment. Returns it
/// without a trailing slash.
pub fn api_base(url: &str) -> Result<String> {
    let shown = printable(url);
    let refuse = |why: &str| crate::error::input_error(format!("api_url {shown:?}: {why}"));
    let parsed = Url::parse(url).map_err(|error| refuse(&format!("not a URL ({error})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refuse(&format!(
            "the scheme {:?} is not http or https (e.g. https://api.github.com, https://HOST/api/v3, \
             https://gitlab.com/api/v4)",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(refuse("it names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("it carries credentials; the token belongs in the environment variable token_env names"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(refuse("it has a query or fragment; give the API's base URL only"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Whether two URLs share scheme, host and port (an unparsable URL shares nothing).
pub fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin() && a.origin().is_tuple(),
        _ => false,
    }
}

/// A URL from an answer as it may be recorded: without credentials, and cut to a sane length.
pub fn printable(url: &str) -> String {
    let shown = match Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => url.chars().filter(|c| !c.is_control()).collect(),
    };
    shown.chars().take(300).collect()
}

/// The redirect policy: follow up to five hops that stay on the origin of the first request; stop (and answer the
/// redirect itself) at any hop that would leave it, so no credential is ever sent elsewhere.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(Url::as_str).unwrap_or_default().to_string();
        if attempt.previous().len() > MAX_REDIRECTS || !same_origin(&first, attempt.url().as_str()) {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_api_bases_without_credentials_are_accepted() {
        assert_eq!(api_base("https://api.github.com/").unwrap(), "https://api.github.com");
        assert_eq!(api_base("https://ghe.example/api/v3").unwrap(), "https://ghe.example/api/v3");
        assert!(api_base("http://127.0.0.1:8080").is_ok());
        for bad in ["file:///etc/passwd", "ftp://x", "https://user:pw@api.github.com", "https://x?a=1", "not a url"] {
            assert!(api_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin("https://api.github.com/a?page=2", "https://api.github.com/b"));
        assert!(same_origin("https://api.github.com:443/a", "https://api.github.com/b"));
        assert!(!same_origin("https://api.github.com/a", "http://api.github.com/a"));
        assert!(!same_origin("https://api.github.com/a", "https://api.github.com.evil.example/a"));
        assert!(!same_origin("http://127.0.0.1:1/a", "http://127.0.0.1:2/a"));
        assert!(!same_origin("https://api.github.com/a", "//evil.example/a"));
    }

    #[test]
    fn recorded_urls_lose_their_credentials() {
        assert_eq!(printable("https://u:secret@evil.example/x"), "https://evil.example/x");
    }
}
