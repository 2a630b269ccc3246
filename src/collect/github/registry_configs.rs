//! Reads the package-registry configuration committed in a repository — `.npmrc`, `.yarnrc.yml`, `pip.conf`,
//! requirements files' index options, `nuget.config`, Maven's `settings.xml`, and the registry its workflows'
//! `actions/setup-node` steps configure — for where each package manager resolves packages from (judged by ART-07,
//! dependency confusion).
//!
//! Only the settings that name a registry are kept: credentials committed beside them (`_authToken`, passwords) are
//! never copied into facts, and user names or passwords written inside a URL are cut out of it.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::maybe_text;
use super::endpoints::{Fact, Scope};

/// The package manager a configuration file belongs to, from its name.
fn ecosystem_of(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        ".npmrc" | ".yarnrc.yml" | ".yarnrc.yaml" => Some("npm"),
        "pip.conf" | "pip.ini" => Some("python"),
        "nuget.config" => Some("nuget"),
        "settings.xml" => Some("maven"),
        _ if lower.starts_with("requirements") && lower.ends_with(".txt") => Some("python"),
        _ => None,
    }
}

/// One registry setting found in a file.
#[derive(Debug, PartialEq)]
struct Setting {
    /// Where it is written (1-based); `None` where the format does not say (YAML).
    line: Option<usize>,
    /// `registry` (npm's default), `scope_registry`, `index` (pip's index-url), `extra_index`, `find_links`,
    /// `source` (a NuGet feed), `clear` (NuGet's `<clear/>`), `source_mapping`, `mirror` (Maven).
    setting: &'static str,
    /// The npm scope, NuGet source key or mapped package pattern, or Maven's `mirrorOf`.
    name: Option<String>,
    /// The registry URL, without any credentials written in it.
    url: Option<String>,
}

impl Setting {
    fn new(line: Option<usize>, setting: &'static str, name: Option<&str>, url: Option<&str>) -> Self {
        Setting { line, setting, name: name.map(str::to_string), url: url.map(without_credentials) }
    }
}

/// A path's file name.
fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// The contents path of a tree entry that is a registry configuration file.
pub fn config_file_path(scope: &Scope, entry: &Value) -> Option<String> {
    let path = (entry.get("type").and_then(Value::as_str) == Some("blob")).then(|| entry.get("path")?.as_str())??;
    ecosystem_of(file_name(path))?;
    super::workflow_files::contents_path(scope, path)
}

/// One row per registry setting of a configuration file; one `unreadable` row when its text cannot be read or
/// parsed. A file that names no registry (a requirements file listing packages only) gives no row.
pub fn config_file(scope: &Scope, body: &Value, listed: Option<&Value>) -> Result<Vec<Fact>> {
    let path = listed
        .and_then(|entry| entry.get("path"))
        .or_else(|| body.get("path"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ecosystem = ecosystem_of(file_name(path)).unwrap_or("unknown");
    let settings = super::workflow_files::decode(body).and_then(|text| settings(file_name(path), &text));
    match settings {
        Ok(found) => Ok(found.iter().map(|setting| fact(scope, path, ecosystem, Some(setting), None)).collect()),
        Err(error) => Ok(vec![fact(scope, path, ecosystem, None, Some(&error))]),
    }
}

/// The npm registries a workflow's `actions/setup-node` steps configure on the runner (`registry-url`, with
/// `scope`; for GitHub Packages without a scope, setup-node uses the repository owner's).
pub fn setup_node_rows(scope: &Scope, path: &str, workflow: &Value) -> Vec<Fact> {
    let jobs = workflow.get("jobs").and_then(Value::as_object).into_iter().flat_map(|jobs| jobs.values());
    let steps = jobs.filter_map(|job| job.get("steps").and_then(Value::as_array)).flatten();
    let owner = scope.repo.and_then(|repo| repo.split_once('/')).map(|(owner, _)| owner);
    steps
        .filter(|step| super::workflow_files::step_uses(step, "actions/setup-node"))
        .filter_map(|step| {
            let inputs = step.get("with")?;
            let url = inputs.get("registry-url").and_then(Value::as_str).filter(|u| !u.trim().is_empty())?;
            let written = inputs.get("scope").and_then(Value::as_str).filter(|s| !s.trim().is_empty());
            let npm_scope = written.or(owner.filter(|_| url.contains("npm.pkg.github.com")));
            let setting = match npm_scope {
                Some(name) => {
                    let name = format!("@{}", name.trim_start_matches('@').to_lowercase());
                    Setting::new(None, "scope_registry", Some(&name), Some(url))
                }
                None => Setting::new(None, "registry", None, Some(url)),
            };
            Some(fact(scope, path, "npm", Some(&setting), None))
        })
        .collect()
}

/// One `registry_configs` row: a setting of a file, or (without one) the file's `unreadable` row.
fn fact(scope: &Scope, path: &str, ecosystem: &str, setting: Option<&Setting>, error: Option<&str>) -> Fact {
    Fact {
        table: "registry_configs",
        cells: vec![
            maybe_text(scope.repo),
            Cell::Text(path.to_string()),
            setting.and_then(|s| s.line).map_or(Cell::Null, |line| Cell::Int(line as i32)),
            Cell::Text(ecosystem.to_string()),
            Cell::Text(setting.map_or("unreadable", |s| s.setting).to_string()),
            maybe_text(setting.and_then(|s| s.name.as_deref())),
            maybe_text(setting.and_then(|s| s.url.as_deref())),
            maybe_text(error),
        ],
    }
}

/// The registry settings of a file, by its name.
fn settings(name: &str, text: &str) -> std::result::Result<Vec<Setting>, String> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        ".npmrc" => Ok(npmrc(text)),
        ".yarnrc.yml" | ".yarnrc.yaml" => yarnrc(text),
        "pip.conf" | "pip.ini" => Ok(pip_conf(text)),
        "nuget.config" => nuget_config(text),
        "settings.xml" => maven_settings(text),
        _ => Ok(requirements(text)),
    }
}

