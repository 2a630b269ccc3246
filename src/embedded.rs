//! Files compiled into the binary: the built-in controls, report templates and demo fixtures.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Looks up one embedded file by its path relative to the embedded folder.
pub fn find(files: &'static [(&'static str, &'static str)], path: &str) -> Option<&'static str> {
    files.iter().find(|(name, _)| *name == path).map(|(_, text)| *text)
}
