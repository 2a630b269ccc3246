//! Takes secrets out of GitLab's answers before anything is hashed, cached or stored: GitLab sends some to roles
//! that can administer a project or group (the runner registration token, a mirror's import URL with its
//! credentials, CI/CD variable values).

use serde_json::Value;

/// Fields whose value is a secret wherever they appear in an answer.
const SECRET_FIELDS: &[&str] = &["runners_token", "token"];

/// Whether an object is a CI/CD variable (a project's, a group's, a pipeline's or a trigger's), whose `value` is a
/// secret: any object with a `key` beside its `value`, however few of the other fields GitLab sends (elsewhere
/// `value` is a setting's value, as in the approval settings' `{value, locked}`).
fn is_variable(fields: &serde_json::Map<String, Value>) -> bool {
    fields.contains_key("key") && fields.contains_key("value")
}

/// The answer without its secrets, and the JSON pointers of what was taken out; `None` when there was nothing to
/// take (or the body is not JSON, which the client has already refused).
pub fn scrub(body: &[u8]) -> Option<(Vec<u8>, Vec<String>)> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let mut removed = Vec::new();
    walk(&mut value, "", &mut removed);
    removed.sort();
    if removed.is_empty() {
        return None;
    }
    Some((serde_json::to_vec(&value).ok()?, removed))
}

fn walk(value: &mut Value, at: &str, removed: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            let variable = is_variable(fields);
            for (key, field) in fields.iter_mut() {
                let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                let secret = SECRET_FIELDS.contains(&key.as_str()) || (variable && key == "value");
                if secret && !field.is_null() {
                    *field = Value::String("<removed by pipeproof>".to_string());
                    removed.push(pointer);
                } else if key == "import_url" {
                    if let Some(cleaned) = field.as_str().and_then(without_credentials) {
                        *field = Value::String(cleaned);
                        removed.push(pointer);
                    }
                } else {
                    walk(field, &pointer, removed);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                walk(item, &format!("{at}/{index}"), removed);
            }
        }
        _ => {}
    }
}

/// A URL without the user and password it carries; `None` when it carries none.
fn without_credentials(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (_, host) = authority.rsplit_once('@')?;
    Some(format!("{scheme}://{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_taken_out_wherever_they_are() {
        let body =
            br#"[{"id":1,"runners_token":"GR1348941canary","import_url":"https://bot:canary-pass@git.example/x.git",
            "namespace":{"runners_token":"canary2"}},{"key":"DEPLOY","value":"canary3","protected":true},
            {"key":"BARE","value":"canary4"}]"#;
        let (clean, removed) = scrub(body).unwrap();
        let text = String::from_utf8(clean).unwrap();
        assert!(!text.contains("canary"), "{text}");
        assert!(text.contains("https://git.example/x.git"));
        assert!(text.contains(r#""protected":true"#));
        assert_eq!(
            removed,
            ["/0/import_url", "/0/namespace/runners_token", "/0/runners_token", "/1/value", "/2/value"]
        );
    }

    #[test]
    fn every_variable_of_the_recorded_gitlab4j_listing_loses_its_value() {
        let path =
            format!("{}/../shared/samples/gitlab-api/gitlab4j-project-variables.json", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(path).expect("shared samples beside the checkout");
        let (clean, removed) = scrub(&body).unwrap();
        let text = String::from_utf8(clean).unwrap();
        assert_eq!(removed.len(), 4, "the last one carries nothing but its key and value: {removed:?}");
        assert!(!text.contains("TEST_1") && !text.contains("TEST_4"), "{text}");
    }

    #[test]
    fn an_answer_without_secrets_is_left_as_it_came() {
        assert!(scrub(br#"{"id":1,"import_url":"https://git.example/x.git","value":null}"#).is_none());
        assert!(scrub(br#"{"allow_author_approval":{"value":false,"locked":true}}"#).is_none());
    }
}
