//! The configuration file (`pipeproof.yaml`): organisation, sources and policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::input_error;

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The organisation's display name on reports.
    #[serde(default)]
    pub organisation: Option<String>,
    /// GitHub collection settings.
    #[serde(default)]
    pub github: Option<crate::collect::github::GithubConfig>,
    /// GitLab collection settings.
    #[serde(default)]
    pub gitlab: Option<crate::collect::gitlab::GitlabConfig>,
    /// Evidence files read by `collect` as if passed to `ingest`.
    #[serde(default)]
    pub files: Vec<FileSource>,
    /// Organisation policy: parameter values per control id, e.g. `SRC-06: { min_approvals: 2 }`.
    #[serde(default)]
    pub policy: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Maximum age in days of evidence per kind before verdicts on it become unknown (stale), e.g.
    /// `github.branch_protection: 7` (`github.*` sets every GitHub kind). Defaults: 7 for GitHub API evidence, 30 for
    /// scanner reports and Kubernetes exports, 90 for SBOMs.
    #[serde(default)]
    pub max_evidence_age_days: BTreeMap<String, u32>,
    /// The waivers file, relative to the config (default: `waivers.yaml` beside it, when present).
    #[serde(default)]
    pub waivers: Option<PathBuf>,
    /// The longest a waiver may last, from `created` to `expires`, in days (default 365); a longer one is refused.
    #[serde(default)]
    pub waiver_max_days: Option<u32>,
    /// The manual attestations file, relative to the config (default: `attestations.yaml` beside it, when present).
    #[serde(default)]
    pub attestations: Option<PathBuf>,
    /// When set, `run` also writes an evidence bundle (`bundle.zip` in its output folder), chained to the one it
    /// replaces.
    #[serde(default)]
    pub bundle: Option<BundleConfig>,
    /// Webhook URLs `run` and `drift` POST a summary to; write secrets as `${ENV_VAR}`.
    #[serde(default)]
    pub notify: Vec<String>,
    /// What attestation signatures are checked against: those in `files:` (as `ingest --trusted-root/--signer`) and
    /// GitHub's attestations of release assets.
    #[serde(default)]
    pub sigstore: Option<SigstoreConfig>,
    /// When a period's evidence is archived, and how long sources keep it: evaluations warn about evidence a source
    /// deletes before then.
    #[serde(default)]
    pub retention: RetentionConfig,
}

/// Source-retention warnings: what a period depends on that its source deletes before the period is archived.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days after a period ends by which its evidence bundle is made (the archive date the warnings aim at).
    #[serde(default = "default_archive_after_days")]
    pub archive_after_days: u32,
    /// Days a source keeps what pipeproof reads from it, where pipeproof cannot read the setting:
    /// `github.actions_logs` (workflow run logs and artifacts, when neither the repository's nor the organisation's
    /// setting was visible; default 90, GitHub's), `github.audit_log` (default 180, GitHub Enterprise Cloud), and
    /// event logs ingested from files, by table and source: `audit_events.kubernetes`, `audit_events.gitlab`,
    /// `audit_events.github`, `audit_events.generic`, `deploy_events.cdevents`, `deploy_events.argocd` (no default:
    /// no warning until set).
    #[serde(default)]
    pub source_days: BTreeMap<String, u32>,
}

impl Default for RetentionConfig {
    fn default() -> RetentionConfig {
        RetentionConfig { archive_after_days: default_archive_after_days(), source_days: BTreeMap::new() }
    }
}

fn default_archive_after_days() -> u32 {
    30
}

/// The Sigstore trust `collect` checks provenance and other attestations against.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigstoreConfig {
    /// A Sigstore trusted root (`trusted_root.json`, e.g. from `cosign` or `gh attestation trusted-root`), relative to
    /// the config; without it certificate chains are not checked and nothing counts as verified.
    #[serde(default)]
    pub trusted_root: Option<PathBuf>,
    /// Signer identities (globs over the certificate's SAN, e.g. `https://github.com/acme/*`) an attestation must
    /// match; any signer when empty.
    #[serde(default)]
    pub signers: Vec<String>,
}

/// How `run` writes evidence bundles.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleConfig {
    /// The minisign secret key to sign with, relative to the config (unsigned when absent).
    #[serde(default)]
    pub sign: Option<PathBuf>,
    /// The environment variable holding the secret key's password.
    #[serde(default = "default_password_env")]
    pub password_env: String,
}

fn default_password_env() -> String {
    "PIPEPROOF_KEY_PASSWORD".to_string()
}

