//! Evaluation: run every control's SQL in the sandbox, turn rows into verdicts, store them.

pub mod attestations;
mod control_tests;
mod freshness;
pub mod history;
pub mod retention;
pub mod rollup;
mod sandbox;
pub mod stored;
pub mod subjects;
pub mod throughout;
mod verdict;
mod verdict_rows;
pub mod waivers;
pub mod which;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::params;
use serde::{Deserialize, Serialize};

pub use control_tests::{run_control_tests, CaseResult};
pub use sandbox::{RawRow, Sandbox, MANUAL_ATTESTATIONS};
pub use verdict::Status;

use crate::config::Config;
use crate::controls::{Catalogue, Control, Framework, Stricter};
use crate::error::input_error;
use crate::period::Period;
use crate::store::Store;

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
    /// The verdict before a waiver applied (only for waived results).
    pub underlying: Option<Status>,
    /// The waiver that applied, if any.
    pub waiver: Option<waivers::Waiver>,
    /// For state controls over a period: whether it held at every snapshot in the period.
    pub throughout: Option<throughout::Throughout>,
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

/// Keeps the evaluation's result per framework (as its report shows it), for the trend over later periods.
fn record_framework_results(
    conn: &duckdb::Connection,
    evaluation_id: i64,
    catalogue: &EvaluatedCatalogue,
    outcomes: &[ControlOutcome],
    attestations: &[attestations::JudgedAttestation],
) -> Result<()> {
    let statuses: BTreeMap<&str, Status> = outcomes.iter().map(|o| (o.control_id.as_str(), o.status)).collect();
    let control_status = |id: &str| statuses.get(id).copied().unwrap_or(Status::Unknown);
    let param_value = |control: &str, param: &str| {
        outcomes.iter().find(|o| o.control_id == control).and_then(|o| o.params.get(param)).map(|p| p.value.clone())
    };
    let attested = rollup::attested_requirements(attestations);
    let mut rows = conn.appender("evaluation_frameworks")?;
    for framework in &catalogue.frameworks {
        let f = rollup::framework(framework, &catalogue.controls, &control_status, &param_value, &attested);
        rows.append_row(params![
            evaluation_id,
            framework.id,
            framework.name,
            f.requirements.len() as i64,
            f.counts.pass as i64,
            f.counts.fail as i64,
            f.counts.unknown as i64,
            f.attested as i64,
            f.coverage_percent,
            f.compliance_percent
        ])?;
    }
    rows.flush()?;
    Ok(())
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
    /// The moment and period evaluated.
    pub scope: Scope,
    /// Every waiver entry, as judged at the moment evaluated.
    pub waivers: Vec<waivers::JudgedWaiver>,
    /// Every attestation entry, as judged at the moment evaluated.
    pub attestations: Vec<attestations::JudgedAttestation>,
    /// Per-control outcomes, sorted by control id.
    pub outcomes: Vec<ControlOutcome>,
    /// Evidence the period depends on that its source deletes before the period can be archived.
    pub retention: Vec<retention::RetentionRisk>,
    /// How long each control took (its query, and for state controls the period's earlier snapshots), in control
    /// order; and how long storing the evaluation took. For benchmarks and `--log-level debug`; never stored.
    pub timings: Timings,
}

/// Where an evaluation's time went.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Per control: (id, time).
    pub controls: Vec<(String, Duration)>,
    /// Opening the sandbox, retention and evidence ages.
    pub preparing: Duration,
    /// Writing outcomes, results, history and framework figures.
    pub storing: Duration,
}

