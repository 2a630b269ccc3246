//! Credential material cut out of evidence before it is stored, so no store, report or bundle carries it: user
//! names and passwords inside URLs, secrets in query strings and webhook paths, values of fields named like
//! secrets (`secret`, `password`, `token`, …, as scanners and APIs write them), tokens of known formats (GitHub,
//! GitLab, npm, Slack, AWS), private-key blocks, and the credentials of package-registry configurations (`.npmrc`,
//! `.yarnrc.yml`, `pip.conf`, Maven and NuGet settings), also inside the base64 `content` of GitHub's contents
//! API. Each is replaced by `[REDACTED]` (structure kept, so what facts read of the rest is unchanged); the evidence's
//! provenance says what was cut and the sha256 of the bytes as received.
//!
//! Hand-written over `regex` rather than a secret-scanning crate: we need replacement with counts, not detection
//! reports, and the patterns are few and documented here.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine;
use regex::bytes::{Captures, Regex, RegexSet};

/// What replaces each secret.
pub const MARKER: &str = "[REDACTED]";

/// Bytes with their secrets cut out, and how many of each kind were.
pub struct Redacted {
    /// The bytes to store.
    pub bytes: Vec<u8>,
    /// What was cut, by kind, with counts.
    pub cut: BTreeMap<&'static str, usize>,
}

impl Redacted {
    /// The provenance note: what was cut and the digest of the bytes as received.
    pub fn note(&self, original: &[u8]) -> serde_json::Value {
        serde_json::json!({ "cut": self.cut, "sha256_as_received": super::sha256_hex(original) })
    }
}

/// One kind of secret: a pattern whose capture group `secret` is replaced (the whole match when it has none).
struct Rule {
    kind: &'static str,
    pattern: Regex,
}

fn rule(kind: &'static str, pattern: &str) -> Rule {
    Rule { kind, pattern: Regex::new(pattern).expect("a valid redaction pattern") }
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            "private keys",
            r"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?P<secret>.*?)-----END[A-Z0-9 ]*PRIVATE KEY-----",
        ),
        // `user:password@` keeps the user; a user alone (`ssh://git@`) is no secret, a token in its place is.
        rule(
            "credentials in URLs",
            r#"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^\s/?#@:"'<>\\\[\]]*:(?P<secret>[^\s/?#@"'<>\\\[\]]+)@[a-z0-9\[]"#,
        ),
        rule("credentials in URLs", r#"(?i)\b[a-z][a-z0-9+.\-]{1,20}://(?P<secret>[A-Za-z0-9_\-.~%]{20,})@[a-z0-9\[]"#),
        rule(
            "secrets in URL queries",
            r#"(?i)[?&](?:access_token|token|sig|signature|api_key|apikey|secret|password|private_token)=(?P<secret>[^&\s"'#<>\\]+)"#,
        ),
        rule(
            "secret webhook URLs",
            r#"(?i)(?:hooks\.slack\.com/services|discord(?:app)?\.com/api/webhooks|webhook\.office\.com/webhookb2)/(?P<secret>[^\s"'<>\\?#]+)"#,
        ),
        rule(
            "fields named as secrets",
            r#"(?i)"(?:secret|password|passwd|token|access_token|refresh_token|id_token|client_secret|private_key|api_key|apikey|auth_token|_authtoken|_auth|_password|raw|rawv2)"\s*:\s*"(?P<secret>(?:[^"\\]|\\.)+)""#,
        ),
        rule(
            "tokens",
            r"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255}|glpat-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{36}|xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16})\b",
        ),
        rule(
            "registry credentials",
            r"(?im)^[ \t]*(?:[^\s=#;]*:)?(?:_authToken|_auth|_password|npmAuthToken|npmAuthIdent|password)[ \t]*[=:][ \t]*(?P<secret>[^\s]+)",
        ),
        rule(
            "registry credentials",
            r#"(?i)<password>(?P<secret>[^<]+)</password>|key="ClearTextPassword"\s+value="(?P<value>[^"]+)""#,
        ),
    ]
});

/// Every rule's pattern in one automaton: one pass says which rules can match at all, so text with nothing to cut
/// (most evidence) is scanned once, not once per rule.
static ANY: LazyLock<RegexSet> =
    LazyLock::new(|| RegexSet::new(RULES.iter().map(|rule| rule.pattern.as_str())).expect("valid redaction patterns"));

