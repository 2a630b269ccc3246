//! `pipeproof demo`: the whole pipeline on the bundled demo organisation, with the real collector talking
//! HTTP to an in-process replay server on 127.0.0.1.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::DemoArgs;
use crate::collect::http::Token;
use crate::collect::replay::{Cassette, ReplayServer};
use crate::config::Config;
use crate::controls::Catalogue;
use crate::error::EXIT_OK;
use crate::store::Store;

/// The demo's configuration file inside a fixtures folder.
const CONFIG_FILE: &str = "pipeproof.yaml";
/// The recorded GitHub responses inside a fixtures folder.
const CASSETTE_FILE: &str = "github/cassette.json";
/// The recorded GitLab responses inside a fixtures folder.
const GITLAB_CASSETTE_FILE: &str = "gitlab/cassette.json";
/// The token the demo presents to the replay server (not a real credential).
const DEMO_TOKEN: &str = "demo-token-not-a-secret";

/// Runs collect → ingest → evaluate → report on the demo organisation; returns the exit code.
pub fn run(args: &DemoArgs) -> Result<u8> {
    let output = &args.output;
    std::fs::create_dir_all(output).with_context(|| format!("cannot create {}", output.display()))?;
    let fixtures = match &args.fixtures {
        Some(dir) => dir.clone(),
        None => write_builtin_fixtures(&output.join("fixtures"))?,
    };
    let config = Config::load(&fixtures.join(CONFIG_FILE), true)?;
    let cassette_path = fixtures.join(CASSETTE_FILE);
    let cassette_text =
        std::fs::read_to_string(&cassette_path).with_context(|| format!("cannot read {}", cassette_path.display()))?;
    let cassette = Cassette::parse(&cassette_text, &cassette_path.display().to_string())?;

    let store_path = output.join("pipeproof-demo.duckdb");
    for stale in [store_path.clone(), store_path.with_extension("duckdb.wal")] {
        if stale.exists() {
            std::fs::remove_file(&stale)
                .with_context(|| format!("cannot remove the previous demo store {}", stale.display()))?;
        }
    }
    let store = Store::open(&store_path)?;

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let server = runtime.block_on(ReplayServer::start(cassette))?;
    let mut github = config.github.clone().context("the demo config has no github section")?;
    github.api_url = server.base_url();
    println!("demo: replaying recorded GitHub API responses on {}", server.base_url());
    let sigstore = config.sigstore.clone().unwrap_or_default();
    let trust = crate::ingest::TrustPolicy::load(sigstore.trusted_root.as_deref(), &sigstore.signers)?;
    let summary = crate::collect::github::collect(&store, &github, Token::new(DEMO_TOKEN.to_string()), &trust)?;
    println!("collect: {}", summary.describe(&github.org));
    drop(server);
    if let Some(gitlab) = &config.gitlab {
        let cassette_path = fixtures.join(GITLAB_CASSETTE_FILE);
        let text = std::fs::read_to_string(&cassette_path)
            .with_context(|| format!("cannot read {}", cassette_path.display()))?;
        let cassette = Cassette::parse(&text, &cassette_path.display().to_string())?;
        let server = runtime.block_on(ReplayServer::start(cassette))?;
        let gitlab = crate::collect::gitlab::GitlabConfig { api_url: server.base_url(), ..gitlab.clone() };
        println!("demo: replaying recorded GitLab API responses on {}", server.base_url());
        let summary = crate::collect::gitlab::collect(&store, &gitlab, Token::new(DEMO_TOKEN.to_string()))?;
        println!("collect: {}", summary.describe(&gitlab.group));
    }
    drop(runtime);

    for file in &config.files {
        crate::cli::ingest::ingest_paths(
            &store,
            std::slice::from_ref(&file.path),
            &crate::ingest::IngestOptions { repo: file.repo.clone(), ..Default::default() },
        )?;
    }
    drop(store);

    let catalogue = Catalogue::load(&[] as &[&Path])?;
    let scope = crate::evaluate::Scope::at(crate::time::now_utc());
    let evaluation = crate::evaluate::evaluate(&store_path, &catalogue, &config, &scope)?;
    crate::cli::evaluate::print_evaluation(&catalogue, &evaluation);

    let store = Store::open_existing(&store_path)?;
    let model =
        crate::drift::report_with_drift(store.conn(), Some(evaluation.evaluation_id), config.organisation.as_deref())?;
    let written = crate::report::write_reports(&model, output, &[], None, crate::report::Paper::A4)?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    write_signed_bundle(&store, evaluation.evaluation_id, config.organisation.as_deref(), output)?;
    drop(store);
    println!("demo complete: the reports and the signed bundle are in {}", output.display());
    Ok(EXIT_OK)
}

/// Writes the embedded demo fixtures into `dir` so the demo reads them like any user's files.
/// Signs the demo's bundle with a throwaway unencrypted key made for the demo, then verifies it as an auditor would.
fn write_signed_bundle(store: &Store, evaluation_id: i64, organisation: Option<&str>, output: &Path) -> Result<()> {
    use crate::bundle::signature::{keygen, Password};
    let key = keygen(&output.join("demo-signing.key"), Password::None, true)?;
    let bundle = output.join("bundle.zip");
    let options = crate::bundle::RenderOptions {
        paper: crate::report::Paper::A4,
        templates: None,
        organisation,
        previous_root_hash: None,
    };
    let (manifest, signed) =
        crate::bundle::create(store, evaluation_id, &options, Some((&key.secret, Password::None)), &bundle)?;
    crate::cli::bundle::print_written(&bundle, &manifest, signed);
    let public_key = crate::bundle::signature::load_public(&key.public.display().to_string())?;
    let verification = crate::bundle::verify(&bundle, Some(&public_key), crate::bundle::DEFAULT_MAX_UNPACKED_BYTES);
    print!("{}", crate::cli::bundle::describe(&bundle, &verification));
    anyhow::ensure!(verification.holds(), "the demo bundle did not verify");
    Ok(())
}

fn write_builtin_fixtures(dir: &Path) -> Result<PathBuf> {
    for (name, text) in crate::embedded::DEMO_FIXTURES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(dir.to_path_buf())
}
