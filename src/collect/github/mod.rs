//! The GitHub collector: organisation settings, repositories and classic branch protection.

pub mod doctor;
mod facts;
mod fetch;

pub use facts::{store_snapshot, CollectSummary};
pub use fetch::{fetch_snapshot, GithubSnapshot};

use anyhow::Result;

use crate::collect::http::{ApiClient, Token};
use crate::config::GithubConfig;
use crate::store::{RunStatus, Store};

/// Collects one organisation into the store as one run: all of it is committed, or the run is marked failed.
pub fn collect(store: &Store, config: &GithubConfig, token: Token) -> Result<CollectSummary> {
    let cached = crate::collect::cache::load(store.conn())?;
    let client = ApiClient::new(&config.api_url, token)?.with_cache(cached);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let run_id = store.start_run("collect github")?;
    let stored = runtime.block_on(fetch_snapshot(&client, config)).and_then(|snapshot| {
        store.in_transaction(|conn| {
            let summary = store_snapshot(conn, run_id, &snapshot)?;
            crate::collect::cache::remember(conn, &snapshot.responses())?;
            Ok(summary)
        })
    });
    match stored {
        Ok(summary) => {
            store.finish_run(run_id, RunStatus::Succeeded, &serde_json::to_value(&summary)?)?;
            Ok(summary)
        }
        Err(error) => {
            store.finish_run(run_id, RunStatus::Failed, &serde_json::json!({"error": format!("{error:#}")}))?;
            Err(error)
        }
    }
}
