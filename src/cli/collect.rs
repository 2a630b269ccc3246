//! `pipeproof collect`: every configured source, GitHub organisations, the GitLab group, then files.

use std::path::Path;

use anyhow::Result;

use crate::collect::github::GithubConfig;
use crate::config::Config;
use crate::error::{EXIT_INPUT, EXIT_OK};
use crate::ingest::{IngestOptions, LogMapping, TrustPolicy};
use crate::store::Store;

pub fn collect(store_path: &Path, config_path: &Path) -> Result<u8> {
    let config = Config::load(config_path, true)?;
    if config.github.is_none() && config.gitlab.is_none() && config.files.is_empty() {
        return Err(crate::error::input_error(format!(
            "{} names no source: add a `github:` or `gitlab:` section, or `files:`",
            config_path.display()
        )));
    }
    let store = Store::open(store_path)?;
    let sigstore = config.sigstore.clone().unwrap_or_default();
    let trust = TrustPolicy::load(sigstore.trusted_root.as_deref(), &sigstore.signers)?;
    let mut code = EXIT_OK;
    for github in config.github.iter().flat_map(GithubConfig::per_organisation) {
        let github = &github;
        let summary = crate::collect::github::collect(&store, github, github.auth()?, &trust)?;
        println!("collected GitHub {}", summary.describe(&github.org));
        if summary.incomplete > 0 {
            eprintln!(
                "error: {} answers from {} were not read completely (each is in api_coverage with state \
                 'incomplete' and the reason; the controls that need them say unknown); everything else is stored: \
                 collect again later",
                summary.incomplete, github.org
            );
            code = crate::error::EXIT_RUNTIME;
        }
    }
    if let Some(gitlab) = &config.gitlab {
        let summary = crate::collect::gitlab::collect(&store, gitlab, gitlab.token()?)?;
        println!("collected GitLab {}", summary.describe(&gitlab.group));
        if summary.incomplete > 0 {
            eprintln!(
                "error: {} answers from GitLab group {} were not read completely (each is in api_coverage with \
                 state 'incomplete' and the reason; the controls that need them say unknown); everything else is \
                 stored: collect again later",
                summary.incomplete, gitlab.group
            );
            code = crate::error::EXIT_RUNTIME;
        }
    }
    for file in &config.files {
        let options = IngestOptions {
            kind: file.kind,
            repo: file.repo.clone(),
            trust: trust.clone(),
            mapping: file.mapping.as_deref().map(LogMapping::load).transpose()?,
            max_expanded_mb: None,
        };
        let outcomes = super::ingest::ingest_paths(&store, std::slice::from_ref(&file.path), &options)?;
        if outcomes.iter().any(|outcome| outcome.error.is_some()) && code == EXIT_OK {
            code = EXIT_INPUT;
        }
    }
    Ok(code)
}