/// `registry=` and `@scope:registry=` lines of an `.npmrc` (an INI file without sections that matter here).
fn npmrc(text: &str) -> Vec<Setting> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let (key, value) = (key.trim(), unquote(value.trim()));
        if key == "registry" {
            found.push(Setting::new(Some(index + 1), "registry", None, Some(value)));
        } else if let Some(scope) = key.strip_suffix(":registry").filter(|scope| scope.starts_with('@')) {
            found.push(Setting::new(Some(index + 1), "scope_registry", Some(&scope.to_lowercase()), Some(value)));
        }
    }
    found
}

/// Yarn 2+'s `npmRegistryServer` and `npmScopes.<scope>.npmRegistryServer`.
fn yarnrc(text: &str) -> std::result::Result<Vec<Setting>, String> {
    let config: Value = serde_saphyr::from_str(text).map_err(|error| format!("not valid YAML: {error}"))?;
    let mut found = Vec::new();
    if let Some(server) = config.get("npmRegistryServer").and_then(Value::as_str) {
        found.push(Setting::new(None, "registry", None, Some(server)));
    }
    for (scope, settings) in config.get("npmScopes").and_then(Value::as_object).into_iter().flatten() {
        if let Some(server) = settings.get("npmRegistryServer").and_then(Value::as_str) {
            let scope = format!("@{}", scope.trim_start_matches('@').to_lowercase());
            found.push(Setting::new(None, "scope_registry", Some(&scope), Some(server)));
        }
    }
    Ok(found)
}

/// `index-url`, `extra-index-url` and `find-links` of a pip configuration file, in any section; a value may go on
/// over indented lines, one URL per line or several per line.
fn pip_conf(text: &str) -> Vec<Setting> {
    let mut found = Vec::new();
    let mut current: Option<&'static str> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let continued = raw.starts_with([' ', '\t']);
        let values = match (continued, current) {
            (true, Some(_)) => line,
            _ => {
                current = None;
                let Some((key, value)) = line.split_once(['=', ':']).filter(|_| !line.starts_with('[')) else {
                    continue;
                };
                current = pip_option(key.trim());
                value
            }
        };
        if let Some(setting) = current {
            for url in values.split_whitespace() {
                found.push(Setting::new(Some(index + 1), setting, None, Some(url)));
            }
        }
    }
    found
}

/// The setting a pip option names, for the options that choose where packages come from.
fn pip_option(option: &str) -> Option<&'static str> {
    match option.trim_start_matches('-') {
        "index-url" | "i" => Some("index"),
        "extra-index-url" => Some("extra_index"),
        "find-links" | "f" => Some("find_links"),
        _ => None,
    }
}

