//! What each command does, from parsed arguments to an exit code.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::{Cli, Command, ControlsCommand, EvaluateArgs, FailOn, IngestArgs, ReportArgs, WaiversCommand};
use crate::collect::github::GithubConfig;
use crate::config::Config;
use crate::controls::Catalogue;
use crate::error::{EXIT_GATE_FAILED, EXIT_INPUT, EXIT_OK};
use crate::evaluate::{Evaluation, Scope, Status};
use crate::ingest::{FileOutcome, IngestOptions, LogMapping, TrustPolicy};
use crate::period::Period;
use crate::store::{RunStatus, Store};

/// Runs the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let global = &cli.global;
    let _lock = match store_job(&cli.command) {
        Some((name, writes)) if writes || global.store.exists() => {
            Some(crate::store::JobLock::acquire(&global.store, name, global.wait)?)
        }
        _ => None,
    };
    match cli.command {
        Command::Collect(_) => collect(&global.store, &global.config),
        Command::Run(args) => run_job(&global.store, &global.config, &args),
        Command::Doctor => doctor(&global.config),
        Command::Ingest(args) => ingest(&global.store, &args),
        Command::Evaluate(args) => evaluate(&global.store, &global.config, &args),
        Command::Report(args) => report(&global.store, &global.config, &args),
        Command::Drift(args) => crate::drift_commands::drift(&global.store, &global.config, &args),
        Command::History(args) => crate::drift_commands::history(&global.store, &args),
        Command::Demo(args) => crate::demo::run(&args),
        Command::Bundle(args) => crate::bundle_commands::bundle(&global.store, &global.config, &args),
        Command::Verify(args) => crate::bundle_commands::verify(&args),
        Command::Keygen(args) => crate::bundle_commands::keygen(&args),
        Command::Controls(args) => match args.command {
            ControlsCommand::List { control_dirs } => controls_list(&control_dirs),
            ControlsCommand::Show { id, control_dirs } => crate::controls_commands::show(&id, &control_dirs),
            ControlsCommand::Validate { dir } => crate::controls_commands::validate(dir.as_deref()),
            ControlsCommand::Test { dir, fail_closed } => crate::controls_commands::test(dir.as_deref(), fail_closed),
        },
        Command::Schema { kind } => crate::controls_commands::schema(kind),
        Command::Waivers(args) => match args.command {
            WaiversCommand::Check { file, as_of, control_dirs } => {
                waivers_check(&global.config, file, as_of.as_deref(), &control_dirs)
            }
        },
    }
}

/// The commands that use the store, by name, and whether they write (and so may create it): each holds the store's
/// job lock while it runs. A reader of a store that does not exist takes no lock, so it leaves no lock file behind.
fn store_job(command: &Command) -> Option<(&'static str, bool)> {
    Some(match command {
        Command::Collect(_) => ("collect", true),
        Command::Run(_) => ("run", true),
        Command::Ingest(_) => ("ingest", true),
        Command::Evaluate(_) => ("evaluate", true),
        Command::Report(_) => ("report", false),
        Command::Drift(_) => ("drift", false),
        Command::History(_) => ("history", false),
        Command::Bundle(_) => ("bundle", false),
        _ => return None,
    })
}

