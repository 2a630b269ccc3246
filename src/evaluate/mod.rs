//! Evaluation: run every control's SQL in the sandbox, turn rows into verdicts, store them.

mod control_tests;
mod sandbox;
mod verdict;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::params;
use serde::{Deserialize, Serialize};

pub use control_tests::{run_control_tests, CaseResult};
pub use sandbox::{RawRow, Sandbox};
pub use verdict::Status;

use crate::config::Config;
use crate::controls::{Catalogue, Control, Framework};
use crate::error::input_error;
use crate::store::{RunStatus, Store};

/// How long one control query may run.
pub const QUERY_TIME_LIMIT: Duration = Duration::from_secs(30);

/// A parameter value used in an evaluation, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ParamUse {
    /// The value bound.
    pub value: serde_json::Value,
    /// `default` (the control's) or `policy` (the organisation's config).
    pub origin: String,
}

/// A control's verdict on one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceResult {
    /// The resource judged (org, owner/repo, file).
    pub resource: String,
    /// The verdict.
    pub status: Status,
    /// Why, in words.
    pub reason: String,
    /// The evidence item that proves it.
    pub evidence_id: Option<i64>,
}

/// A control's outcome in one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlOutcome {
    /// The control id.
    pub control_id: String,
    /// The rolled-up verdict.
    pub status: Status,
    /// Why the control could not be evaluated, when it could not.
    pub error: Option<String>,
    /// Parameters used.
    pub params: BTreeMap<String, ParamUse>,
    /// Per-resource verdicts, sorted by resource.
    pub results: Vec<ResourceResult>,
}

/// The controls and frameworks as they were evaluated, stored with the evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvaluatedCatalogue {
    /// The controls.
    pub controls: Vec<Control>,
    /// The frameworks.
    pub frameworks: Vec<Framework>,
    /// (origin, sha256) of each source file.
    pub sources: Vec<(String, String)>,
}

/// The result of `evaluate`.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Its id in the store.
    pub evaluation_id: i64,
    /// The moment evaluated.
    pub as_of: NaiveDateTime,
    /// Per-control outcomes, sorted by control id.
    pub outcomes: Vec<ControlOutcome>,
}

