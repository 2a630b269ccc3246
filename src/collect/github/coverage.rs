//! Whether a GitHub answer could be read: one judgement for every kind of GitHub evidence (endpoints, operating
//! evidence, the audit log) and for `doctor`, into the states of `collect::coverage`.

pub use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::ApiResponse;

/// Judges the pages of one answer about `kind`: the first page that is not `200`/`204` decides. `needs` says what
/// would make it visible; `absent_on_404` when GitHub answers 404 for "there is none".
pub fn judge(kind: &str, needs: &str, absent_on_404: bool, pages: &[ApiResponse]) -> Seen {
    let Some(failed) = pages.iter().find(|page| page.status != 200 && page.status != 204) else {
        return Seen::Visible;
    };
    if failed.status == crate::collect::http::UNANSWERED {
        let why = failed.error_message().unwrap_or_else(|| "no usable answer".to_string());
        return Seen::Incomplete(format!("{kind} was not read completely: {why}"));
    }
    if failed.status == 404 && absent_on_404 {
        return Seen::Absent;
    }
    let message = failed.error_message().unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    let feature_off = ["disabled", "must be enabled", "not enabled", "no analysis found", "not available"]
        .iter()
        .any(|phrase| lower.contains(phrase));
    let quoted = if message.is_empty() { String::new() } else { format!(" \"{message}\"") };
    if feature_off && matches!(failed.status, 403 | 404 | 422) {
        return Seen::FeatureOff(format!("GitHub answered HTTP {}{quoted}: the feature is off", failed.status));
    }
    Seen::NotVisible(format!("GitHub answered HTTP {}{quoted} for {kind}: needs {needs}", failed.status))
}