/// The index options written in a requirements file (`-i URL`, `--index-url=URL`, `--extra-index-url URL`,
/// `--find-links URL`).
fn requirements(text: &str) -> Vec<Setting> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.split(" #").next().unwrap_or_default().trim();
        if !line.starts_with('-') {
            continue;
        }
        let (option, value) = match line.split_once(['=', ' ', '\t']) {
            Some((option, value)) => (option, value.trim()),
            None => (line, ""),
        };
        if let Some(setting) = pip_option(option).filter(|_| !value.is_empty()) {
            found.push(Setting::new(Some(index + 1), setting, None, Some(value)));
        }
    }
    found
}

/// A NuGet.Config's `packageSources` (`<clear/>`, each `<add key value>`) and `packageSourceMapping` (each
/// pattern, with its source's URL when the same file defines it).
fn nuget_config(text: &str) -> std::result::Result<Vec<Setting>, String> {
    let document = roxmltree::Document::parse(text).map_err(|error| format!("not valid XML: {error}"))?;
    let line = |node: roxmltree::Node| Some(document.text_pos_at(node.range().start).row as usize);
    let mut found = Vec::new();
    let mut sources = Vec::new();
    for node in section(&document, "packageSources").filter(|n| n.is_element()) {
        if node.has_tag_name("clear") {
            found.push(Setting::new(line(node), "clear", None, None));
        } else if node.has_tag_name("add") {
            let (key, value) = (node.attribute("key"), node.attribute("value"));
            sources.push((key.unwrap_or_default().to_string(), value.unwrap_or_default().to_string()));
            found.push(Setting::new(line(node), "source", key, value));
        }
    }
    for source in section(&document, "packageSourceMapping").filter(|n| n.has_tag_name("packageSource")) {
        let key = source.attribute("key").unwrap_or_default();
        let url = sources.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str());
        for package in source.children().filter(|n| n.has_tag_name("package")) {
            found.push(Setting::new(line(package), "source_mapping", package.attribute("pattern"), url));
        }
    }
    Ok(found)
}

/// A Maven `settings.xml`'s mirrors (`mirrorOf` and URL); a `settings.xml` of another tool gives none.
fn maven_settings(text: &str) -> std::result::Result<Vec<Setting>, String> {
    let document = roxmltree::Document::parse(text).map_err(|error| format!("not valid XML: {error}"))?;
    if !document.root_element().has_tag_name("settings") {
        return Ok(Vec::new());
    }
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).map(str::trim).map(str::to_string)
    };
    Ok(section(&document, "mirrors")
        .filter(|n| n.has_tag_name("mirror"))
        .map(|mirror| {
            let line = Some(document.text_pos_at(mirror.range().start).row as usize);
            let of = child_text(mirror, "mirrorOf");
            Setting::new(line, "mirror", of.as_deref(), child_text(mirror, "url").as_deref())
        })
        .collect())
}