/// Resolves each parameter: the organisation policy's value when set, else the control's default.
pub fn resolve_params(control: &Control, config: &Config) -> Result<BTreeMap<String, ParamUse>> {
    let policy = config.policy.get(&control.id);
    if let Some(unknown) = policy.and_then(|values| values.keys().find(|name| !control.params.contains_key(*name))) {
        return Err(input_error(format!(
            "policy for {} sets {unknown:?}, which is not a parameter of that control (parameters: {})",
            control.id,
            control.params.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(control
        .params
        .iter()
        .map(|(name, param)| {
            let chosen = policy.and_then(|values| values.get(name));
            let used = match chosen {
                Some(value) => ParamUse {
                    value: value.clone(),
                    origin: "policy".into(),
                },
                None => ParamUse {
                    value: param.default.clone(),
                    origin: "default".into(),
                },
            };
            (name.clone(), used)
        })
        .collect())
}

/// Evaluates one control in the sandbox.
pub fn evaluate_control(
    sandbox: &Sandbox,
    control: &Control,
    params: BTreeMap<String, ParamUse>,
    as_of: &NaiveDateTime,
) -> ControlOutcome {
    let unknown = |error: String, params| ControlOutcome {
        control_id: control.id.clone(),
        status: Status::Unknown,
        error: Some(error),
        params,
        results: Vec::new(),
    };
    let mut empty = Vec::new();
    for table in &control.requires {
        match sandbox.count_rows(table) {
            Ok(0) => empty.push(table.as_str()),
            Ok(_) => {}
            Err(error) => return unknown(format!("required fact table unavailable: {error}"), params),
        }
    }
    if !control.requires.is_empty() && empty.len() == control.requires.len() {
        return unknown(
            format!(
                "no evidence: {} had no rows as of {}",
                empty.join(", "),
                crate::time::display_utc(as_of)
            ),
            params,
        );
    }
    let bound: Vec<(String, serde_json::Value)> = params.iter().map(|(n, p)| (n.clone(), p.value.clone())).collect();
    let rows = match sandbox.run(&control.query, &bound) {
        Ok(rows) => rows,
        Err(error) => return unknown(format!("query error: {error:#}"), params),
    };
    let mut results: Vec<ResourceResult> = rows
        .into_iter()
        .map(|row| match Status::parse(&row.status) {
            Some(status) => ResourceResult {
                resource: row.resource,
                status,
                reason: row.reason,
                evidence_id: row.evidence_id,
            },
            None => ResourceResult {
                resource: row.resource,
                status: Status::Unknown,
                reason: format!("the control query returned the invalid status {:?}", row.status),
                evidence_id: row.evidence_id,
            },
        })
        .collect();
    results.sort_by(|a, b| a.resource.cmp(&b.resource).then(a.status.cmp(&b.status)));
    ControlOutcome {
        control_id: control.id.clone(),
        status: Status::roll_up(results.iter().map(|r| r.status)),
        error: None,
        params,
        results,
    }
}

/// Evaluates the whole catalogue against the store as of `as_of`, and stores the evaluation.
pub fn evaluate(store_path: &Path, catalogue: &Catalogue, config: &Config, as_of: NaiveDateTime) -> Result<Evaluation> {
    evaluate_with_limit(store_path, catalogue, config, as_of, QUERY_TIME_LIMIT)
}

/// As [`evaluate`], with a chosen time limit per control query.
pub fn evaluate_with_limit(
    store_path: &Path,
    catalogue: &Catalogue,
    config: &Config,
    as_of: NaiveDateTime,
    time_limit: Duration,
) -> Result<Evaluation> {
    let resolved: Vec<_> = catalogue
        .controls
        .iter()
        .map(|control| resolve_params(control, config).map(|params| (control, params)))
        .collect::<Result<_>>()?;
    drop(Store::open(store_path)?);
    let outcomes: Vec<ControlOutcome> = {
        let sandbox = Sandbox::open(store_path, as_of, time_limit)?;
        resolved
            .into_iter()
            .map(|(control, params)| evaluate_control(&sandbox, control, params, &as_of))
            .collect()
    };
    let store = Store::open(store_path)?;
    let run_id = store.start_run("evaluate")?;
    let stored = store.in_transaction(|conn| {
        let evaluation_id: i64 = conn.query_row("SELECT nextval('evaluation_ids')", [], |row| row.get(0))?;
        let evaluated = EvaluatedCatalogue {
            controls: catalogue.controls.clone(),
            frameworks: catalogue.frameworks.clone(),
            sources: catalogue.sources.clone(),
        };
        conn.execute(
            "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?)",
            params![
                evaluation_id,
                run_id,
                as_of,
                crate::VERSION,
                catalogue.digest(),
                serde_json::to_string(&evaluated)?
            ],
        )?;
        let mut outcome_rows = conn.appender("control_outcomes")?;
        for outcome in &outcomes {
            outcome_rows.append_row(params![
                evaluation_id,
                outcome.control_id,
                outcome.status.as_str(),
                outcome.error,
                serde_json::to_string(&outcome.params)?
            ])?;
        }
        outcome_rows.flush()?;
        let mut result_rows = conn.appender("control_results")?;
        for outcome in &outcomes {
            for result in &outcome.results {
                result_rows.append_row(params![
                    evaluation_id,
                    outcome.control_id,
                    result.resource,
                    result.status.as_str(),
                    result.reason,
                    result.evidence_id
                ])?;
            }
        }
        result_rows.flush()?;
        Ok(evaluation_id)
    });
    match stored {
        Ok(evaluation_id) => {
            store.finish_run(
                run_id,
                RunStatus::Succeeded,
                &serde_json::json!({"evaluation_id": evaluation_id}),
            )?;
            Ok(Evaluation {
                evaluation_id,
                as_of,
                outcomes,
            })
        }
        Err(error) => {
            store.finish_run(
                run_id,
                RunStatus::Failed,
                &serde_json::json!({"error": format!("{error:#}")}),
            )?;
            Err(error)
        }
    }
}
