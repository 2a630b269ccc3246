//! `pipeproof run`: the scheduled job: collect, evaluate, report, bundle, and drift since the last run.

use std::path::Path;

use anyhow::Result;

use crate::config::Config;
use crate::controls::Catalogue;
use crate::error::{EXIT_GATE_FAILED, EXIT_OK};
use crate::evaluate::Scope;
use crate::period::Period;
use crate::store::Store;

/// `pipeproof run`: collect → evaluate → report → drift against the previous evaluation.
pub fn run_job(store_path: &Path, config_path: &Path, args: &crate::cli::RunArgs) -> Result<u8> {
    let config = Config::load(config_path, true)?;
    let mut code = EXIT_OK;
    if !args.no_collect {
        code = super::collect::collect(store_path, config_path)?;
    }
    let catalogue = Catalogue::load(&[] as &[&Path])?;
    let now = crate::time::now_utc();
    let scope = match &args.period {
        Some(text) => Scope::for_period(Period::parse(text)?, None, now)?,
        None => Scope::at(now),
    };
    let evaluation = crate::evaluate::evaluate(store_path, &catalogue, &config, &scope)?;
    tracing::info!(evaluation = evaluation.evaluation_id, "evaluated {} controls", evaluation.outcomes.len());
    let store = Store::open_existing(store_path)?;
    let conn = store.conn();
    let model = crate::drift::report_with_drift(conn, Some(evaluation.evaluation_id), config.organisation.as_deref())?;
    for path in crate::report::write_reports(&model, &args.output, &[], None, crate::report::Paper::A4)? {
        tracing::info!("wrote {}", path.display());
    }
    if let Some(bundle) = &config.bundle {
        write_run_bundle(&store, evaluation.evaluation_id, &config, bundle, &args.output)?;
    }
    let previous = crate::evaluate::which::before(conn, evaluation.evaluation_id)?;
    let Some(previous) = previous else {
        println!("evaluation #{}: first evaluation, nothing to compare with", evaluation.evaluation_id);
        return Ok(code);
    };
    let drift = crate::drift::compare(conn, previous, evaluation.evaluation_id)?;
    print!("{}", drift.to_text());
    let rule = crate::cli::drift::regression_rule(args.fail_on);
    let regressions = drift.regressions(rule, crate::controls::Severity::Low);
    crate::cli::drift::notify(conn, &config, &args.notify, &drift, &regressions)?;
    if !regressions.is_empty() {
        tracing::warn!(regressions = regressions.len(), "regression since evaluation #{previous}");
        return Ok(EXIT_GATE_FAILED);
    }
    Ok(code)
}

/// `run`'s bundle: `bundle.zip` in the output folder, chained to the bundle it replaces there.
pub fn write_run_bundle(
    store: &Store,
    evaluation_id: i64,
    config: &Config,
    settings: &crate::config::BundleConfig,
    output: &Path,
) -> Result<()> {
    use crate::bundle::signature::Password;
    let path = output.join("bundle.zip");
    let previous_root_hash = if path.exists() { Some(crate::bundle::previous_root(&path)?) } else { None };
    let options = crate::bundle::RenderOptions {
        paper: crate::report::Paper::A4,
        templates: None,
        organisation: config.organisation.as_deref(),
        previous_root_hash,
    };
    let sign_with = settings.sign.as_deref().map(|key| (key, Password::FromEnv(&settings.password_env)));
    let (manifest, signed) = crate::bundle::create(store, evaluation_id, &options, sign_with, &path)?;
    tracing::info!(
        root_hash = manifest.root_hash.as_str(),
        previous_root_hash = manifest.previous_root_hash.as_deref().unwrap_or(""),
        signed,
        "wrote {}",
        path.display()
    );
    Ok(())
}
