//! Waivers (`waivers.yaml`): accepted risks that turn a failing or unknown verdict into `waived` until they expire.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::input_error;

/// How soon an expiry counts as "expiring" in `waivers check`.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

/// How long a waiver may last (from `created` to `expires`) unless the config says otherwise.
pub const DEFAULT_MAX_DAYS: u32 = 365;

/// What a waiver must satisfy to be applied at all.
#[derive(Debug, Clone, Default)]
pub struct WaiverRules {
    /// The longest a waiver may last, in days (`waiver_max_days` in the config; default 365).
    pub max_days: Option<u32>,
    /// The control ids of the catalogue: a waiver for any other control is refused. `None` skips the check.
    pub controls: Option<std::collections::BTreeSet<String>>,
}

/// Approvers that name nobody.
const PLACEHOLDERS: &[&str] = &[
    "", ".", "-", "_", "?", "x", "xx", "xxx", "n/a", "na", "none", "null", "nobody", "tbd", "todo", "unknown", "me",
    "someone", "anyone", "admin", "root", "test", "approver", "security", "team",
];

/// One waiver as written in `waivers.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The control id it applies to.
    pub control: String,
    /// The resources it applies to: a name, or a pattern with `*` (any run of characters) and `?` (one character).
    pub resource: String,
    /// Why the risk is accepted.
    pub justification: String,
    /// Who accepted it.
    pub approver: String,
    /// The ticket recording the decision.
    #[serde(default)]
    pub ticket: Option<String>,
    /// When it was granted (UTC date or time).
    pub created: String,
    /// When it stops applying (UTC date or time; a date means the end of that day). Required; at most
    /// `waiver_max_days` (default 365) after `created`.
    pub expires: String,
    /// Set to accept that `resource` is a pattern matching many resources (`*`, `?`): such a waiver is listed in
    /// the report's executive summary.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wildcard: bool,
}

impl Waiver {
    /// Whether its resource is a pattern rather than one resource's name.
    pub fn is_pattern(&self) -> bool {
        self.resource.contains(['*', '?'])
    }
}

/// A waiver's state at the moment evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaiverState {
    /// In force.
    Active,
    /// Not yet granted at that moment.
    NotYetValid,
    /// Past its expiry: never applied.
    Expired,
    /// Unreadable or incomplete: never applied.
    Malformed,
}

/// A waiver entry judged at a moment: what it says (if readable), its state, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JudgedWaiver {
    /// Its position in the file (1-based).
    pub entry: usize,
    /// The waiver, when it could be read.
    pub waiver: Option<Waiver>,
    /// Its state.
    pub state: WaiverState,
    /// A sentence for people (e.g. "expired 2026-09-01", "missing field `expires`").
    pub note: String,
    /// When it was granted, parsed.
    #[serde(skip)]
    pub created_at: Option<NaiveDateTime>,
    /// When it expires, parsed.
    #[serde(skip)]
    pub expires_at: Option<NaiveDateTime>,
}

/// Reads a waivers file and judges every entry as of `as_of` under `rules`; one bad entry never discards the others.
pub fn load(path: &Path, as_of: NaiveDateTime, rules: &WaiverRules) -> Result<Vec<JudgedWaiver>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read waivers file {}", path.display()))?;
    let entries: Vec<serde_json::Value> = serde_saphyr::from_str(&text)
        .map_err(|error| input_error(format!("{}: not a list of waivers: {error}", path.display())))?;
    Ok(entries.into_iter().enumerate().map(|(index, entry)| judge(index + 1, entry, as_of, rules)).collect())
}

/// Whether an approver names someone: an e-mail address, a login (`@jane-doe`), or a name of two words or more.
fn names_someone(approver: &str) -> bool {
    let approver = approver.trim();
    if PLACEHOLDERS.contains(&approver.to_lowercase().as_str()) {
        return false;
    }
    let email = approver.split_whitespace().any(|word| {
        let word = word.trim_matches(|c| c == '<' || c == '>');
        word.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
    });
    let login = approver.strip_prefix('@').unwrap_or(approver);
    let is_login = login.len() >= 2
        && login.len() <= 39
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && login.chars().any(|c| c.is_ascii_alphabetic())
        && !PLACEHOLDERS.contains(&login.to_lowercase().as_str());
    let words = approver.split_whitespace().filter(|word| word.chars().any(char::is_alphabetic)).count();
    email || is_login || words >= 2
}

