//! Loads the built-in catalogue and users' control directories, and validates them together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};

use super::{is_test_file, Control, ControlTests, Crosswalk, Framework, SummaryKind};
use crate::error::input_error;
use crate::evaluate::MANUAL_ATTESTATIONS;
use crate::store::sha256_hex;

/// Every control and framework in force, with the files they came from.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Controls, sorted by id.
    pub controls: Vec<Control>,
    /// Frameworks, sorted by id.
    pub frameworks: Vec<Framework>,
    /// (origin, sha256) of every control and framework file read, sorted.
    pub sources: Vec<(String, String)>,
    /// The text of every control and framework file read, by sha256 (stored with each evaluation).
    pub texts: BTreeMap<String, String>,
    /// Test cases by control id, with the file they came from.
    pub tests: BTreeMap<String, (String, ControlTests)>,
    /// The file each control came from.
    pub origins: BTreeMap<String, String>,
    /// Crosswalks between frameworks, sorted by id.
    pub crosswalks: Vec<Crosswalk>,
}

impl Catalogue {
    /// The built-in catalogue plus each extra directory (a control there replaces a built-in one with the same id).
    pub fn load(extra_dirs: &[impl AsRef<Path>]) -> Result<Catalogue> {
        let mut files: Vec<(String, String)> = crate::embedded::CONTROLS
            .iter()
            .filter(|(name, _)| name.ends_with(".yaml"))
            .map(|(name, text)| (format!("builtin:controls/{name}"), text.to_string()))
            .collect();
        for dir in extra_dirs {
            read_dir_yaml(dir.as_ref(), &mut files)?;
        }
        Self::from_files(files)
    }

    /// Builds a catalogue from (origin, YAML text) pairs; frameworks live under a `frameworks/` folder.
    pub fn from_files(files: Vec<(String, String)>) -> Result<Catalogue> {
        let mut controls = BTreeMap::new();
        let mut frameworks = BTreeMap::new();
        let mut tests = BTreeMap::new();
        let mut crosswalks = BTreeMap::new();
        let mut framework_origins = BTreeMap::new();
        let mut sources = Vec::new();
        let mut texts = BTreeMap::new();
        for (origin, text) in &files {
            if is_test_file(origin) {
                let cases: ControlTests = serde_saphyr::from_str(text)
                    .map_err(|error| input_error(format!("{origin}: not a valid control test file: {error}")))?;
                tests.insert(cases.control.clone(), (origin.clone(), cases));
                continue;
            }
            let sha256 = sha256_hex(text.as_bytes());
            texts.insert(sha256.clone(), text.clone());
            sources.push((origin.clone(), sha256));
            if origin.contains("crosswalks/") {
                let crosswalk: Crosswalk = serde_saphyr::from_str(text)
                    .map_err(|error| input_error(format!("{origin}: not a valid crosswalk file: {error}")))?;
                crosswalks.insert(crosswalk.id.clone(), (origin.clone(), crosswalk));
            } else if origin.contains("frameworks/") {
                let framework: Framework = serde_saphyr::from_str(text)
                    .map_err(|error| input_error(format!("{origin}: not a valid framework file: {error}")))?;
                framework_origins.insert(framework.id.clone(), (origin.clone(), framework.clone()));
                frameworks.insert(framework.id.clone(), framework);
            } else {
                let control: Control = serde_saphyr::from_str(text)
                    .map_err(|error| input_error(format!("{origin}: not a valid control file: {error}")))?;
                controls.insert(control.id.clone(), (origin.clone(), control));
            }
        }
        sources.sort();
        let catalogue = Catalogue {
            frameworks: frameworks.into_values().collect(),
            controls: Vec::new(),
            sources,
            texts,
            tests: BTreeMap::new(),
            origins: BTreeMap::new(),
            crosswalks: Vec::new(),
        };
        for (origin, crosswalk) in crosswalks.values() {
            catalogue.validate_crosswalk(origin, crosswalk)?;
        }
        for (origin, framework) in framework_origins.values() {
            validate_framework(origin, framework)?;
        }
        for (origin, framework) in framework_origins.values() {
            for requirement in &framework.requirements {
                for control_id in &requirement.decided_by {
                    let Some((_, control)) = controls.get_mut(control_id) else {
                        return Err(input_error(format!(
                            "{origin}: requirement {} of {} is decided_by {control_id}, which is not a control",
                            requirement.id, framework.id
                        )));
                    };
                    let ids = control.mappings.entry(framework.id.clone()).or_default();
                    if !ids.contains(&requirement.id) {
                        ids.push(requirement.id.clone());
                    }
                }
            }
        }
        let mut checked = Vec::new();
        let mut origins = BTreeMap::new();
        for (origin, control) in controls.into_values() {
            catalogue.validate(&origin, &control)?;
            origins.insert(control.id.clone(), origin);
            checked.push(control);
        }
        if let Some((control_id, (origin, _))) = tests.iter().find(|(id, _)| !origins.contains_key(*id)) {
            return Err(input_error(format!("{origin}: tests control {control_id}, which is not in the catalogue")));
        }
        Ok(Catalogue {
            controls: checked,
            tests,
            origins,
            crosswalks: crosswalks.into_values().map(|(_, crosswalk)| crosswalk).collect(),
            ..catalogue
        })
    }

