//! `pipeproof evaluate`: every control over the store, and the verdicts printed.

use std::path::Path;

use anyhow::Result;

use super::{EvaluateArgs, FailOn};
use crate::config::Config;
use crate::controls::Catalogue;
use crate::error::{EXIT_GATE_FAILED, EXIT_OK};
use crate::evaluate::{Evaluation, Scope, Status};
use crate::period::Period;

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

pub fn evaluate(store_path: &Path, config_path: &Path, args: &EvaluateArgs) -> Result<u8> {
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
