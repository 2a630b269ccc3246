//! Files compiled into the binary: the built-in controls, report templates and demo fixtures.

pub use pipeproof_assets::{CONTROLS, DEMO_FIXTURES, TEMPLATES};

/// The built-in framework and crosswalk files as (origin, text), to build a catalogue around other controls.
pub fn framework_files() -> Vec<(String, String)> {
    CONTROLS
        .iter()
        .filter(|(name, _)| name.starts_with("frameworks/") || name.starts_with("crosswalks/"))
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect()
}

/// Looks up one embedded file by its path relative to the embedded folder.
pub fn find(files: &'static [(&'static str, &'static str)], path: &str) -> Option<&'static str> {
    files.iter().find(|(name, _)| *name == path).map(|(_, text)| *text)
}