    fn validate(&self, origin: &str, control: &Control) -> Result<()> {
        let id_ok = control.id.len() >= 3
            && control.id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(input_error(format!(
                "{origin}: control id {:?} must be upper-case letters, digits and '-', like SRC-06",
                control.id
            )));
        }
        for name in control.params.keys() {
            let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid || name.starts_with("pp_") {
                return Err(input_error(format!(
                    "{origin}: parameter name {name:?} must be lower_snake_case and must not start with pp_"
                )));
            }
        }
        let readable = |table: &str| crate::store::views::is_fact_view(table) || table == MANUAL_ATTESTATIONS;
        if let Some(unknown) = control.requires.iter().find(|table| !readable(table)) {
            return Err(input_error(format!(
                "{origin}: control {} requires {unknown:?}, which is not a fact table (known: {}, and {MANUAL_ATTESTATIONS})",
                control.id,
                crate::store::views::fact_views().join(", ")
            )));
        }
        if control.query.trim().is_empty() {
            return Err(input_error(format!("{origin}: control {} has an empty query", control.id)));
        }
        for (framework_id, requirement_ids) in &control.mappings {
            let framework = self.framework(framework_id).ok_or_else(|| {
                input_error(format!(
                    "{origin}: control {} maps to unknown framework {framework_id:?} (known: {})",
                    control.id,
                    self.frameworks.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?;
            let known: BTreeSet<&str> = framework.requirements.iter().map(|r| r.id.as_str()).collect();
            if let Some(unknown) = requirement_ids.iter().find(|id| !known.contains(id.as_str())) {
                return Err(input_error(format!(
                    "{origin}: control {} maps to {unknown:?}, which is not a requirement of {}",
                    control.id, framework.name
                )));
            }
        }
        Ok(())
    }

    fn validate_crosswalk(&self, origin: &str, crosswalk: &Crosswalk) -> Result<()> {
        for (side, framework_id) in [("from", &crosswalk.from), ("to", &crosswalk.to)] {
            let framework = self
                .framework(framework_id)
                .ok_or_else(|| input_error(format!("{origin}: `{side}` names unknown framework {framework_id:?}")))?;
            let known: BTreeSet<&str> = framework.requirements.iter().map(|r| r.id.as_str()).collect();
            let ids = crosswalk.edges.iter().map(|edge| if side == "from" { &edge.from } else { &edge.to });
            if let Some(unknown) = ids.into_iter().find(|id| !known.contains(id.as_str())) {
                return Err(input_error(format!("{origin}: {unknown:?} is not a requirement of {}", framework.name)));
            }
        }
        Ok(())
    }

    /// The control with this id.
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|control| control.id == id)
    }

    /// The framework with this id.
    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|framework| framework.id == id)
    }

    /// What frameworks name that the catalogue lacks: `supported_by` controls (`framework requirement: control`)
    /// and the controls or parameters of `parameter_limits` (`framework: control parameter`).
    pub fn unknown_references(&self) -> Vec<String> {
        let supporting = self
            .frameworks
            .iter()
            .flat_map(|f| f.requirements.iter().map(move |r| (f, r)))
            .flat_map(|(f, r)| r.supported_by.iter().map(move |c| (f, r, c)))
            .filter(|(_, _, control)| self.control(control).is_none())
            .map(|(f, r, control)| format!("{} {}: {control}", f.id, r.id));
        let limits = self
            .frameworks
            .iter()
            .flat_map(|f| f.parameter_limits.iter().map(move |l| (f, l)))
            .filter(|(_, l)| !self.control(&l.control).is_some_and(|c| c.params.contains_key(&l.param)))
            .map(|(f, l)| format!("{}: {} {}", f.id, l.control, l.param));
        supporting.chain(limits).collect()
    }

    /// A digest over every source file's hash: changes when any control or framework changes.
    pub fn digest(&self) -> String {
        let joined: String = self.sources.iter().map(|(origin, hash)| format!("{origin} {hash}\n")).collect();
        sha256_hex(joined.as_bytes())
    }

    /// The controls mapped to one requirement of one framework, by id.
    pub fn controls_for(&self, framework_id: &str, requirement_id: &str) -> Vec<&Control> {
        self.controls
            .iter()
            .filter(|control| {
                control.mappings.get(framework_id).is_some_and(|ids| ids.iter().any(|id| id == requirement_id))
            })
            .collect()
    }
}