fn judge(entry: usize, value: serde_json::Value, as_of: NaiveDateTime, rules: &WaiverRules) -> JudgedWaiver {
    let malformed = |note: String, waiver: Option<Waiver>| JudgedWaiver {
        entry,
        waiver,
        state: WaiverState::Malformed,
        note,
        created_at: None,
        expires_at: None,
    };
    let waiver: Waiver = match serde_json::from_value(value) {
        Ok(waiver) => waiver,
        Err(error) => return malformed(format!("entry {entry}: {error}"), None),
    };
    if [&waiver.control, &waiver.resource, &waiver.justification, &waiver.approver].iter().any(|f| f.trim().is_empty())
    {
        return malformed(
            format!("entry {entry}: control, resource, justification and approver must not be empty"),
            Some(waiver),
        );
    }
    if let Some(known) = &rules.controls {
        if !known.contains(&waiver.control) {
            let note =
                format!("entry {entry}: control {:?} is not in the catalogue, so it waives nothing", waiver.control);
            return malformed(note, Some(waiver));
        }
    }
    if !names_someone(&waiver.approver) {
        let note = format!(
            "entry {entry}: approver {:?} names nobody: give the e-mail address, login or full name of who accepted the risk",
            waiver.approver
        );
        return malformed(note, Some(waiver));
    }
    let justification = waiver.justification.trim();
    if justification.chars().filter(|c| c.is_alphanumeric()).count() < 10
        || justification.split_whitespace().count() < 2
    {
        let note =
            format!("entry {entry}: justification {justification:?} is too short to say why the risk is accepted");
        return malformed(note, Some(waiver));
    }
    if waiver.is_pattern() && !waiver.wildcard {
        let note = format!(
            "entry {entry}: resource {:?} is a pattern that waives every resource it matches: add `wildcard: true` to \
             accept that (the report's summary lists such waivers), or name the resource",
            waiver.resource
        );
        return malformed(note, Some(waiver));
    }
    let Some(created_at) = crate::time::parse_start(&waiver.created) else {
        return malformed(
            format!("entry {entry}: created {:?} is not a date or UTC time", waiver.created),
            Some(waiver),
        );
    };
    let Ok(expires_at) = crate::time::parse_as_of(&waiver.expires) else {
        return malformed(
            format!("entry {entry}: expires {:?} is not a date or UTC time", waiver.expires),
            Some(waiver),
        );
    };
    if expires_at < created_at {
        return malformed(format!("entry {entry}: expires before it was created"), Some(waiver));
    }
    let max_days = rules.max_days.unwrap_or(DEFAULT_MAX_DAYS);
    let lasts = (expires_at - created_at).num_days();
    if lasts > i64::from(max_days) {
        let note = format!(
            "entry {entry}: lasts {lasts} days, longer than the {max_days} a waiver may last (waiver_max_days in the \
             config): accept the risk again when it expires"
        );
        return malformed(note, Some(waiver));
    }
    let (state, note) = if as_of > expires_at {
        (WaiverState::Expired, format!("expired {}", crate::time::display_utc(&expires_at)))
    } else if as_of < created_at {
        (WaiverState::NotYetValid, format!("granted only from {}", crate::time::display_utc(&created_at)))
    } else {
        (WaiverState::Active, format!("in force until {}", crate::time::display_utc(&expires_at)))
    };
    JudgedWaiver {
        entry,
        waiver: Some(waiver),
        state,
        note,
        created_at: Some(created_at),
        expires_at: Some(expires_at),
    }
}