fn collect(store_path: &Path, config_path: &Path) -> Result<u8> {
    let config = Config::load(config_path, true)?;
    if config.github.is_none() && config.files.is_empty() {
        return Err(crate::error::input_error(format!(
            "{} names no source: add a `github:` section or `files:`",
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
    for file in &config.files {
        let options = IngestOptions {
            kind: file.kind,
            repo: file.repo.clone(),
            trust: trust.clone(),
            mapping: file.mapping.as_deref().map(LogMapping::load).transpose()?,
            max_expanded_mb: None,
        };
        let outcomes = ingest_paths(&store, std::slice::from_ref(&file.path), &options)?;
        if outcomes.iter().any(|outcome| outcome.error.is_some()) && code == EXIT_OK {
            code = EXIT_INPUT;
        }
    }
    Ok(code)
}

/// Ingests files as one run, printing each outcome; a bad file is reported and the others are kept.
pub fn ingest_paths(store: &Store, paths: &[PathBuf], options: &IngestOptions) -> Result<Vec<FileOutcome>> {
    let run_id = store.start_run("ingest")?;
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let outcomes = crate::ingest::ingest_files(store, run_id, &refs, options);
    for outcome in &outcomes {
        for warning in &outcome.warnings {
            tracing::warn!("{warning}");
        }
        match (&outcome.error, &outcome.summary) {
            (Some(error), _) => eprintln!("error: {error}"),
            (None, Some(summary)) => println!(
                "ingested {} ({}): {summary}",
                outcome.path,
                outcome.format.as_deref().unwrap_or("unknown format")
            ),
            (None, None) => {}
        }
    }
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let status = if failed == outcomes.len() && failed > 0 { RunStatus::Failed } else { RunStatus::Succeeded };
    store.finish_run(run_id, status, &serde_json::json!({"files": outcomes}))?;
    Ok(outcomes)
}

fn ingest(store_path: &Path, args: &IngestArgs) -> Result<u8> {
    let options = IngestOptions {
        kind: args.kind,
        repo: args.repo.clone(),
        trust: TrustPolicy::load(args.trusted_root.as_deref(), &args.signers)?,
        mapping: args.mapping.as_deref().map(LogMapping::load).transpose()?,
        max_expanded_mb: args.max_expanded_mb,
    };
    if args.kind == Some(crate::ingest::IngestKind::Generic) && options.mapping.is_none() {
        return Err(crate::error::input_error(
            "--kind generic needs --mapping FILE (see `pipeproof schema log-mapping`)",
        ));
    }
    let store = Store::open(store_path)?;
    let outcomes = ingest_paths(&store, &args.paths, &options)?;
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    if failed > 0 {
        if failed == outcomes.len() {
            eprintln!("no file could be ingested");
        } else {
            eprintln!("{failed} of {} file(s) could not be ingested; the others were stored", outcomes.len());
        }
        return Ok(EXIT_INPUT);
    }
    Ok(EXIT_OK)
}

/// Prints one line per control with its verdict.
pub fn print_evaluation(catalogue: &Catalogue, evaluation: &Evaluation) {
    let period = evaluation.scope.period.as_ref().map(|p| format!(" for {}", p.describe())).unwrap_or_default();
    println!(
        "evaluation #{}{period}, evidence as of {}",
        evaluation.evaluation_id,
        crate::time::display_utc(&evaluation.scope.as_of)
    );
    for outcome in &evaluation.outcomes {
        let title =
            catalogue.controls.iter().find(|c| c.id == outcome.control_id).map(|c| c.title.as_str()).unwrap_or("");
        let failing = outcome.results.iter().filter(|r| r.status == Status::Fail).count();
        let detail = match &outcome.error {
            Some(error) => format!(" ({error})"),
            None if failing > 0 => format!(" ({failing} of {} resources fail)", outcome.results.len()),
            None => String::new(),
        };
        println!("  {:<15} {:<7} {title}{detail}", outcome.status.label(), outcome.control_id);
    }
}

fn evaluate(store_path: &Path, config_path: &Path, args: &EvaluateArgs) -> Result<u8> {
    let config = Config::load(config_path, false)?;
    let catalogue = Catalogue::load(&args.control_dirs)?;
    let as_of = args.as_of.as_deref().map(crate::time::parse_as_of).transpose()?;
    let scope = match &args.period {
        Some(text) => Scope::for_period(Period::parse(text)?, as_of, crate::time::now_utc())?,
        None => Scope::at(as_of.unwrap_or_else(crate::time::now_utc)),
    };
    let evaluation = crate::evaluate::evaluate(store_path, &catalogue, &config, &scope)?;
    print_evaluation(&catalogue, &evaluation);
    let gate_failed = match args.fail_on {
        None => false,
        Some(FailOn::Fail) => evaluation.outcomes.iter().any(|o| o.status == Status::Fail),
        Some(FailOn::Unknown) => evaluation.outcomes.iter().any(|o| matches!(o.status, Status::Fail | Status::Unknown)),
    };
    Ok(if gate_failed { EXIT_GATE_FAILED } else { EXIT_OK })
}

fn report(store_path: &Path, config_path: &Path, args: &ReportArgs) -> Result<u8> {
    let config = Config::load(config_path, false)?;
    let conn = Store::open_read_only(store_path)?;
    let model = crate::drift::report_with_drift(&conn, args.evaluation, config.organisation.as_deref())?;
    drop(conn);
    for path in
        crate::report::write_reports(&model, &args.output, &args.formats, args.templates.as_deref(), args.paper)?
    {
        println!("wrote {}", path.display());
    }
    Ok(EXIT_OK)
}

fn controls_list(control_dirs: &[PathBuf]) -> Result<u8> {
    let catalogue = Catalogue::load(control_dirs)?;
    println!("{:<8} {:<10} {:<9} {:<9} {:<60} MAPPINGS", "ID", "DOMAIN", "KIND", "SEVERITY", "TITLE");
    for control in &catalogue.controls {
        let mappings: Vec<String> = control.mappings.iter().map(|(f, ids)| format!("{f}: {}", ids.join(" "))).collect();
        println!(
            "{:<8} {:<10} {:<9} {:<9} {:<60} {}",
            control.id,
            format!("{:?}", control.domain).to_lowercase(),
            format!("{:?}", control.kind).to_lowercase(),
            format!("{:?}", control.severity).to_lowercase(),
            control.title,
            mappings.join("; ")
        );
    }
    println!(
        "{} controls; frameworks: {}",
        catalogue.controls.len(),
        catalogue.frameworks.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
    );
    Ok(EXIT_OK)
}

fn waivers_check(
    config_path: &Path,
    file: Option<PathBuf>,
    as_of: Option<&str>,
    control_dirs: &[PathBuf],
) -> Result<u8> {
    use crate::evaluate::waivers::{self, WaiverRules, WaiverState, EXPIRING_WITHIN_DAYS};
    let config = Config::load(config_path, false)?;
    let path = match file {
        Some(file) => file,
        None => config.waivers.clone().ok_or_else(|| {
            crate::error::input_error(
                "no waivers file: pass --file, set `waivers:` in the config, or add waivers.yaml beside it",
            )
        })?,
    };
    let catalogue = crate::controls::Catalogue::load(control_dirs)?;
    let rules = WaiverRules {
        max_days: config.waiver_max_days,
        controls: Some(catalogue.controls.iter().map(|control| control.id.clone()).collect()),
    };
    let as_of = match as_of {
        Some(text) => crate::time::parse_as_of(text)?,
        None => crate::time::now_utc(),
    };
    let judged = waivers::load(&path, as_of, &rules)?;
    let mut bad = 0;
    for entry in &judged {
        let (control, resource) =
            entry.waiver.as_ref().map(|w| (w.control.as_str(), w.resource.as_str())).unwrap_or(("?", "?"));
        let label = match entry.state {
            WaiverState::Active => {
                let days_left = entry.expires_at.map(|end| (end - as_of).num_days()).unwrap_or(i64::MAX);
                if days_left <= EXPIRING_WITHIN_DAYS {
                    format!("expiring in {days_left} day(s)")
                } else {
                    "active".to_string()
                }
            }
            WaiverState::NotYetValid => "not yet valid".to_string(),
            WaiverState::Expired => {
                bad += 1;
                "EXPIRED".to_string()
            }
            WaiverState::Malformed => {
                bad += 1;
                "MALFORMED".to_string()
            }
        };
        println!("{:>3}  {label:<22} {control:<8} {resource:<30} {}", entry.entry, entry.note);
    }
    println!("{} waiver(s) in {}: {bad} expired or malformed", judged.len(), path.display());
    Ok(if bad > 0 { EXIT_GATE_FAILED } else { EXIT_OK })
}

fn doctor(config_path: &Path) -> Result<u8> {
    let config = Config::load(config_path, true)?;
    let github = config.github.as_ref().ok_or_else(|| {
        crate::error::input_error(format!("{} has no `github:` section to check", config_path.display()))
    })?;
    let organisations = github.per_organisation();
    let mut code = EXIT_OK;
    for one in &organisations {
        if organisations.len() > 1 {
            println!("organisation {}:", one.org);
        }
        code = code.max(doctor_one(one)?);
    }
    Ok(code)
}

/// The preflight for one organisation.
fn doctor_one(github: &GithubConfig) -> Result<u8> {
    let client = crate::collect::http::ApiClient::new(&github.api_url, github.auth()?)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let diagnosis = runtime.block_on(crate::collect::github::doctor::diagnose(&client, github))?;
    println!(
        "token: {}{}",
        diagnosis.token_kind,
        diagnosis.scopes.as_ref().map(|s| format!(" (scopes: {s})")).unwrap_or_default()
    );
    for check in &diagnosis.checks {
        println!(
            "  {:<12} {:<40} {}",
            if check.visible { "visible" } else { "NOT VISIBLE" },
            check.evidence,
            check.detail
        );
    }
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

/// `pipeproof run`: collect → evaluate → report → drift against the previous evaluation.
fn run_job(store_path: &Path, config_path: &Path, args: &crate::cli::RunArgs) -> Result<u8> {
    let config = Config::load(config_path, true)?;
    let mut code = EXIT_OK;
    if !args.no_collect {
        code = collect(store_path, config_path)?;
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
    let rule = crate::drift_commands::regression_rule(args.fail_on);
    let regressions = drift.regressions(rule, crate::controls::Severity::Low);
    crate::drift_commands::notify(conn, &config, &args.notify, &drift, &regressions)?;
    if !regressions.is_empty() {
        tracing::warn!(regressions = regressions.len(), "regression since evaluation #{previous}");
        return Ok(EXIT_GATE_FAILED);
    }
    Ok(code)
}

/// `run`'s bundle: `bundle.zip` in the output folder, chained to the bundle it replaces there.
fn write_run_bundle(
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
