//! Waivers (`waivers.yaml`): accepted risks that turn a failing or unknown verdict into `waived` until they expire.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::input_error;

/// How soon an expiry counts as "expiring" in `waivers check`.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

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
    /// When it stops applying (UTC date or time; a date means the end of that day). Required.
    pub expires: String,
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

/// Reads a waivers file and judges every entry as of `as_of`; one bad entry never discards the others.
pub fn load(path: &Path, as_of: NaiveDateTime) -> Result<Vec<JudgedWaiver>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read waivers file {}", path.display()))?;
    let entries: Vec<serde_json::Value> = serde_saphyr::from_str(&text)
        .map_err(|error| input_error(format!("{}: not a list of waivers: {error}", path.display())))?;
    Ok(entries.into_iter().enumerate().map(|(index, entry)| judge(index + 1, entry, as_of)).collect())
}

fn judge(entry: usize, value: serde_json::Value, as_of: NaiveDateTime) -> JudgedWaiver {
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
            "- { control: SRC-11, resource: \"acme/*\", justification: j, approver: a, ticket: SEC-1, created: 2026-07-01, expires: 2026-12-31 }\n\
             - { control: SRC-05, resource: acme/docs, justification: j, approver: a, created: 2026-01-01, expires: 2026-06-30 }\n\
             - { control: SRC-06, resource: acme/x, justification: j, approver: a, created: 2026-01-01 }\n\
             - { control: SRC-06, resource: acme/y, justification: j, approver: a, created: 2026-10-01, expires: 2026-12-31 }\n",
        )
        .unwrap();
        let judged = load(&path, at("2026-09-30")).unwrap();
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
        let error = load(&path, at("2026-09-30")).unwrap_err();
        assert!(error.to_string().contains("waivers.yaml"), "{error}");
    }
}
