//! Reads a repository's file tree for what decides whether its dependencies are locked: package manifests, the
//! lock files that pin them, and container build files, whose `FROM` lines are read for digest-pinned base images.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::maybe_text;
use super::endpoints::{Fact, Scope};

/// What a file in the tree is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Declares dependencies (`package.json`, `Cargo.toml`).
    Manifest,
    /// Pins them, for its own directory only.
    Lock,
    /// Pins them for its directory and everything below it (a workspace's lock file).
    WorkspaceLock,
    /// Declares dependencies in an ecosystem that has no lock file to expect (Maven's `pom.xml`).
    ManifestOnly,
}

/// File names, their ecosystem and role.
const NAMED_FILES: &[(&str, &str, Role)] = &[
    ("package.json", "npm", Role::Manifest),
    ("package-lock.json", "npm", Role::WorkspaceLock),
    ("npm-shrinkwrap.json", "npm", Role::WorkspaceLock),
    ("yarn.lock", "npm", Role::WorkspaceLock),
    ("pnpm-lock.yaml", "npm", Role::WorkspaceLock),
    ("bun.lock", "npm", Role::WorkspaceLock),
    ("bun.lockb", "npm", Role::WorkspaceLock),
    ("Cargo.toml", "cargo", Role::Manifest),
    ("Cargo.lock", "cargo", Role::WorkspaceLock),
    ("go.mod", "go", Role::Manifest),
    ("go.sum", "go", Role::Lock),
    ("pyproject.toml", "python", Role::Manifest),
    ("Pipfile", "python", Role::Manifest),
    ("requirements.in", "python", Role::Manifest),
    ("poetry.lock", "python", Role::Lock),
    ("Pipfile.lock", "python", Role::Lock),
    ("pdm.lock", "python", Role::Lock),
    ("pylock.toml", "python", Role::Lock),
    ("requirements.txt", "python", Role::Lock),
    ("uv.lock", "python", Role::WorkspaceLock),
    ("Gemfile", "ruby", Role::Manifest),
    ("Gemfile.lock", "ruby", Role::Lock),
    ("composer.json", "php", Role::Manifest),
    ("composer.lock", "php", Role::Lock),
    ("pubspec.yaml", "dart", Role::Manifest),
    ("pubspec.lock", "dart", Role::WorkspaceLock),
    ("Package.swift", "swift", Role::Manifest),
    ("Package.resolved", "swift", Role::Lock),
    ("mix.exs", "elixir", Role::Manifest),
    ("mix.lock", "elixir", Role::Lock),
    ("build.gradle", "gradle", Role::Manifest),
    ("build.gradle.kts", "gradle", Role::Manifest),
    ("gradle.lockfile", "gradle", Role::Lock),
    ("packages.lock.json", "nuget", Role::Lock),
    ("pom.xml", "maven", Role::ManifestOnly),
];

/// File name endings of .NET project files, whose lock file is `packages.lock.json`.
const NUGET_PROJECTS: &[&str] = &[".csproj", ".fsproj", ".vbproj"];

/// The ecosystem and role of a file name, if it is one that matters here.
fn classify(name: &str) -> Option<(&'static str, &'static str)> {
    if is_container_file(name) {
        return Some(("container", "container"));
    }
    if NUGET_PROJECTS.iter().any(|ending| name.ends_with(ending)) {
        return Some(("nuget", "manifest"));
    }
    let (_, ecosystem, role) = NAMED_FILES.iter().find(|(file, _, _)| *file == name)?;
    let role = match role {
        Role::Manifest => "manifest",
        Role::Lock => "lock",
        Role::WorkspaceLock => "workspace_lock",
        Role::ManifestOnly => "manifest_only",
    };
    Some((ecosystem, role))
}

/// Whether a file name is a container build file (`Dockerfile`, `Dockerfile.prod`, `api.Dockerfile`,
/// `Containerfile`).
fn is_container_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["dockerfile", "containerfile"]
        .iter()
        .any(|base| lower == *base || lower.starts_with(&format!("{base}.")) || lower.ends_with(&format!(".{base}")))
}