/// The first active waiver covering this control and resource.
pub fn find<'a>(waivers: &'a [JudgedWaiver], control: &str, resource: &str) -> Option<&'a JudgedWaiver> {
    waivers.iter().find(|judged| {
        judged.state == WaiverState::Active
            && judged
                .waiver
                .as_ref()
                .is_some_and(|w| w.control == control && crate::glob::matches(&w.resource, resource))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        crate::time::parse_as_of(text).unwrap()
    }

    #[test]
    fn each_entry_is_judged_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waivers.yaml");
        std::fs::write(
            &path,
            "- { control: SRC-11, resource: \"acme/*\", wildcard: true, justification: legacy repositories pending migration, approver: ana@acme.example, ticket: SEC-1, created: 2026-07-01, expires: 2026-12-31 }\n\
             - { control: SRC-05, resource: acme/docs, justification: static site without secrets, approver: \"@bob\", created: 2026-01-01, expires: 2026-06-30 }\n\
             - { control: SRC-06, resource: acme/x, justification: accepted by the board, approver: Ana Lima, created: 2026-01-01 }\n\
             - { control: SRC-06, resource: acme/y, justification: accepted by the board, approver: Ana Lima, created: 2026-10-01, expires: 2026-12-31 }\n",
        )
        .unwrap();
        let judged = load(&path, at("2026-09-30"), &WaiverRules::default()).unwrap();
        let states: Vec<&WaiverState> = judged.iter().map(|j| &j.state).collect();
        assert_eq!(
            states,
            [&WaiverState::Active, &WaiverState::Expired, &WaiverState::Malformed, &WaiverState::NotYetValid]
        );
        assert!(judged[2].note.contains("expires"), "{}", judged[2].note);
        assert_eq!(find(&judged, "SRC-11", "acme/web").map(|j| j.entry), Some(1));
        assert!(find(&judged, "SRC-05", "acme/docs").is_none(), "expired waivers never apply");
        assert!(find(&judged, "SRC-06", "acme/y").is_none(), "not yet valid");
    }

    #[test]
    fn an_unreadable_file_is_an_input_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waivers.yaml");
        std::fs::write(&path, "control: not a list\n").unwrap();
        let error = load(&path, at("2026-09-30"), &WaiverRules::default()).unwrap_err();
        assert!(error.to_string().contains("waivers.yaml"), "{error}");
    }

    fn judged_one(text: &str, rules: &WaiverRules) -> JudgedWaiver {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waivers.yaml");
        std::fs::write(&path, text).unwrap();
        load(&path, at("2026-09-30"), rules).unwrap().remove(0)
    }

    #[test]
    fn a_waiver_cannot_buy_compliance_wholesale() {
        let rules = WaiverRules { max_days: None, controls: Some(["SRC-06".to_string()].into()) };
        let refused = |text: &str, says: &str| {
            let judged = judged_one(text, &rules);
            assert_eq!(judged.state, WaiverState::Malformed, "{text}");
            assert!(judged.note.contains(says), "{}", judged.note);
        };
        let base = "control: SRC-06, resource: acme/x, justification: accepted by the board, approver: ana@acme.example, created: 2026-09-01, expires: 2026-12-31";
        assert_eq!(judged_one(&format!("- {{ {base} }}"), &rules).state, WaiverState::Active);
        refused(&format!("- {{ {} }}", base.replace("ana@acme.example", "\".\"")), "names nobody");
        refused(&format!("- {{ {} }}", base.replace("ana@acme.example", "TBD")), "names nobody");
        refused(&format!("- {{ {} }}", base.replace("accepted by the board", "ok")), "too short");
        refused(&format!("- {{ {} }}", base.replace("2026-12-31", "9999-12-31")), "longer than the 365");
        refused(&format!("- {{ {} }}", base.replace("SRC-06", "SRC-99")), "not in the catalogue");
        refused(&format!("- {{ {} }}", base.replace("acme/x", "\"*\"")), "add `wildcard: true`");
        let wildcard = judged_one(&format!("- {{ {}, wildcard: true }}", base.replace("acme/x", "\"*\"")), &rules);
        assert_eq!(wildcard.state, WaiverState::Active);
        let longer = WaiverRules { max_days: Some(400), ..rules.clone() };
        let text = format!("- {{ {} }}", base.replace("2026-12-31", "2027-09-30"));
        assert_eq!(judged_one(&text, &longer).state, WaiverState::Active, "the cap is the config's");
    }

    #[test]
    fn approvers_must_name_someone() {
        for who in ["ana@acme.example", "Ana Lima <ana@acme.example>", "@ana-lima", "ana-lima", "Ana Lima"] {
            assert!(names_someone(who), "{who}");
        }
        for who in [".", "-", "TBD", "n/a", "x", "@", "admin", "a", "12", "security"] {
            assert!(!names_someone(who), "{who}");
        }
    }
}
