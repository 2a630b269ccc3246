//! The stages import only what comes before them: a module of `src/` may refer (`crate::…`) to modules of its own
//! layer or a lower one. An edge that must go the wrong way is listed with why; the test fails both for a new
//! wrong-way edge and for a listed one that no longer exists (so the list only shrinks).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules of `src/` by layer, lowest first.
const LAYERS: &[&[&str]] = &[
    &["error", "time", "glob", "terminal", "embedded", "progress", "period", "VERSION"],
    &["store"],
    &["facts"],
    &["ingest", "collect"],
    &["config"],
    &["controls", "evaluate"],
    &["report"],
    &["drift", "bundle"],
    &["cli", "lib", "main"],
];

/// Edges from a lower layer to a higher one that exist today, and why (none left; a new one needs a reason here).
const KNOWN: &[(&str, &str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// Every `crate::<module>` a top-level module's code refers to (its unit tests left out), with a file naming it.
fn edges() -> BTreeMap<(String, String), String> {
    let src = Path::new("src");
    let mut edges = BTreeMap::new();
    for file in files(src) {
        let relative = file.strip_prefix(src).unwrap().to_string_lossy().to_string();
        let top = relative.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (at, _) in code.match_indices("crate::") {
            let target: String =
                code[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !target.is_empty() && target != top {
                edges.entry((top.clone(), target)).or_insert_with(|| relative.clone());
            }
        }
    }
    edges
}

#[test]
fn no_stage_imports_a_later_one_beyond_the_known_edges() {
    let edges = edges();
    let known: BTreeSet<(&str, &str)> = KNOWN.iter().map(|(from, to, _)| (*from, *to)).collect();
    let mut wrong = Vec::new();
    for ((from, to), file) in &edges {
        let (Some(from_layer), Some(to_layer)) = (layer_of(from), layer_of(to)) else {
            wrong.push(format!("{file}: {from} -> {to}: a module missing from LAYERS"));
            continue;
        };
        if to_layer > from_layer && !known.contains(&(from.as_str(), to.as_str())) {
            wrong.push(format!("{file}: {from} (layer {from_layer}) imports {to} (layer {to_layer})"));
        }
    }
    assert!(wrong.is_empty(), "imports against the stage order: {wrong:#?}");
    let gone: Vec<_> =
        known.iter().filter(|(from, to)| !edges.contains_key(&(from.to_string(), to.to_string()))).collect();
    assert!(gone.is_empty(), "known edges that no longer exist; remove them from KNOWN: {gone:?}");
}

#[test]
fn stored_evaluations_are_read_only_by_evaluate() {
    let tables =
        ["FROM evaluations", "JOIN evaluations", "control_results", "control_outcomes", "evaluation_frameworks"];
    let mut found = Vec::new();
    for file in files(Path::new("src")) {
        let relative = file.strip_prefix("src").unwrap().to_string_lossy().to_string();
        if relative.starts_with("evaluate/") || relative.starts_with("store/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
            if let Some(table) = tables.iter().find(|table| line.contains(*table)) {
                found.push(format!("{relative}: {table}"));
            }
        }
    }
    assert!(found.is_empty(), "read stored evaluations through evaluate::stored: {found:#?}");
}