/// The path of a tree entry, for files (blobs) only.
fn blob_path(entry: &Value) -> Option<&str> {
    (entry.get("type").and_then(Value::as_str) == Some("blob")).then(|| entry.get("path")?.as_str()).flatten()
}

/// The rows of a repository's recursive tree: one `tree` row recording that it was read (and whether GitHub
/// truncated it), then one per manifest, lock file and container build file.
pub fn tree(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let truncated = body.get("truncated").and_then(Value::as_bool).unwrap_or(false);
    let row = |path: &str, ecosystem: Option<&str>, role: &str| {
        let (directory, _) = split(path);
        Fact {
            table: "dependency_files",
            cells: vec![
                maybe_text(scope.repo),
                Cell::Text(path.to_string()),
                Cell::Text(directory.to_string()),
                maybe_text(ecosystem),
                Cell::Text(role.to_string()),
                Cell::Boolean(truncated),
            ],
        }
    };
    let mut facts = vec![row("", None, "tree")];
    let entries = body.get("tree").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for path in entries.iter().filter_map(blob_path) {
        if let Some((ecosystem, role)) = classify(split(path).1) {
            facts.push(row(path, Some(ecosystem), role));
        }
    }
    Ok(facts)
}

/// A path's directory (`''` at the root) and file name.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// The contents path of a tree entry that is a container build file.
pub fn container_file_path(scope: &Scope, entry: &Value) -> Option<String> {
    let path = blob_path(entry)?;
    if !is_container_file(split(path).1) {
        return None;
    }
    super::workflow_files::contents_path(scope, path)
}

/// One row per `FROM` of a container build file; one `unreadable` row when its text cannot be read.
pub fn container_file(scope: &Scope, body: &Value, listed: Option<&Value>) -> Result<Vec<Fact>> {
    let path = listed.and_then(blob_path).or_else(|| body.get("path").and_then(Value::as_str)).unwrap_or_default();
    let row = |base: Option<&Base>, error: Option<&str>| Fact {
        table: "container_bases",
        cells: vec![
            maybe_text(scope.repo),
            Cell::Text(path.to_string()),
            base.map_or(Cell::Null, |b| Cell::Int(b.line as i32)),
            maybe_text(base.and_then(|b| b.stage.as_deref())),
            maybe_text(base.map(|b| b.image.as_str())),
            Cell::Text(base.map_or("unreadable", |b| b.kind).to_string()),
            maybe_text(base.and_then(|b| b.digest.as_deref())),
            maybe_text(error),
        ],
    };
    match super::workflow_files::decode(body) {
        Ok(text) => Ok(bases(&text).iter().map(|base| row(Some(base), None)).collect()),
        Err(error) => Ok(vec![row(None, Some(&error))]),
    }
}

/// One `FROM` line: what a build stage starts from.
#[derive(Debug, PartialEq)]
struct Base {
    /// The line the instruction starts on (1-based).
    line: usize,
    /// The stage name it defines (`AS build`).
    stage: Option<String>,
    /// The image as resolved from build arguments' defaults (as written when a variable has none).
    image: String,
    /// `image`, `stage` (an earlier stage of the same file), `scratch`, or `unresolved` (a build argument with no
    /// default decides it).
    kind: &'static str,
    /// The `sha256:` digest it is pinned to.
    digest: Option<String>,
}

