//! `pipeproof doctor`: what the configured token can see, before a collection.

use std::path::Path;

use anyhow::Result;

use crate::collect::github::GithubConfig;
use crate::config::Config;
use crate::error::{EXIT_GATE_FAILED, EXIT_OK};

pub fn doctor(config_path: &Path) -> Result<u8> {
    let config = Config::load(config_path, true)?;
    if config.github.is_none() && config.gitlab.is_none() {
        return Err(crate::error::input_error(format!(
            "{} has no `github:` or `gitlab:` section to check",
            config_path.display()
        )));
    }
    let organisations = config.github.as_ref().map(GithubConfig::per_organisation).unwrap_or_default();
    let mut code = EXIT_OK;
    for one in &organisations {
        if organisations.len() > 1 || config.gitlab.is_some() {
            println!("organisation {}:", one.org);
        }
        code = code.max(doctor_one(one)?);
    }
    if let Some(gitlab) = &config.gitlab {
        code = code.max(doctor_gitlab(gitlab)?);
    }
    Ok(code)
}

/// The preflight for the GitLab group.
pub fn doctor_gitlab(gitlab: &crate::collect::gitlab::GitlabConfig) -> Result<u8> {
    let client = crate::collect::http::ApiClient::new(&gitlab.api_url, gitlab.token()?)?
        .speaking(crate::collect::http::Api::Gitlab);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let diagnosis = runtime.block_on(crate::collect::gitlab::doctor::diagnose(&client, gitlab))?;
    println!("GitLab group {} ({}):", gitlab.group, diagnosis.tier);
    println!("token: {}", diagnosis.token);
    print_checks(&diagnosis.checks);
    println!(
        "requests: a full run needs about {}{}",
        diagnosis.requests_needed,
        diagnosis
            .rate_limit_remaining
            .map(|left| format!(" ({left} left in GitLab's current rate-limit window)"))
            .unwrap_or_else(|| " (GitLab sent no RateLimit-Remaining)".to_string())
    );
    Ok(if diagnosis.checks.iter().all(|c| c.visible) { EXIT_OK } else { EXIT_GATE_FAILED })
}

/// The preflight for one organisation.
pub fn doctor_one(github: &GithubConfig) -> Result<u8> {
    let client = crate::collect::http::ApiClient::new(&github.api_url, github.auth()?)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let diagnosis = runtime.block_on(crate::collect::github::doctor::diagnose(&client, github))?;
    println!(
        "token: {}{}",
        diagnosis.token_kind,
        diagnosis.scopes.as_ref().map(|s| format!(" (scopes: {s})")).unwrap_or_default()
    );
    print_checks(&diagnosis.checks);
    match diagnosis.rate_limit {
        Some((remaining, limit, reset)) => {
            let reset = chrono::DateTime::from_timestamp(reset, 0)
                .map(|t| t.format("%H:%M:%S UTC").to_string())
                .unwrap_or_default();
            let enough = if remaining >= diagnosis.requests_needed {
                "enough"
            } else {
                "NOT enough: the run will wait for resets"
            };
            println!(
                "rate limit: {remaining} of {limit} requests left (resets {reset}); a full run needs about {} ({enough})",
                diagnosis.requests_needed
            );
        }
        None => println!("rate limit: not reported; a full run needs about {} requests", diagnosis.requests_needed),
    }
    Ok(if diagnosis.checks.iter().all(|c| c.visible) { EXIT_OK } else { EXIT_GATE_FAILED })
}

/// One line per check: whether it is visible, the evidence, what was seen or what would fix it.
fn print_checks(checks: &[crate::collect::github::doctor::Check]) {
    for check in checks {
        println!(
            "  {:<12} {:<40} {}",
            if check.visible { "visible" } else { "NOT VISIBLE" },
            check.evidence,
            check.detail
        );
    }
}