/// One evidence file (or glob-free path) to ingest during `collect`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSource {
    /// The file path, relative to the config file.
    pub path: PathBuf,
    /// The repository (owner/name) the file describes.
    #[serde(default)]
    pub repo: Option<String>,
    /// The format, when it should not be recognised from the content (as `ingest --kind`).
    #[serde(default)]
    pub kind: Option<crate::ingest::IngestKind>,
    /// For `kind: generic`: the log mapping file, relative to the config file.
    #[serde(default)]
    pub mapping: Option<PathBuf>,
}

impl Config {
    /// Reads the config file; a missing file gives the empty configuration when `required` is false.
    pub fn load(path: &Path, required: bool) -> Result<Config> {
        if !path.exists() {
            if required {
                return Err(input_error(format!(
                    "config file {} not found: create it (see README) or pass --config PATH",
                    path.display()
                )));
            }
            return Ok(Config::default());
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut config = Self::parse(&text, &path.display().to_string())?;
        let base = path.parent().unwrap_or(Path::new("."));
        for file in &mut config.files {
            if file.path.is_relative() {
                file.path = base.join(&file.path);
            }
            if let Some(mapping) = file.mapping.as_mut().filter(|mapping| mapping.is_relative()) {
                *mapping = base.join(&*mapping);
            }
        }
        if let Some(root) = config.sigstore.as_mut().and_then(|sigstore| sigstore.trusted_root.as_mut()) {
            if root.is_relative() {
                *root = base.join(&*root);
            }
        }
        if let Some(github) = config.github.as_ref().filter(|github| github.app.is_some() && !github.orgs.is_empty()) {
            return Err(input_error(format!(
                "{}: github.orgs ({}) cannot be combined with github.app: an app installation covers one organisation; \
                 use a token for several, or one config per organisation",
                path.display(),
                github.orgs.join(", ")
            )));
        }
        if let Some(key) = config.github.as_mut().and_then(|github| github.app.as_mut()).map(|app| &mut app.private_key)
        {
            if key.is_relative() {
                *key = base.join(&*key);
            }
        }
        if let Some(key) = config.bundle.as_mut().and_then(|bundle| bundle.sign.as_mut()) {
            if key.is_relative() {
                *key = base.join(&*key);
            }
        }
        config.waivers = match config.waivers.take() {
            Some(waivers) if waivers.is_relative() => Some(base.join(waivers)),
            Some(waivers) => Some(waivers),
            None => Some(base.join("waivers.yaml")).filter(|default| default.exists()),
        };
        config.attestations = match config.attestations.take() {
            Some(attestations) if attestations.is_relative() => Some(base.join(attestations)),
            Some(attestations) => Some(attestations),
            None => Some(base.join("attestations.yaml")).filter(|default| default.exists()),
        };
        Ok(config)
    }

    /// Parses config text; `origin` names it in errors. An `api_url` (GitHub's or GitLab's) that is not `http(s)`
    /// without credentials is refused here, before any request.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let config: Config = serde_saphyr::from_str(text).map_err(|error| input_error(format!("{origin}: {error}")))?;
        let api_urls = config
            .github
            .iter()
            .map(|github| ("github", &github.api_url))
            .chain(config.gitlab.iter().map(|gitlab| ("gitlab", &gitlab.api_url)));
        for (section, api_url) in api_urls {
            crate::collect::origin::api_base(api_url)
                .map_err(|error| input_error(format!("{origin}: {section}.{error}")))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_parses() {
        let config = Config::parse(
            "organisation: Acme\ngithub:\n  org: acme\n  token_env: ACME_TOKEN\nfiles:\n  - path: a.sarif\n    repo: acme/web\npolicy:\n  SRC-06:\n    min_approvals: 2\n",
            "test",
        )
        .unwrap();
        let github = config.github.unwrap();
        assert_eq!(github.api_url, "https://api.github.com");
        assert_eq!(github.token_env, "ACME_TOKEN");
        assert_eq!(config.policy["SRC-06"]["min_approvals"], serde_json::json!(2));
    }

    #[test]
    fn unknown_keys_are_rejected_with_the_origin() {
        let error = Config::parse("githb:\n  org: acme\n", "pipeproof.yaml").unwrap_err();
        assert!(format!("{error}").contains("pipeproof.yaml"), "{error}");
    }

    #[test]
    fn a_gitlab_api_url_with_credentials_is_refused_naming_its_section() {
        let error = Config::parse("gitlab:\n  group: acme\n  api_url: https://u:p@gitlab.example/api/v4\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("c.yaml: gitlab.api_url") && error.contains("credentials"), "{error}");
        assert!(!error.contains("u:p"), "the credentials are not repeated: {error}");
    }
}