/// The `FROM` instructions of a Dockerfile, with global `ARG` defaults substituted.
fn bases(text: &str) -> Vec<Base> {
    let mut arguments: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    let mut found = Vec::new();
    for (line, instruction) in instructions(text) {
        let mut words = instruction.split_whitespace();
        let Some(keyword) = words.next() else { continue };
        if keyword.eq_ignore_ascii_case("ARG") && found.is_empty() {
            for argument in words {
                if let Some((name, value)) = argument.split_once('=') {
                    arguments.push((name.to_string(), value.trim_matches('"').to_string()));
                }
            }
            continue;
        }
        if !keyword.eq_ignore_ascii_case("FROM") {
            continue;
        }
        let operands: Vec<&str> = words.filter(|word| !word.starts_with("--")).collect();
        let Some(written) = operands.first() else { continue };
        let stage = match operands.as_slice() {
            [_, alias, name, ..] if alias.eq_ignore_ascii_case("AS") => Some(name.to_string()),
            _ => None,
        };
        let image = substitute(written, &arguments);
        let kind = if image.contains('$') {
            "unresolved"
        } else if image.eq_ignore_ascii_case("scratch") {
            "scratch"
        } else if stages.iter().any(|s| s.eq_ignore_ascii_case(&image)) {
            "stage"
        } else {
            "image"
        };
        let digest = image.split_once('@').map(|(_, d)| d.to_string()).filter(|d| d.starts_with("sha256:"));
        if let Some(name) = &stage {
            stages.push(name.clone());
        }
        found.push(Base { line, stage, image, kind, digest });
    }
    found
}

/// The file's instructions with their first line number: comments and blank lines dropped, lines ending in `\`
/// joined to the next.
fn instructions(text: &str) -> Vec<(usize, String)> {
    let mut joined = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_none()) {
            continue;
        }
        let (start, mut text) = current.take().unwrap_or((index + 1, String::new()));
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                text.push_str(part);
                text.push(' ');
                current = Some((start, text));
            }
            None => {
                text.push_str(trimmed);
                joined.push((start, text));
            }
        }
    }
    joined.extend(current);
    joined
}

/// `$NAME`, `${NAME}` and `${NAME:-default}` replaced by the build argument's default (the `:-` default when it
/// has none); a variable with neither stays as written.
fn substitute(image: &str, arguments: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = image;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (expression, consumed) = match after.strip_prefix('{').and_then(|inner| inner.split_once('}')) {
            Some((inside, _)) => (inside, inside.len() + 2),
            None => {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        let (name, fallback) = match expression.split_once(":-") {
            Some((name, fallback)) => (name, Some(fallback)),
            None => (expression, None),
        };
        let value = arguments.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).or(fallback);
        match value {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[at..at + 1 + consumed]),
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_locks_and_container_files_are_told_apart() {
        assert_eq!(classify("package.json"), Some(("npm", "manifest")));
        assert_eq!(classify("pnpm-lock.yaml"), Some(("npm", "workspace_lock")));
        assert_eq!(classify("go.sum"), Some(("go", "lock")));
        assert_eq!(classify("Api.csproj"), Some(("nuget", "manifest")));
        assert_eq!(classify("Dockerfile.prod"), Some(("container", "container")));
        assert_eq!(classify("worker.Dockerfile"), Some(("container", "container")));
        assert_eq!(classify("pom.xml"), Some(("maven", "manifest_only")));
        assert_eq!(classify("pom.xml.bak"), None);
        assert_eq!(classify("dockerfile-notes.md"), None);
    }

    #[test]
    fn from_lines_resolve_build_arguments_stages_and_digests() {
        let text = "# syntax=docker/dockerfile:1\nARG GO=1.23 \\\n    DISTROLESS=gcr.io/distroless/static\n\
                    FROM --platform=$BUILDPLATFORM golang:${GO}@sha256:abc AS Build\nRUN make\n\
                    FROM build AS test\nFROM ${DISTROLESS}:nonroot\nFROM ${MISSING}\nFROM ${BASE:-alpine:3.20}\n\
                    FROM scratch\n";
        let found = bases(text);
        let summary: Vec<(usize, &str, &str, Option<&str>)> =
            found.iter().map(|b| (b.line, b.image.as_str(), b.kind, b.digest.as_deref())).collect();
        assert_eq!(
            summary,
            [
                (4, "golang:1.23@sha256:abc", "image", Some("sha256:abc")),
                (6, "build", "stage", None),
                (7, "gcr.io/distroless/static:nonroot", "image", None),
                (8, "${MISSING}", "unresolved", None),
                (9, "alpine:3.20", "image", None),
                (10, "scratch", "scratch", None),
            ]
        );
        assert_eq!(found[0].stage.as_deref(), Some("Build"));
    }
}