/// Whether a captured value is no secret: a marker, a mask GitHub writes (`********`), or a reference to one kept
/// elsewhere (`${{ secrets.X }}`, `${NPM_TOKEN}`, `$TOKEN`).
fn harmless(secret: &[u8]) -> bool {
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:\$\{\{.*|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Z_][A-Z0-9_]*)$").expect("a valid pattern")
    });
    secret == MARKER.as_bytes() || secret.iter().all(|b| *b == b'*') || REFERENCE.is_match(secret)
}

/// Cuts every secret out of text; counts what it cut into `cut`.
fn redact_text(text: &[u8], cut: &mut BTreeMap<&'static str, usize>) -> Option<Vec<u8>> {
    let candidates = ANY.matches(text);
    if !candidates.matched_any() {
        return None;
    }
    let mut current: Option<Vec<u8>> = None;
    for (index, rule) in RULES.iter().enumerate() {
        if !candidates.matched(index) {
            continue;
        }
        let source = current.as_deref().unwrap_or(text);
        let mut found = 0;
        let replaced = rule.pattern.replace_all(source, |captures: &Captures| {
            let whole = captures.get(0).expect("a match");
            let Some(secret) = captures.name("secret").or_else(|| captures.name("value")) else {
                return whole.as_bytes().to_vec();
            };
            if harmless(secret.as_bytes()) {
                return whole.as_bytes().to_vec();
            }
            found += 1;
            let mut out = whole.as_bytes()[..secret.start() - whole.start()].to_vec();
            out.extend_from_slice(MARKER.as_bytes());
            out.extend_from_slice(&whole.as_bytes()[secret.end() - whole.start()..]);
            out
        });
        if found > 0 {
            *cut.entry(rule.kind).or_default() += found;
            current = Some(replaced.into_owned());
        }
    }
    current
}

/// GitHub's contents API answer (`{"encoding": "base64", "content": …}`) with secrets cut from the decoded file,
/// re-encoded as GitHub wraps it (60 characters a line).
fn redact_contents_answer(body: &[u8], cut: &mut BTreeMap<&'static str, usize>) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if value.get("encoding")?.as_str()? != "base64" {
        return None;
    }
    let encoded: String = value.get("content")?.as_str()?.chars().filter(|c| !c.is_whitespace()).collect();
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let cleaned = redact_text(&decoded, cut)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(cleaned);
    let wrapped: Vec<&str> =
        encoded.as_bytes().chunks(60).map(|line| std::str::from_utf8(line).expect("base64 is ASCII")).collect();
    value["content"] = serde_json::Value::String(wrapped.join("\n") + "\n");
    serde_json::to_vec(&value).ok()
}

/// The bytes to store for evidence received as `body`: `None` when it holds no credential material (the bytes are
/// stored as received).
pub fn redact(body: &[u8]) -> Option<Redacted> {
    if is_compressed(body) {
        return None;
    }
    let mut cut = BTreeMap::new();
    let looks_like_contents =
        body.len() < (16 << 20) && body.starts_with(b"{") && memfind(body, b"\"encoding\"") && memfind(body, b"base64");
    let inner = if looks_like_contents { redact_contents_answer(body, &mut cut) } else { None };
    let outer = redact_text(inner.as_deref().unwrap_or(body), &mut cut);
    let bytes = outer.or(inner)?;
    Some(Redacted { bytes, cut })
}

