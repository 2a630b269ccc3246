//! The drift commands: `drift` (between evaluations, or against an accepted baseline), `history`, and the
//! notifications and regression rule that `run` shares.

use std::path::Path;

use anyhow::Result;

use crate::config::Config;
use crate::error::{EXIT_GATE_FAILED, EXIT_OK};
use crate::report::ReportModel;
use crate::store::Store;

/// `pipeproof drift`: between two evaluations (default the last two), or against `--baseline`.
pub fn drift(store_path: &Path, config_path: &Path, args: &crate::cli::DriftArgs) -> Result<u8> {
    use crate::cli::DriftFormat;
    let conn = Store::open_read_only(store_path)?;
    if let Some(reference) = &args.baseline {
        return drift_against_baseline(&conn, config_path, args, reference);
    }
    let (default_from, default_to) = match (&args.from, &args.to) {
        (Some(_), Some(_)) => (0, 0),
        _ => crate::evaluate::which::last_two(&conn)?,
    };
    let from =
        args.from.as_deref().map(|t| crate::evaluate::which::named(&conn, t)).transpose()?.unwrap_or(default_from);
    let to = args.to.as_deref().map(|t| crate::evaluate::which::named(&conn, t)).transpose()?.unwrap_or(default_to);
    let drift = crate::drift::compare(&conn, from, to)?;
    match args.format {
        DriftFormat::Text => print!("{}", drift.to_text()),
        DriftFormat::Json => println!("{}", serde_json::to_string_pretty(&drift)?),
        DriftFormat::Markdown => print!("{}", drift.to_markdown()),
    }
    let rule = regression_rule(args.fail_on);
    let regressions = drift.regressions(rule, args.min_severity);
    let config = Config::load(config_path, false)?;
    notify(&conn, &config, &args.notify, &drift, &regressions)?;
    if regressions.is_empty() {
        Ok(EXIT_OK)
    } else {
        eprintln!("regression: {} finding(s) got worse", regressions.len());
        Ok(EXIT_GATE_FAILED)
    }
}

/// `drift --baseline`: the ratchet. Compares the evaluation (--to, default the latest) with the accepted baseline, or
/// with `--accept` writes it as the new baseline.
fn drift_against_baseline(
    conn: &duckdb::Connection,
    config_path: &Path,
    args: &crate::cli::DriftArgs,
    reference: &str,
) -> Result<u8> {
    use crate::cli::DriftFormat;
    use crate::drift::baseline::Baseline;
    let to = match &args.to {
        Some(text) => crate::evaluate::which::named(conn, text)?,
        None => crate::evaluate::which::latest(conn)?,
    };
    let current = ReportModel::load(conn, Some(to), None)?;
    if args.accept {
        let baseline = Baseline::of(&current);
        baseline.save(Path::new(reference))?;
        println!("baseline {reference} now accepts evaluation #{to} ({} findings)", baseline.accepted.len());
        return Ok(EXIT_OK);
    }
    let baseline = Baseline::resolve(conn, reference)?;
    let drift = crate::drift::Drift {
        from: (baseline.evaluation_id, baseline.as_of.clone()),
        to: (to, current.as_of.clone()),
        changes: crate::drift::finding_changes(&baseline.findings(), &crate::drift::findings_of(&current)),
        requirements: Vec::new(),
        expiring_waivers: crate::drift::expiring_waivers(conn, to)?,
    };
    match args.format {
        DriftFormat::Text => print!("{}", drift.to_text()),
        DriftFormat::Json => println!("{}", serde_json::to_string_pretty(&drift)?),
        DriftFormat::Markdown => print!("{}", drift.to_markdown()),
    }
    let regressions = drift.regressions(regression_rule(args.fail_on), args.min_severity);
    let config = Config::load(config_path, false)?;
    notify(conn, &config, &args.notify, &drift, &regressions)?;
    if regressions.is_empty() {
        println!("ratchet: nothing is worse than the baseline (evaluation #{})", baseline.evaluation_id);
        Ok(EXIT_OK)
    } else {
        eprintln!(
            "regression: {} finding(s) worse than the baseline (evaluation #{}); fix them, or accept with --accept",
            regressions.len(),
            baseline.evaluation_id
        );
        Ok(EXIT_GATE_FAILED)
    }
}

/// Sends the drift summary to the config's and the command line's webhooks, when `notify_on` says so; a failed
/// notification is reported and changes nothing else.
pub fn notify(
    conn: &duckdb::Connection,
    config: &Config,
    args: &crate::cli::NotifyArgs,
    drift: &crate::drift::Drift,
    regressions: &[&crate::drift::Change],
) -> Result<()> {
    let urls: Vec<String> = config.notify.iter().chain(&args.notify).cloned().collect();
    if urls.is_empty() || (args.notify_on == crate::cli::NotifyOn::Regression && regressions.is_empty()) {
        return Ok(());
    }
    let organisation = match &config.organisation {
        Some(name) => name.clone(),
        None => crate::evaluate::stored::StoredEvaluation::load(conn, drift.to.0)?
            .organisations
            .unwrap_or_else(|| "Unnamed organisation".to_string()),
    };
    let payload = crate::drift::notify::payload(&organisation, drift, regressions);
    for outcome in crate::drift::notify::send_all(&urls, &payload) {
        match outcome.error {
            None => tracing::info!("notified {}", outcome.shown),
            Some(error) => {
                tracing::error!("notification to {} failed: {error}", outcome.shown);
                eprintln!("warning: notification to {} failed: {error}", outcome.shown);
            }
        }
    }
    Ok(())
}

/// What `--fail-on` means for drift.
pub fn regression_rule(fail_on: crate::cli::DriftFailOn) -> crate::drift::Regression {
    use crate::cli::DriftFailOn;
    use crate::drift::Regression;
    match fail_on {
        DriftFailOn::Fail => Regression::Fail,
        DriftFailOn::Unknown => Regression::Unknown,
        DriftFailOn::Any => Regression::Any,
    }
}

/// `pipeproof history`: the state-change history per control and resource.
pub fn history(store_path: &Path, args: &crate::cli::HistoryArgs) -> Result<u8> {
    let conn = Store::open_read_only(store_path)?;
    let since = args.since.as_deref().map(crate::time::parse_as_of).transpose()?;
    let rows = crate::evaluate::history::list(&conn, args.control.as_deref(), args.resource.as_deref(), since)?;
    if args.format == crate::cli::HistoryFormat::Json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(EXIT_OK);
    }
    let day = |moment: &Option<chrono::NaiveDateTime>| {
        moment.map(|m| m.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into())
    };
    println!(
        "{:<8} {:<32} {:<15} {:<17} {:<17} {:<17} {:<17}",
        "CONTROL", "RESOURCE", "STATUS", "SINCE", "FIRST FAILED", "RESOLVED", "LAST SEEN"
    );
    for row in &rows {
        println!(
            "{:<8} {:<32} {:<15} {:<17} {:<17} {:<17} {:<17}",
            crate::terminal::escaped(&row.control),
            crate::terminal::escaped(&row.resource),
            row.status,
            day(&Some(row.status_since)),
            day(&row.first_failed),
            day(&row.resolved_at),
            day(&Some(row.last_seen))
        );
    }
    println!("{} finding(s)", rows.len());
    Ok(EXIT_OK)
}