/// The children of the root element's `name` elements.
fn section<'a, 'input>(
    document: &'a roxmltree::Document<'input>,
    name: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> {
    document.root_element().children().filter(move |n| n.has_tag_name(name)).flat_map(|n| n.children())
}

/// A value without the quotes around it.
fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

/// A URL with any `user:password@` cut out of its authority.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A setting as (line, setting, name, url).
    type Row<'a> = (Option<usize>, &'a str, Option<&'a str>, Option<&'a str>);

    fn summary(found: &[Setting]) -> Vec<Row<'_>> {
        found.iter().map(|s| (s.line, s.setting, s.name.as_deref(), s.url.as_deref())).collect()
    }

    #[test]
    fn setup_node_registries_follow_the_action_s_scope_rules() {
        let workflow: Value = serde_saphyr::from_str(
            "jobs:\n  build:\n    steps:\n      - uses: actions/checkout@v4\n\
             \x20     - uses: actions/setup-node@v4\n        with: { node-version: 20, registry-url: 'https://npm.pkg.github.com' }\n\
             \x20     - uses: actions/setup-node@v4\n        with: { registry-url: 'https://registry.npmjs.org', scope: '@Acme' }\n\
             \x20     - uses: Actions/Setup-Node@1d0ff469b7ec7b3cb9d8673fde0c81c44821de2a\n        with: { registry-url: 'https://npm.acme.io/' }\n\
             \x20     - uses: actions/setup-node@v4\n        with: { node-version: 22 }\n",
        )
        .unwrap();
        let bypass = std::collections::BTreeMap::new();
        let scope = Scope { org: "acme", repo: Some("Acme/web"), branch: Some("main"), bypass: &bypass };
        let rows: Vec<(Cell, Cell, Cell)> = setup_node_rows(&scope, ".github/workflows/ci.yml", &workflow)
            .into_iter()
            .map(|f| (f.cells[4].clone(), f.cells[5].clone(), f.cells[6].clone()))
            .collect();
        let text = |t: &str| Cell::Text(t.to_string());
        assert_eq!(
            rows,
            [
                (text("scope_registry"), text("@acme"), text("https://npm.pkg.github.com")),
                (text("scope_registry"), text("@acme"), text("https://registry.npmjs.org")),
                (text("registry"), Cell::Null, text("https://npm.acme.io/")),
            ]
        );
    }

    #[test]
    fn configuration_files_are_recognised_by_name() {
        assert_eq!(ecosystem_of(".npmrc"), Some("npm"));
        assert_eq!(ecosystem_of("NuGet.Config"), Some("nuget"));
        assert_eq!(ecosystem_of("requirements-dev.txt"), Some("python"));
        assert_eq!(ecosystem_of("settings.xml"), Some("maven"));
        assert_eq!(ecosystem_of("package.json"), None);
    }

    #[test]
    fn npmrc_keeps_registries_and_drops_credentials() {
        let text = "; comment\nregistry = \"https://ci:s3cret@artifactory.acme.io/api/npm/npm/\"\n\
                    @Acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken=ghp_abc\n";
        assert_eq!(
            summary(&npmrc(text)),
            [
                (Some(2), "registry", None, Some("https://artifactory.acme.io/api/npm/npm/")),
                (Some(3), "scope_registry", Some("@acme"), Some("https://npm.pkg.github.com")),
            ]
        );
    }

    #[test]
    fn yarnrc_scopes_are_read() {
        let text = "npmScopes:\n  acme:\n    npmRegistryServer: https://npm.pkg.github.com\n";
        assert_eq!(
            summary(&yarnrc(text).unwrap()),
            [(None, "scope_registry", Some("@acme"), Some("https://npm.pkg.github.com"))]
        );
        assert!(yarnrc("npmScopes: [").is_err());
    }

    #[test]
    fn pip_indexes_are_read_from_configuration_and_requirements() {
        let conf =
            "[global]\nindex-url = https://pypi.acme.io/simple\nextra-index-url =\n    https://pypi.org/simple\n\
                    timeout = 60\n";
        assert_eq!(
            summary(&pip_conf(conf)),
            [
                (Some(2), "index", None, Some("https://pypi.acme.io/simple")),
                (Some(4), "extra_index", None, Some("https://pypi.org/simple"))
            ]
        );
        let text = "-i https://pypi.acme.io/simple\n--extra-index-url=https://pypi.org/simple # public\nrequests==2.32.3\n-r base.txt\n";
        assert_eq!(
            summary(&requirements(text)),
            [
                (Some(1), "index", None, Some("https://pypi.acme.io/simple")),
                (Some(2), "extra_index", None, Some("https://pypi.org/simple"))
            ]
        );
    }

    #[test]
    fn nuget_sources_and_mappings_are_read() {
        let text = r#"<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
    <add key="acme" value="https://nuget.pkg.github.com/acme/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="acme"><package pattern="Acme.*" /></packageSource>
  </packageSourceMapping>
</configuration>"#;
        assert_eq!(
            summary(&nuget_config(text).unwrap()),
            [
                (Some(4), "clear", None, None),
                (Some(5), "source", Some("nuget.org"), Some("https://api.nuget.org/v3/index.json")),
                (Some(6), "source", Some("acme"), Some("https://nuget.pkg.github.com/acme/index.json")),
                (Some(9), "source_mapping", Some("Acme.*"), Some("https://nuget.pkg.github.com/acme/index.json")),
            ]
        );
        assert!(nuget_config("<configuration>").unwrap_err().starts_with("not valid XML"));
    }

    #[test]
    fn maven_mirrors_are_read_and_other_settings_files_ignored() {
        let text = "<settings>\n  <mirrors>\n    <mirror>\n      <id>acme</id>\n      <mirrorOf>*</mirrorOf>\n\
                    <url>https://maven.acme.io/all</url>\n    </mirror>\n  </mirrors>\n</settings>\n";
        assert_eq!(
            summary(&maven_settings(text).unwrap()),
            [(Some(3), "mirror", Some("*"), Some("https://maven.acme.io/all"))]
        );
        assert!(maven_settings("<project><mirrors/></project>").unwrap().is_empty());
    }
}