/// A framework's own consistency: its id, unique requirement ids and levels that exist.
fn validate_framework(origin: &str, framework: &Framework) -> Result<()> {
    let fail = |what: String| Err(input_error(format!("{origin}: framework {}: {what}", framework.id)));
    let valid_id = !framework.id.is_empty()
        && framework.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_id {
        return fail("its id must be lower_snake_case letters and digits, like `osps_baseline`".into());
    }
    let mut seen = BTreeSet::new();
    if let Some(duplicate) = framework.requirements.iter().find(|r| !seen.insert(r.id.as_str())) {
        return fail(format!("requirement {:?} is listed twice", duplicate.id));
    }
    let levels: BTreeSet<u32> = framework.levels.iter().map(|level| level.id).collect();
    if levels.len() != framework.levels.len() {
        return fail("a level id is listed twice".into());
    }
    if let Some(limit) = framework.parameter_limits.iter().find(|l| l.max.is_none() && l.min.is_none()) {
        return fail(format!("the parameter limit on {} {} gives neither max nor min", limit.control, limit.param));
    }
    if framework.summary == SummaryKind::Levels && framework.levels.is_empty() {
        return fail("`summary: levels` needs the framework's `levels`".into());
    }
    for requirement in &framework.requirements {
        if let Some(level) = requirement.levels.iter().find(|level| !levels.contains(level)) {
            return fail(format!(
                "requirement {} applies at level {level}, which `levels` does not define",
                requirement.id
            ));
        }
    }
    Ok(())
}

fn read_dir_yaml(dir: &Path, files: &mut Vec<(String, String)>) -> Result<()> {
    if !dir.is_dir() {
        return Err(input_error(format!("control directory {} does not exist", dir.display())));
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read control directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_dir_yaml(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_loads_and_validates() {
        let catalogue = Catalogue::load(&[] as &[&Path]).unwrap();
        assert!(catalogue.controls.len() >= 6);
        assert!(catalogue.framework("soc2").is_some());
        assert!(catalogue.framework("iso27001_2022").is_some());
        assert_eq!(catalogue.framework("iso27001_2022").unwrap().requirements.len(), 93);
        for id in ["nist_ssdf", "slsa", "cis_ssc", "owasp_cicd"] {
            assert!(catalogue.framework(id).is_some(), "{id}");
        }
        assert_eq!(catalogue.framework("nist_ssdf").unwrap().requirements.len(), 42);
        assert_eq!(catalogue.framework("owasp_cicd").unwrap().requirements.len(), 10);
        assert!(catalogue.framework("cis_ssc").unwrap().requirements.len() >= 113);
        assert_eq!(catalogue.crosswalks.len(), 6);
        assert_eq!(catalogue.unknown_references(), Vec::<String>::new());
        for id in ["osps_baseline", "nist_sp800_53r5", "pci_dss", "cisa_ssdf_attestation", "fedramp_20x_ksi", "eu_cra"]
        {
            assert!(catalogue.framework(id).is_some_and(|f| !f.requirements.is_empty()), "{id}");
        }
        assert!(catalogue.crosswalks.iter().all(|c| !c.edges.is_empty()));
    }

    #[test]
    fn a_crosswalk_edge_to_an_unknown_requirement_is_rejected() {
        let mut files = crate::embedded::framework_files();
        files.push((
            "crosswalks/bad.yaml".into(),
            "id: bad\nfrom: soc2\nto: iso27001_2022\nsource: test\nedges:\n  - { from: CC6.1, to: \"A.5.15\", relationship: intersect }\n".into(),
        ));
        let error = Catalogue::from_files(files).unwrap_err().to_string();
        assert!(error.contains("crosswalks/bad.yaml") && error.contains("A.5.15"), "{error}");
    }

    #[test]
    fn a_mapping_to_an_unknown_requirement_is_rejected() {
        let mut files = crate::embedded::framework_files();
        files.push((
            "bad.yaml".into(),
            "id: X-01\ntitle: t\ndomain: source\nkind: state\nseverity: low\nstatement: s\nrationale: r\nremediation: m\nrequires: [repositories]\nquery: SELECT 1\nmappings:\n  soc2: [CC99.9]\n".into(),
        ));
        let error = Catalogue::from_files(files).unwrap_err().to_string();
        assert!(error.contains("bad.yaml") && error.contains("CC99.9"), "{error}");
    }
}
