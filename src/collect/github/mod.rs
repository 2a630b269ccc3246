//! The GitHub collector: organisation settings and people, repositories, effective branch protection of default and
//! release branches (classic and rulesets), Actions settings and workflows, environments, integrations and security
//! alerts; operating evidence (merged pull requests, workflow runs, deployments and who approved them, releases and
//! the attestations of their assets) and the audit log.

mod access_rows;
mod actions_rows;
mod alert_rows;
mod audit_log_api;
mod cells;
mod config;
pub mod coverage;
mod dependency_files;
mod deployment_approvals;
pub mod doctor;
mod endpoint_facts;
pub mod endpoints;
mod facts;
mod fetch;
mod identity_rows;
mod operating;
mod package_rows;
mod property_rows;
mod registry_configs;
mod release_branches;
mod releases;
mod ruleset_rows;
mod workflow_files;
mod workflow_jobs;

pub use config::{GithubAppConfig, GithubConfig};
pub use facts::{store_snapshot, CollectSummary};
pub use fetch::{fetch_snapshot, GithubSnapshot};

use anyhow::Result;

use crate::collect::auth::Auth;
use crate::collect::http::ApiClient;
use crate::ingest::TrustPolicy;
use crate::store::Store;

/// Collects one organisation into the store as one run: all of it is committed, or the run is marked failed.
/// Attestations of release assets are checked against `trust`.
pub fn collect(
    store: &Store,
    config: &GithubConfig,
    auth: impl Into<Auth>,
    trust: &TrustPolicy,
) -> Result<CollectSummary> {
    let cached = crate::collect::cache::load(store.conn())?;
    let progress = crate::progress::Collection::on_terminal(&format!("collecting {}", config.org));
    let client = ApiClient::new(&config.api_url, auth)?
        .with_cache(cached)
        .with_progress(progress)
        .with_max_pages(config.max_pages);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let run_id = store.start_run("collect github")?;
    tracing::debug!(run = run_id, "collecting {} as run {run_id}", config.org);
    let now = crate::time::now_utc();
    let starts = crate::collect::watermarks::starting_points(
        store.conn(),
        &config.org,
        operating::KIND,
        config.operating_days,
        now,
    )?;
    let audit_since = crate::collect::watermarks::starting_points(
        store.conn(),
        &config.org,
        audit_log_api::KIND,
        config.operating_days,
        now,
    )?
    .remove(&config.org)
    .unwrap_or_else(|| crate::collect::watermarks::floor(config.operating_days, now));
    let fetched = runtime.block_on(async {
        let snapshot = fetch_snapshot(&client, config).await?;
        let repos = snapshot
            .protections
            .iter()
            .filter(|p| p.default_branch)
            .map(|p| (p.repo.clone(), p.branch.clone()))
            .collect();
        let (operations, audit_log) = if config.operating_days > 0 {
            (
                operating::fetch(&client, config, repos, &starts, now).await?,
                Some(audit_log_api::fetch(&client, &config.org, config.per_page, audit_since).await?),
            )
        } else {
            (Vec::new(), None)
        };
        Ok::<_, anyhow::Error>((snapshot, operations, audit_log))
    });
    client.progress().finish();
    let (snapshot, operations, audit_log) = match fetched {
        Ok(fetched) => fetched,
        Err(error) => return store.conclude_run(run_id, Err(error)),
    };
    store.commit_run(
        run_id,
        |conn| {
            let mut summary = store_snapshot(conn, run_id, &snapshot)?;
            let stored = operating::store(conn, run_id, &config.org, &operations, trust, now)?;
            summary.evidence += stored.evidence;
            summary.pull_requests = stored.pull_requests;
            summary.workflow_runs = stored.workflow_runs;
            summary.deploy_events = stored.deploy_events;
            summary.releases = stored.releases;
            summary.attestations = stored.attestations;
            summary.not_visible += stored.not_visible;
            summary.incomplete += stored.incomplete;
            summary.not_modified += operations.iter().flat_map(|o| o.responses()).filter(|r| r.not_modified).count();
            if let Some(audit_log) = &audit_log {
                let stored = audit_log_api::store(conn, run_id, &config.org, audit_log, now)?;
                summary.evidence += stored.evidence;
                summary.audit_events = stored.events;
                summary.not_modified += audit_log.pages.iter().filter(|r| r.not_modified).count();
                summary.not_visible += usize::from(!stored.visible && !stored.incomplete);
                summary.incomplete += usize::from(stored.incomplete);
            }
            let responses: Vec<&crate::collect::http::ApiResponse> = snapshot
                .responses()
                .into_iter()
                .chain(operations.iter().flat_map(operating::OperatingAnswers::responses))
                .chain(audit_log.iter().flat_map(|a| &a.pages))
                .collect();
            crate::collect::cache::remember(conn, &responses)?;
            let manifest = crate::collect::manifest::Manifest {
                source: "github",
                org: &config.org,
                started_at: now,
                finished_at: crate::time::now_utc(),
                repositories: summary.repositories,
                out_of_scope: summary.out_of_scope,
                not_visible: summary.not_visible,
                summary: serde_json::to_value(&summary)?,
            };
            manifest.record(conn, run_id)?;
            summary.evidence += 1;
            Ok(summary)
        },
        |summary| Ok(serde_json::to_value(summary)?),
    )
}
