//! The group's GitLab tier, and what a GitLab answer says was seen. Approval rules and push rules are Premium
//! features: on a tier without them the evidence is `feature_off` with the tier named (controls say not
//! applicable), never a failure; a 403 or 404 where the tier is not known is `not_visible`, since GitLab answers 404
//! both for "missing" and for "not yours to see".

use serde_json::Value;

use crate::collect::coverage::Seen;
use crate::collect::http::{ApiResponse, UNANSWERED};

/// What is known of the tier of the group's top-level namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tier {
    /// Free: no Premium features; how that is known.
    Free(String),
    /// A paid plan (or trial), by GitLab's name for it.
    Paid(String),
    /// Not known to this token; why.
    Unknown(String),
}

impl Tier {
    /// Reads the tier from `/metadata` (a Community Edition instance has no paid features) and the top-level
    /// namespace's `plan` (GitLab.com shows it to the group's owners).
    pub fn judge(metadata: &ApiResponse, namespace: &ApiResponse) -> Tier {
        let body = |response: &ApiResponse| (response.status == 200).then(|| response.json().ok()).flatten();
        if let Some(false) = body(metadata).and_then(|m| m.get("enterprise").and_then(Value::as_bool)) {
            return Tier::Free("the instance runs GitLab Community Edition (/metadata: enterprise false)".into());
        }
        match body(namespace).and_then(|n| n.get("plan").and_then(Value::as_str).map(str::to_string)) {
            Some(plan) if plan == "free" => Tier::Free("the group's plan is free".into()),
            // Self-managed instances license the whole instance and call every namespace's plan `default`.
            Some(plan) if plan == "default" || plan.is_empty() => {
                Tier::Unknown("the instance's licence is visible to administrators only".into())
            }
            Some(plan) => Tier::Paid(plan),
            None => Tier::Unknown(format!(
                "the group's plan was not shown (HTTP {} for its namespace: GitLab shows it to the group's owners)",
                namespace.status
            )),
        }
    }

    /// The tier in words, for reasons.
    pub fn describe(&self) -> String {
        match self {
            Tier::Free(how) => format!("GitLab Free ({how})"),
            Tier::Paid(plan) => format!("GitLab {plan}"),
            Tier::Unknown(why) => format!("tier not known: {why}"),
        }
    }
}

/// What a GitLab endpoint's pages say was seen: `kind` names the evidence, `role` the role that shows it, and
/// `premium` the feature when only GitLab Premium or Ultimate has it.
pub fn judge(kind: &str, role: &str, premium: Option<&str>, tier: &Tier, pages: &[ApiResponse]) -> Seen {
    let Some(failed) = pages.iter().find(|page| page.status != 200 && page.status != 204) else {
        return Seen::Visible;
    };
    let message = failed.error_message().unwrap_or_default();
    if failed.status == UNANSWERED {
        return Seen::Incomplete(format!("{kind} was not read completely: {message}"));
    }
    let quoted = if message.is_empty() { String::new() } else { format!(" \"{message}\"") };
    match (premium, tier, failed.status) {
        (Some(feature), Tier::Free(how), 403 | 404) => {
            Seen::FeatureOff(format!("GitLab Free has no {feature} ({how})"))
        }
        (Some(feature), Tier::Unknown(why), 403 | 404) => Seen::NotVisible(format!(
            "GitLab answered HTTP {}{quoted} for {kind}: needs the {role} role, and {feature} needs GitLab Premium \
             ({why})",
            failed.status
        )),
        (_, _, status) => {
            Seen::NotVisible(format!("GitLab answered HTTP {status}{quoted} for {kind}: needs the {role} role"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::collect::gitlab::test_answer as answer;

    #[test]
    fn the_tier_comes_from_the_edition_then_the_plan() {
        let ee = answer(200, r#"{"version":"17.5.0","enterprise":true}"#);
        let ce = answer(200, r#"{"version":"17.5.0","enterprise":false}"#);
        let plan = |p: &str| answer(200, &format!(r#"{{"id":1,"plan":"{p}"}}"#));
        assert!(matches!(Tier::judge(&ce, &plan("ultimate")), Tier::Free(_)));
        assert!(matches!(Tier::judge(&ee, &plan("free")), Tier::Free(_)));
        assert_eq!(Tier::judge(&ee, &plan("premium")), Tier::Paid("premium".into()));
        assert!(matches!(Tier::judge(&ee, &plan("default")), Tier::Unknown(_)));
        assert!(matches!(Tier::judge(&ee, &answer(200, r#"{"id":1}"#)), Tier::Unknown(_)));
        assert!(matches!(Tier::judge(&answer(401, "{}"), &answer(404, "{}")), Tier::Unknown(_)));
    }

    #[test]
    fn a_premium_feature_is_off_only_where_the_tier_is_known_to_lack_it() {
        let forbidden = [answer(403, r#"{"message":"403 Forbidden"}"#)];
        let free = Tier::Free("the group's plan is free".into());
        let unknown = Tier::Unknown("not shown".into());
        let paid = Tier::Paid("premium".into());
        let seen = |tier: &Tier| judge("gitlab.push_rule", "Maintainer", Some("push rules"), tier, &forbidden);
        assert!(matches!(seen(&free), Seen::FeatureOff(reason) if reason.contains("GitLab Free has no push rules")));
        assert!(matches!(seen(&unknown), Seen::NotVisible(reason) if reason.contains("needs GitLab Premium")));
        assert!(matches!(seen(&paid), Seen::NotVisible(reason) if reason.contains("needs the Maintainer role")));
        let none = judge("gitlab.protected_branches", "Maintainer", None, &free, &forbidden);
        assert!(matches!(none, Seen::NotVisible(_)));
    }
}
