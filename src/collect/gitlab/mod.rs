//! The GitLab collector: a group (gitlab.com or self-managed) and every project under it, its two-factor
//! requirement, and the effective protection of each project's default branch (protected branches, merge checks,
//! approval rules and settings, push rules), judged by the same controls as GitHub's, with the group's tier deciding
//! what a missing Premium feature means.

mod activity;
mod audit;
mod ci_config;
mod codeowners;
mod config;
pub mod deployments;
pub mod doctor;
mod environments;
mod facts;
mod fetch;
mod identity;
mod integration_rows;
mod member_activity;
pub mod merge_requests;
mod people_rows;
mod protection;
mod registry;
mod sast_runs;
mod scrub;
mod tier;
mod variables;

pub use config::GitlabConfig;
pub use facts::{GitlabSummary, PREFIX};
pub use fetch::{fetch_snapshot, GitlabSnapshot};

use anyhow::Result;

use crate::collect::http::{Api, ApiClient, Token};
use crate::store::Store;

/// Collects one group into the store as one run: all of it is committed, or the run is marked failed.
pub fn collect(store: &Store, config: &GitlabConfig, token: Token) -> Result<GitlabSummary> {
    let cached = crate::collect::cache::load(store.conn())?;
    let progress = crate::progress::Collection::on_terminal(&format!("collecting GitLab {}", config.group));
    let client = ApiClient::new(&config.api_url, token)?
        .speaking(Api::Gitlab)
        .with_cache(cached)
        .with_progress(progress)
        .with_max_pages(config.max_pages);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let run_id = store.start_run("collect gitlab")?;
    let started_at = crate::time::now_utc();
    let org_key = format!("{PREFIX}{}", config.group.trim_matches('/'));
    let starts = crate::collect::watermarks::starting_points(
        store.conn(),
        &org_key,
        merge_requests::KIND,
        config.operating_days,
        started_at,
    )?;
    let deploy_starts = crate::collect::watermarks::starting_points(
        store.conn(),
        &org_key,
        deployments::KIND,
        config.operating_days,
        started_at,
    )?;
    let audit_starts = crate::collect::watermarks::starting_points(
        store.conn(),
        &org_key,
        audit::KIND,
        config.operating_days,
        started_at,
    )?;
    let floor = crate::collect::watermarks::floor(config.operating_days, started_at);
    let fetched = runtime.block_on(async {
        let snapshot = fetch_snapshot(&client, config).await?;
        let merges = if config.operating_days > 0 {
            let projects = snapshot.projects.iter().filter(|p| !p.protected_branches.is_empty()).filter_map(|p| {
                Some(merge_requests::Project {
                    path: p.path.clone(),
                    id: p.item.get("id")?.as_i64()?,
                    branch: p.default_branch.clone()?,
                    check: protection::pipeline_check(&p.item),
                })
            });
            let per_page = config.per_page.clamp(1, 100);
            merge_requests::fetch(&client, projects.collect(), &starts, floor, per_page, config.concurrency).await?
        } else {
            Vec::new()
        };
        let groups: Vec<(String, Option<i64>)> = snapshot
            .groups
            .iter()
            .zip(group_paths(&snapshot.group_path))
            .map(|(answer, path)| {
                let id = (answer.status == 200).then(|| answer.json().ok()?.get("id")?.as_i64()).flatten();
                (path, id)
            })
            .collect();
        let projects = snapshot.projects.iter().filter(|p| !p.protected_branches.is_empty()).filter_map(|p| {
            Some(deployments::Project {
                path: p.path.clone(),
                id: p.item.get("id")?.as_i64()?,
                trigger_may_approve: p.item.get("allow_pipeline_trigger_approve_deployment").and_then(|v| v.as_bool()),
            })
        });
        let per_page = config.per_page.clamp(1, 100);
        let asked: Vec<(String, i64)> = snapshot
            .projects
            .iter()
            .filter(|p| !p.protected_branches.is_empty())
            .filter_map(|p| Some((p.path.clone(), p.item.get("id")?.as_i64()?)))
            .collect();
        let secrets = variables::fetch(&client, groups.clone(), asked.clone(), per_page, config.concurrency).await?;
        let pipelines = snapshot.projects.iter().filter(|p| !p.protected_branches.is_empty()).filter_map(|p| {
            let config_path = p.item.get("ci_config_path").and_then(|v| v.as_str()).filter(|v| !v.is_empty());
            Some(ci_config::Project {
                path: p.path.clone(),
                id: p.item.get("id")?.as_i64()?,
                branch: p.default_branch.clone()?,
                config_path: config_path.unwrap_or(".gitlab-ci.yml").to_string(),
            })
        });
        let definitions = ci_config::fetch(&client, pipelines.collect(), config.concurrency).await?;
        let owned: Vec<(String, i64, String)> =
            definitions.iter().map(|d| (d.project.path.clone(), d.project.id, d.project.branch.clone())).collect();
        let owners = codeowners::fetch(&client, owned, config.concurrency).await?;
        let searched = definitions
            .iter()
            .map(|d| sast_runs::Project {
                path: d.project.path.clone(),
                id: d.project.id,
                branch: d.project.branch.clone(),
                sast_configured: ci_config::sast_configured(d),
            })
            .collect();
        let analysed = sast_runs::fetch(&client, searched, per_page, config.concurrency).await?;
        let pushes = activity::fetch(&client, asked.clone(), config.concurrency).await?;
        let active = match groups.last().and_then(|(_, id)| *id) {
            Some(root) => Some(member_activity::fetch(&client, root, per_page).await?),
            None => None,
        };
        let audited = if config.operating_days > 0 {
            let group = (snapshot.group_path.as_str(), groups.first().and_then(|(_, id)| *id));
            let projects = asked.clone();
            Some(
                audit::fetch(
                    &client,
                    &snapshot.tier,
                    group,
                    projects,
                    &audit_starts,
                    floor,
                    started_at,
                    per_page,
                    config.concurrency,
                )
                .await?,
            )
        } else {
            None
        };
        let deployed = deployments::fetch(
            &client,
            &snapshot.tier,
            groups,
            projects.collect(),
            &deploy_starts,
            floor,
            per_page,
            config.concurrency,
        )
        .await?;
        Ok::<_, anyhow::Error>((
            snapshot,
            merges,
            deployed,
            secrets,
            definitions,
            owners,
            analysed,
            pushes,
            active,
            audited,
        ))
    });
    client.progress().finish();
    let (snapshot, merges, deployed, secrets, definitions, owners, analysed, pushes, active, audited) = match fetched {
        Ok(fetched) => fetched,
        Err(error) => return store.conclude_run(run_id, Err(error)),
    };
    store.commit_run(
        run_id,
        |conn| {
            let mut summary = facts::store_snapshot(conn, run_id, &snapshot)?;
            let org = format!("{PREFIX}{}", snapshot.group_path);
            merge_requests::store(conn, run_id, &org, &snapshot.tier, &merges, started_at, &mut summary)?;
            deployments::store(conn, run_id, &org, &snapshot.tier, &deployed, started_at, &mut summary)?;
            variables::store(conn, run_id, &snapshot.tier, &secrets, started_at, &mut summary)?;
            ci_config::store(conn, run_id, &org, &snapshot.tier, &definitions, &mut summary)?;
            codeowners::store(conn, run_id, &org, &snapshot.tier, &owners, &mut summary)?;
            sast_runs::store(conn, run_id, &org, &snapshot.tier, &analysed, &mut summary)?;
            activity::store(conn, run_id, &org, &snapshot.tier, &pushes, &mut summary)?;
            member_activity::store(conn, run_id, &org, &snapshot.tier, active.as_deref(), &mut summary)?;
            if let Some(audited) = &audited {
                audit::store(conn, run_id, &org, &snapshot.tier, audited, started_at, &mut summary)?;
            }
            let responses: Vec<&crate::collect::http::ApiResponse> = snapshot
                .responses()
                .into_iter()
                .chain(merges.iter().flat_map(|m| m.responses()))
                .chain(deployed.responses())
                .chain(secrets.responses())
                .chain(definitions.iter().flat_map(|d| d.responses()))
                .chain(owners.iter().flat_map(|o| &o.answers))
                .chain(analysed.iter().flat_map(|a| a.responses()))
                .chain(pushes.iter().map(|(_, answer)| answer))
                .chain(active.iter().flatten())
                .chain(audited.iter().flat_map(|a| a.responses()))
                .collect();
            summary.not_modified = responses.iter().filter(|r| r.not_modified).count();
            crate::collect::cache::remember(conn, &responses)?;
            let manifest = crate::collect::manifest::Manifest {
                source: "gitlab",
                org: &org,
                started_at,
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

/// The group's path, then each ancestor's, nearest first (as the snapshot reads them).
fn group_paths(path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.split('/').collect();
    (1..=segments.len()).rev().map(|depth| segments[..depth].join("/")).collect()
}

/// An answer with this status and body, as the unit tests build them.
#[cfg(test)]
fn test_answer(status: u16, body: &str) -> crate::collect::http::ApiResponse {
    let mut response = crate::collect::http::ApiResponse::unanswered("http://127.0.0.1/x", 1, "test token", "");
    response.status = status;
    response.body = body.as_bytes().to_vec();
    response
}

/// A recorded GitLab answer from `../shared/samples/gitlab-api`, for the unit tests.
#[cfg(test)]
fn recorded_sample(name: &str) -> serde_json::Value {
    let path = format!("{}/../shared/samples/gitlab-api/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("shared samples beside the checkout")).unwrap()
}