/// Whether bytes are gzip or Zstandard (a pattern matched inside them would corrupt them, and find nothing real:
/// the ingest stores a compressed file that held credentials decompressed instead).
pub fn is_compressed(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

fn memfind(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// A piece of a large file with its secrets cut (text rules only; a piece is not a contents answer); counts into
/// `cut`. `None` when nothing was cut.
pub fn redact_piece(piece: &[u8], cut: &mut BTreeMap<&'static str, usize>) -> Option<Vec<u8>> {
    redact_text(piece, cut)
}

/// The sha256 of the bytes stored for `body` (its own when nothing is cut).
pub fn stored_sha256(body: &[u8]) -> String {
    match redact(body) {
        Some(redacted) => super::sha256_hex(&redacted.bytes),
        None => super::sha256_hex(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> (String, BTreeMap<&'static str, usize>) {
        match redact(text.as_bytes()) {
            Some(redacted) => (String::from_utf8(redacted.bytes).unwrap(), redacted.cut),
            None => (text.to_string(), BTreeMap::new()),
        }
    }

    #[test]
    fn credentials_are_cut_and_the_rest_is_kept() {
        let (text, what) =
            cut(r#"{"config": {"url": "https://bot:s3cr3t@hooks.example.com/x", "secret": "********"}}"#);
        assert_eq!(text, r#"{"config": {"url": "https://bot:[REDACTED]@hooks.example.com/x", "secret": "********"}}"#);
        assert_eq!(what["credentials in URLs"], 1);
        let (text, _) = cut(r#"{"secret_type": "github_personal_access_token", "secret": "abc123def"}"#);
        assert_eq!(text, r#"{"secret_type": "github_personal_access_token", "secret": "[REDACTED]"}"#);
        let token = format!("ghp_{}", "a".repeat(36));
        let (text, _) = cut(&format!("run: echo {token} | docker login"));
        assert_eq!(text, "run: echo [REDACTED] | docker login");
        let (text, what) = cut("@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken=abc\n");
        assert_eq!(text, "@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken=[REDACTED]\n");
        assert_eq!(what["registry credentials"], 1);
        let (text, _) = cut("[global]\nindex-url = https://user:pw@pypi.example/simple\npassword = hunter2\n");
        assert_eq!(text, "[global]\nindex-url = https://user:[REDACTED]@pypi.example/simple\npassword = [REDACTED]\n");
        let token = "0123456789abcdef0123456789abcdef01234567";
        let (text, _) = cut(&format!("git clone https://{token}@github.com/o/r.git"));
        assert_eq!(text, "git clone https://[REDACTED]@github.com/o/r.git");
        let (text, _) = cut("key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n");
        assert_eq!(text, "key:\n-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----\n");
        let (text, _) = cut("https://hooks.slack.com/services/T0/B0/XYZ and https://x.blob/c?sv=1&sig=abc%3D");
        assert_eq!(text, "https://hooks.slack.com/services/[REDACTED] and https://x.blob/c?sv=1&sig=[REDACTED]");
    }

    #[test]
    fn nothing_to_cut_keeps_the_bytes_and_cutting_twice_changes_nothing() {
        for clean in [
            r#"{"login": "alice", "email": "a@example.com", "ssh_url": "git@github.com:o/r.git"}"#,
            r#"{"token_kind": "x", "secret_scanning": {"status": "enabled"}, "url": "https://api.github.com/x"}"#,
            r#"{"vcs": "git+ssh://git@github.com/juice-shop/juice-shop.git", "by": "git+https://taylorhakes@github.com/x"}"#,
        ] {
            assert!(redact(clean.as_bytes()).is_none(), "{clean}");
        }
        for reference in ["password: ${{ secrets.DOCKER_PASSWORD }}\n", "//r/:_authToken=${NPM_TOKEN}\n"] {
            assert!(redact(reference.as_bytes()).is_none(), "{reference}");
        }
        // A value that merely starts with `$` is a secret like any other.
        let (text, _) = cut("password = $ecretPass\n//r/:_authToken=$abc123\n");
        assert_eq!(text, "password = [REDACTED]\n//r/:_authToken=[REDACTED]\n");
        let once = redact(b"https://u:p@h.example/ \"password\": \"x\"").unwrap();
        assert!(redact(&once.bytes).is_none(), "{}", String::from_utf8_lossy(&once.bytes));
    }

    #[test]
    fn a_registry_config_inside_a_contents_answer_is_cut_and_re_encoded() {
        let file = "registry=https://r.example/\n//r.example/:_authToken=npm_secret_value\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(file);
        let body = serde_json::json!({"path": ".npmrc", "encoding": "base64", "content": encoded}).to_string();
        let redacted = redact(body.as_bytes()).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&redacted.bytes).unwrap();
        let content: String = value["content"].as_str().unwrap().chars().filter(|c| !c.is_whitespace()).collect();
        let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(content).unwrap()).unwrap();
        assert_eq!(decoded, "registry=https://r.example/\n//r.example/:_authToken=[REDACTED]\n");
        assert_eq!(redacted.note(body.as_bytes())["sha256_as_received"], super::super::sha256_hex(body.as_bytes()));
    }
}