fn same_type(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    matches!(
        (a, b),
        (Value::Bool(_), Value::Bool(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::String(_), Value::String(_))
            | (Value::Array(_), Value::Array(_))
    )
}

/// Resolves each parameter: the organisation policy's value when set (of the default's type), else the
/// control's baseline. Where a parameter says which way is stricter, a policy weaker than the baseline is
/// not applied, and the origin says so.
pub fn resolve_params(control: &Control, config: &Config) -> Result<BTreeMap<String, ParamUse>> {
    let policy = config.policy.get(&control.id);
    if let Some(unknown) = policy.and_then(|values| values.keys().find(|name| !control.params.contains_key(*name))) {
        return Err(input_error(format!(
            "policy for {} sets {unknown:?}, which is not a parameter of that control (parameters: {})",
            control.id,
            control.params.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let mut resolved = BTreeMap::new();
    for (name, param) in &control.params {
        let default = ParamUse { value: param.default.clone(), origin: "default".into() };
        let Some(value) = policy.and_then(|values| values.get(name)) else {
            resolved.insert(name.clone(), default);
            continue;
        };
        if !same_type(value, &param.default) {
            return Err(input_error(format!(
                "policy for {} sets {name} to {value}, but it takes a value like {}",
                control.id, param.default
            )));
        }
        let weaker = match (param.stricter, value.as_f64(), param.default.as_f64()) {
            (Some(Stricter::Higher), Some(wanted), Some(baseline)) => wanted < baseline,
            (Some(Stricter::Lower), Some(wanted), Some(baseline)) => wanted > baseline,
            _ => false,
        };
        let used = if weaker {
            tracing::warn!(
                "policy for {} sets {name} = {value}, weaker than the control's baseline {}; the baseline is used",
                control.id,
                param.default
            );
            ParamUse {
                value: param.default.clone(),
                origin: format!("default (policy value {value} is weaker than this baseline and was not applied)"),
            }
        } else {
            ParamUse { value: value.clone(), origin: "policy".into() }
        };
        resolved.insert(name.clone(), used);
    }
    Ok(resolved)
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
    let counting = std::time::Instant::now();
    // A control with evidence in none of the tables it requires is unknown ("no evidence"), never judged on
    // nothing. One table with rows is enough to go on: the smallest are asked first, and a table whose history is
    // empty shows nothing as of any moment.
    let mut sized = Vec::new();
    for table in &control.requires {
        match sandbox.stored_rows(table) {
            Ok(rows) => sized.push((rows, table.as_str())),
            Err(error) => return unknown(format!("required fact table unavailable: {error}"), params),
        }
    }
    sized.sort();
    let mut evidence_found = control.requires.is_empty();
    for (_, table) in sized.iter().filter(|(rows, _)| *rows > 0) {
        match sandbox.has_rows(table) {
            Ok(true) => {
                evidence_found = true;
                break;
            }
            Ok(false) => {}
            Err(error) => return unknown(format!("required fact table unavailable: {error}"), params),
        }
    }
    if !evidence_found {
        return unknown(
            format!(
                "no evidence: {} had no rows as of {}",
                control.requires.join(", "),
                crate::time::display_utc(as_of)
            ),
            params,
        );
    }
    let bound: Vec<(String, serde_json::Value)> = params.iter().map(|(n, p)| (n.clone(), p.value.clone())).collect();
    let querying = std::time::Instant::now();
    let counted = querying - counting;
    let rows = sandbox.run(&control.query, &bound);
    tracing::debug!(
        control = control.id.as_str(),
        counting_ms = counted.as_millis() as u64,
        query_ms = querying.elapsed().as_millis() as u64,
        "control query"
    );
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => return unknown(format!("query error: {error:#}"), params),
    };
    let mut results: Vec<ResourceResult> = rows
        .into_iter()
        .map(|row| match Status::from_query(&row.status) {
            Some(status) => ResourceResult {
                resource: row.resource,
                status,
                reason: row.reason,
                evidence_id: row.evidence_id,
                underlying: None,
                waiver: None,
                throughout: None,
            },
            None => ResourceResult {
                resource: row.resource,
                status: Status::Unknown,
                reason: format!("the control query returned the invalid status {:?}", row.status),
                evidence_id: row.evidence_id,
                underlying: None,
                waiver: None,
                throughout: None,
            },
        })
        .collect();
    for result in &mut results {
        let forge = crate::controls::Forge::of_resource(&result.resource);
        // Unknowns too: their reasons speak of the other forge's evidence.
        if !control.forges.contains(&forge) {
            result.status = Status::Unknown;
            result.reason = format!(
                "Not judged on {}: {} is written and tested for {} evidence only, and pipeproof does not collect \
                 what it needs from {} yet",
                forge.label(),
                control.id,
                control.forges.iter().map(|f| f.label()).collect::<Vec<_>>().join(" and "),
                forge.label()
            );
        }
    }
    results.sort_by(|a, b| a.resource.cmp(&b.resource).then(a.status.cmp(&b.status)));
    ControlOutcome {
        control_id: control.id.clone(),
        status: Status::roll_up(results.iter().map(|r| r.status)),
        error: None,
        params,
        results,
    }
}

/// What an evaluation looks at: the evidence as of a moment, and the period operation controls cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// State controls read the latest observation at or before this moment.
    pub as_of: NaiveDateTime,
    /// The reporting period, if one was given (its end is `as_of` unless an earlier as-of was asked for).
    pub period: Option<Period>,
}

impl Scope {
    /// The evidence as of a moment, with no reporting period.
    pub fn at(as_of: NaiveDateTime) -> Scope {
        Scope { as_of, period: None }
    }

    /// A reporting period, evaluated as of its end (or now, if it has not ended) or an earlier moment inside it.
    pub fn for_period(period: Period, as_of: Option<NaiveDateTime>, now: NaiveDateTime) -> Result<Scope> {
        if now < period.start {
            return Err(input_error(format!("the period {} has not started yet", period.describe())));
        }
        let as_of = as_of.unwrap_or(period.end.min(now));
        if as_of < period.start || as_of > period.end {
            return Err(input_error(format!(
                "--as-of {} lies outside the period {}",
                crate::time::display_utc(&as_of),
                period.describe()
            )));
        }
        Ok(Scope { as_of, period: Some(period) })
    }

    /// Where operation controls start reading events: the period start, else the year 1.
    pub fn events_from(&self) -> NaiveDateTime {
        let beginning = chrono::NaiveDate::from_ymd_opt(1, 1, 1).and_then(|day| day.and_hms_opt(0, 0, 0));
        self.period.as_ref().map(|p| p.start).or(beginning).expect("a valid date")
    }
}

/// Applies active waivers to failing and unknown results, keeping the underlying verdict, and rolls up again.
pub fn apply_waivers(outcome: &mut ControlOutcome, judged: &[waivers::JudgedWaiver]) {
    for result in &mut outcome.results {
        if !matches!(result.status, Status::Fail | Status::Unknown) {
            continue;
        }
        if let Some(found) = waivers::find(judged, &outcome.control_id, &result.resource) {
            result.underlying = Some(result.status);
            result.status = Status::Waived;
            result.waiver = found.waiver.clone();
        }
    }
    if !outcome.results.is_empty() {
        outcome.status = Status::roll_up(outcome.results.iter().map(|r| r.status));
    }
}

/// An attestation must name a requirement of the catalogue, or a control that takes attestations: a sign-off
/// never stands in for an automated control (a waiver, with its expiry and approver, is the way to accept a risk).
fn check_attestation_target(
    catalogue: &Catalogue,
    entry: usize,
    attestation: &attestations::Attestation,
) -> Result<()> {
    match attestation.covers() {
        Ok(attestations::Covers::Requirement(framework, requirement)) => {
            let known =
                catalogue.framework(framework).is_some_and(|f| f.requirements.iter().any(|r| r.id == requirement));
            if !known {
                return Err(input_error(format!(
                    "attestation {entry}: {framework} {requirement} is not a requirement in the catalogue"
                )));
            }
        }
        Ok(attestations::Covers::Control(id, _)) => match catalogue.controls.iter().find(|c| c.id == id) {
            None => return Err(input_error(format!("attestation {entry}: {id} is not a control in the catalogue"))),
            Some(control) if !control.takes_attestations() => {
                return Err(input_error(format!(
                    "attestation {entry}: {id} is decided by evidence, not by sign-off (it does not read \
                     {MANUAL_ATTESTATIONS}); to accept its failures, write a waiver"
                )))
            }
            Some(_) => {}
        },
        Err(_) => {}
    }
    Ok(())
}

/// Evaluates the whole catalogue against the store within `scope`, and stores the evaluation.
pub fn evaluate(store_path: &Path, catalogue: &Catalogue, config: &Config, scope: &Scope) -> Result<Evaluation> {
    evaluate_with_limit(store_path, catalogue, config, scope, QUERY_TIME_LIMIT)
}

/// As [`evaluate`], with a chosen time limit per control query.
pub fn evaluate_with_limit(
    store_path: &Path,
    catalogue: &Catalogue,
    config: &Config,
    scope: &Scope,
    time_limit: Duration,
) -> Result<Evaluation> {
    let as_of = scope.as_of;
    retention::check_config(&config.retention)?;
    let judged_waivers = match &config.waivers {
        Some(path) => {
            let rules = waivers::WaiverRules {
                max_days: config.waiver_max_days,
                controls: Some(catalogue.controls.iter().map(|control| control.id.clone()).collect()),
            };
            waivers::load(path, as_of, &rules)?
        }
        None => Vec::new(),
    };
    for judged in judged_waivers.iter().filter(|j| j.state != waivers::WaiverState::Active) {
        tracing::warn!("waiver {} not applied: {}", judged.entry, judged.note);
    }
    let judged_attestations = match &config.attestations {
        Some(path) => attestations::load(path, as_of)?,
        None => Vec::new(),
    };
    for judged in &judged_attestations {
        if let Some(a) = &judged.attestation {
            check_attestation_target(catalogue, judged.entry, a)?;
        }
        if judged.state != attestations::AttestationState::Valid {
            tracing::warn!("attestation {} does not count: {}", judged.entry, judged.note);
        }
    }
    let resolved: Vec<_> = catalogue
        .controls
        .iter()
        .map(|control| resolve_params(control, config).map(|params| (control, params)))
        .collect::<Result<_>>()?;
    drop(Store::open(store_path)?);
    let mut timings = Timings::default();
    let started = std::time::Instant::now();
    let (organisations, outcomes, risks): (Option<String>, Vec<ControlOutcome>, Vec<retention::RetentionRisk>) = {
        let sandbox = Sandbox::open(store_path, scope, time_limit)?;
        sandbox.add_attestations(&judged_attestations)?;
        let risks = retention::assess(sandbox.conn(), scope, &config.retention)?;
        let ages = freshness::EvidenceAges::load(&sandbox, &config.max_evidence_age_days)?;
        let organisations = sandbox.organisations()?;
        timings.preparing = started.elapsed();
        let outcomes = resolved
            .into_iter()
            .map(|(control, params)| {
                let control_started = std::time::Instant::now();
                let history = match control.kind {
                    crate::controls::ControlKind::State => throughout::assess(&sandbox, control, &params, scope),
                    crate::controls::ControlKind::Operation => Ok(BTreeMap::new()),
                };
                let mut outcome = evaluate_control(&sandbox, control, params, &as_of);
                match history {
                    Ok(mut history) => {
                        for result in &mut outcome.results {
                            result.throughout = history.remove(&result.resource);
                        }
                    }
                    Err(error) => {
                        tracing::warn!("{}: the period's earlier snapshots could not be judged: {error:#}", control.id)
                    }
                }
                ages.apply(&mut outcome, as_of);
                apply_waivers(&mut outcome, &judged_waivers);
                let took = control_started.elapsed();
                tracing::debug!(control = control.id.as_str(), ms = took.as_millis() as u64, "evaluated");
                timings.controls.push((control.id.clone(), took));
                outcome
            })
            .collect();
        (organisations, outcomes, risks)
    };
    for risk in &risks {
        tracing::warn!(
            source = risk.source.as_str(),
            subject = risk.subject.as_str(),
            expires_from = %risk.expires_from,
            archive_by = %risk.archive_by,
            "source retention: {}",
            risk.summary()
        );
    }
    tracing::debug!(controls = outcomes.len(), "storing the evaluation");
    let storing = std::time::Instant::now();
    let store = Store::open(store_path)?;
    let run_id = store.start_run("evaluate")?;
    let stored = store.commit_run(
        run_id,
        |conn| {
            let evaluation_id = crate::store::next_ids(conn, "evaluation_ids", 1)?[0];
            let evaluated = EvaluatedCatalogue {
                controls: catalogue.controls.clone(),
                frameworks: catalogue.frameworks.clone(),
                sources: catalogue.sources.clone(),
            };
            let period = scope.period.as_ref();
            conn.execute(
                "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    evaluation_id,
                    run_id,
                    as_of,
                    crate::VERSION,
                    catalogue.digest(),
                    serde_json::to_string(&evaluated)?,
                    period.map(|p| p.label.clone()),
                    period.map(|p| p.start),
                    period.map(|p| p.end),
                    serde_json::to_string(&judged_waivers)?,
                    serde_json::to_string(&judged_attestations)?,
                    organisations
                ],
            )?;
            let texts: Vec<&[u8]> = catalogue.texts.values().map(|text| text.as_bytes()).collect();
            crate::store::add_blobs(conn, &texts)?;
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
            verdict_rows::append(conn, evaluation_id, &outcomes)?;
            let appended = storing.elapsed();
            history::record(conn, evaluation_id)?;
            tracing::debug!(
                appended_ms = appended.as_millis() as u64,
                history_ms = (storing.elapsed() - appended).as_millis() as u64,
                "stored the verdicts and folded them into the history"
            );
            record_framework_results(conn, evaluation_id, &evaluated, &outcomes, &judged_attestations)?;
            retention::record(conn, evaluation_id, &risks)?;
            Ok(evaluation_id)
        },
        |evaluation_id| Ok(serde_json::json!({"evaluation_id": evaluation_id})),
    )?;
    timings.storing = storing.elapsed();
    Ok(Evaluation {
        evaluation_id: stored,
        scope: scope.clone(),
        waivers: judged_waivers,
        attestations: judged_attestations,
        outcomes,
        retention: risks,
        timings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control_with(param: &str, default: serde_json::Value, stricter: Option<Stricter>) -> Control {
        let mut catalogue = Catalogue::load(&[] as &[&Path]).unwrap();
        let mut control = catalogue.controls.remove(0);
        control.params.clear();
        control.params.insert(param.into(), crate::controls::Param { default, description: "test".into(), stricter });
        control
    }

    fn policy(control: &Control, name: &str, value: serde_json::Value) -> Config {
        let mut config = Config::default();
        config.policy.entry(control.id.clone()).or_default().insert(name.into(), value);
        config
    }

    fn moment(text: &str) -> NaiveDateTime {
        crate::time::parse_as_of(text).unwrap()
    }

    #[test]
    fn a_period_is_evaluated_as_of_its_end_or_now() {
        let q3 = Period::parse("2026-Q3").unwrap();
        let scope = Scope::for_period(q3.clone(), None, moment("2026-11-26T10:00:00Z")).unwrap();
        assert_eq!(scope.as_of, moment("2026-09-30"));
        assert_eq!(scope.events_from(), moment("2026-07-01T00:00:00Z"));
        let running =
            Scope::for_period(Period::parse("2026-Q4").unwrap(), None, moment("2026-11-26T10:00:00Z")).unwrap();
        assert_eq!(running.as_of, moment("2026-11-26T10:00:00Z"));
        let error = Scope::for_period(q3.clone(), Some(moment("2026-10-02")), moment("2026-11-26")).unwrap_err();
        assert!(error.to_string().contains("outside the period"), "{error}");
        let error = Scope::for_period(Period::parse("2027-Q1").unwrap(), None, moment("2026-11-26")).unwrap_err();
        assert!(error.to_string().contains("has not started"), "{error}");
    }

    #[test]
    fn policy_can_tighten_a_baseline() {
        let control = control_with("min_approvals", serde_json::json!(1), Some(Stricter::Higher));
        let used = resolve_params(&control, &policy(&control, "min_approvals", serde_json::json!(2))).unwrap();
        assert_eq!(used["min_approvals"], ParamUse { value: serde_json::json!(2), origin: "policy".into() });
    }

    #[test]
    fn policy_cannot_weaken_a_baseline() {
        let control = control_with("min_approvals", serde_json::json!(1), Some(Stricter::Higher));
        let used = resolve_params(&control, &policy(&control, "min_approvals", serde_json::json!(0))).unwrap();
        assert_eq!(used["min_approvals"].value, serde_json::json!(1));
        assert!(used["min_approvals"].origin.contains("weaker"), "{:?}", used["min_approvals"]);

        let control = control_with("max_days", serde_json::json!(30), Some(Stricter::Lower));
        let used = resolve_params(&control, &policy(&control, "max_days", serde_json::json!(90))).unwrap();
        assert_eq!(used["max_days"].value, serde_json::json!(30));
    }

    #[test]
    fn a_policy_value_of_the_wrong_type_is_an_input_error() {
        let control = control_with("min_approvals", serde_json::json!(1), Some(Stricter::Higher));
        let error = resolve_params(&control, &policy(&control, "min_approvals", serde_json::json!("two"))).unwrap_err();
        assert_eq!(crate::error::exit_code_for(&error), crate::error::EXIT_INPUT);
        assert!(error.to_string().contains("takes a value like 1"), "{error}");
    }

    #[test]
    fn an_unknown_policy_parameter_is_an_input_error() {
        let control = control_with("min_approvals", serde_json::json!(1), None);
        let error = resolve_params(&control, &policy(&control, "min_aprovals", serde_json::json!(2))).unwrap_err();
        assert!(error.to_string().contains("min_aprovals"), "{error}");
    }
}
