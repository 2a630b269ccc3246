//! Runs controls' test cases: each case's facts go into a throwaway store, the control runs in the same
//! sandbox as a real evaluation, and every resource's verdict must be the one expected.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use duckdb::types::Value as DbValue;
use duckdb::Connection;

use super::{evaluate_control, ParamUse, Sandbox, QUERY_TIME_LIMIT};
use crate::controls::{Catalogue, Control, TestCase};
use crate::error::input_error;
use crate::store::{Store, FACT_VIEWS};

/// When the facts of a test case were observed, unless a row says otherwise.
const OBSERVED_AT: &str = "2026-01-01 00:00:00";

/// The outcome of one test case, or of a control's missing tests.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The control tested.
    pub control_id: String,
    /// The case's name (or what is missing).
    pub case: String,
    /// Why it failed; empty when it passed.
    pub failures: Vec<String>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs the test cases of the given controls (all of the catalogue's when `only` is `None`), in parallel, each case
/// on a store of its own; results come back in catalogue order.
pub fn run_control_tests(catalogue: &Catalogue, only: Option<&[String]>) -> Result<Vec<CaseResult>> {
    enum Planned<'a> {
        Done(CaseResult),
        Case { control: &'a Control, origin: &'a str, case: &'a TestCase },
    }
    let mut planned = Vec::new();
    for control in &catalogue.controls {
        if only.is_some_and(|ids| !ids.contains(&control.id)) {
            continue;
        }
        let Some((origin, tests)) = catalogue.tests.get(&control.id) else {
            planned.push(Planned::Done(CaseResult {
                control_id: control.id.clone(),
                case: "(test file)".into(),
                failures: vec![format!("no test file: add {}.test.yaml beside the control", control.id)],
            }));
            continue;
        };
        let expected: Vec<&str> = tests.cases.iter().flat_map(|c| c.expect.iter().map(|e| e.status.as_str())).collect();
        for needed in ["pass", "fail"] {
            if !expected.contains(&needed) {
                planned.push(Planned::Done(CaseResult {
                    control_id: control.id.clone(),
                    case: "(coverage)".into(),
                    failures: vec![format!(
                        "{origin}: no case expects {needed}; every control needs a passing and a failing case"
                    )],
                }));
            }
        }
        planned.extend(tests.cases.iter().map(|case| Planned::Case { control, origin: origin.as_str(), case }));
    }

    // Every case starts from a copy of one empty, migrated store: migrating a store per case would cost more than
    // the case itself.
    let template = EmptyStore::new()?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<std::sync::Mutex<Option<Result<CaseResult>>>> =
        planned.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(planned.len()).max(1);
    std::thread::scope(|threads| {
        for _ in 0..workers {
            threads.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(job) = planned.get(index) else { break };
                let outcome = match job {
                    Planned::Done(result) => Ok(result.clone()),
                    Planned::Case { control, origin, case } => run_case(&template, control, case)
                        .with_context(|| format!("{origin}: case {:?}", case.name))
                        .map(|failures| CaseResult {
                            control_id: control.id.clone(),
                            case: case.name.clone(),
                            failures,
                        }),
                };
                *outcomes[index].lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(outcome);
            });
        }
    });
    outcomes
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .unwrap_or_else(|| Err(anyhow::anyhow!("a control test case was not run")))
        })
        .collect()
}

/// An empty store with every migration applied, copied for each case.
struct EmptyStore {
    dir: tempfile::TempDir,
}

impl EmptyStore {
    const FILE: &'static str = "empty.duckdb";

    fn new() -> Result<EmptyStore> {
        let dir = tempfile::tempdir().context("cannot create a temporary store")?;
        drop(Store::open(&dir.path().join(Self::FILE))?);
        Ok(EmptyStore { dir })
    }

    /// A fresh copy of the empty store inside `dir`.
    fn copy_into(&self, dir: &std::path::Path) -> Result<std::path::PathBuf> {
        let path = dir.join("case.duckdb");
        std::fs::copy(self.dir.path().join(Self::FILE), &path).context("cannot copy the empty store")?;
        Ok(path)
    }
}

fn run_case(template: &EmptyStore, control: &Control, case: &TestCase) -> Result<Vec<String>> {
    let dir = tempfile::tempdir().context("cannot create a temporary store")?;
    let path = template.copy_into(dir.path())?;
    {
        let store = Store::open(&path)?;
        store.in_transaction(|conn| insert_facts(conn, case))?;
    }
    let mut params: BTreeMap<String, ParamUse> = control
        .params
        .iter()
        .map(|(name, param)| (name.clone(), ParamUse { value: param.default.clone(), origin: "default".into() }))
        .collect();
    for (name, value) in &case.params {
        let slot = params
            .get_mut(name)
            .ok_or_else(|| input_error(format!("sets {name:?}, which is not a parameter of {}", control.id)))?;
        *slot = ParamUse { value: value.clone(), origin: "test case".into() };
    }
    let now = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).expect("date").and_hms_opt(0, 0, 0).expect("time");
    let scope = match &case.period {
        Some(text) => super::Scope::for_period(crate::period::Period::parse(text)?, None, now)?,
        None => super::Scope::at(now),
    };
    let sandbox = Sandbox::open(&path, &scope, QUERY_TIME_LIMIT)?;
    let mut attestations = Vec::new();
    for (index, attestation) in case.attestations.iter().enumerate() {
        let judged = super::attestations::judge(index + 1, attestation.clone(), scope.as_of, dir.path());
        if judged.state == super::attestations::AttestationState::Invalid {
            return Err(input_error(format!("attestation {}", judged.note)));
        }
        attestations.push(judged);
    }
    sandbox.add_attestations(&attestations)?;
    let outcome = evaluate_control(&sandbox, control, params, &scope.as_of);

    let mut failures = Vec::new();
    if let Some(error) = &outcome.error {
        failures.push(format!("the control could not be evaluated: {error}"));
    }
    for expectation in &case.expect {
        match outcome.results.iter().find(|r| r.resource == expectation.resource) {
            None => failures.push(format!(
                "expected {} for {}, but the control did not judge it",
                expectation.status, expectation.resource
            )),
            Some(result) => {
                if result.status.as_str() != expectation.status {
                    failures.push(format!(
                        "{}: expected {}, got {} ({})",
                        expectation.resource,
                        expectation.status,
                        result.status.as_str(),
                        result.reason
                    ));
                }
                if let Some(text) = &expectation.reason_contains {
                    if !result.reason.contains(text.as_str()) {
                        failures.push(format!("{}: reason {:?} lacks {text:?}", expectation.resource, result.reason));
                    }
                }
            }
        }
    }
    for result in &outcome.results {
        if !case.expect.iter().any(|e| e.resource == result.resource) {
            failures.push(format!(
                "unexpected verdict {} for {} ({})",
                result.status.as_str(),
                result.resource,
                result.reason
            ));
        }
    }
    Ok(failures)
}

fn insert_facts(conn: &Connection, case: &TestCase) -> Result<()> {
    let mut evidence_id = 0i64;
    for (table, rows) in &case.facts {
        if !FACT_VIEWS.contains(&table.as_str()) {
            return Err(input_error(format!("{table:?} is not a fact table (known: {})", FACT_VIEWS.join(", "))));
        }
        let history = format!("{table}_history");
        let columns = table_columns(conn, &history)?;
        for row in rows {
            evidence_id += 1;
            let mut values: BTreeMap<String, DbValue> = BTreeMap::new();
            values.insert("run_id".into(), DbValue::BigInt(1));
            values.insert("evidence_id".into(), DbValue::BigInt(evidence_id));
            values.insert("observed_at".into(), DbValue::Text(OBSERVED_AT.into()));
            for (column, value) in row {
                if !columns.contains(column) {
                    return Err(input_error(format!(
                        "{table} has no column {column:?} (columns: {})",
                        columns.join(", ")
                    )));
                }
                values.insert(
                    column.clone(),
                    to_db_value(value).map_err(|e| input_error(format!("{table}.{column}: {e}")))?,
                );
            }
            let names: Vec<&str> = values.keys().map(String::as_str).collect();
            let placeholders = vec!["?"; names.len()].join(", ");
            let sql = format!("INSERT INTO {history} ({}) VALUES ({placeholders})", names.join(", "));
            let params: Vec<&dyn duckdb::ToSql> = values.values().map(|v| v as &dyn duckdb::ToSql).collect();
            conn.execute(&sql, params.as_slice())
                .map_err(|error| input_error(format!("{table}: row {row:?} cannot be stored: {error}")))?;
        }
    }
    Ok(())
}

fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut statement = conn
        .prepare("SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position")?;
    let columns = statement.query_map([table], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(columns)
}

fn to_db_value(value: &serde_json::Value) -> std::result::Result<DbValue, String> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => DbValue::Null,
        Value::Bool(flag) => DbValue::Boolean(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => DbValue::BigInt(integer),
            None => DbValue::Double(number.as_f64().unwrap_or_default()),
        },
        Value::String(text) => DbValue::Text(text.clone()),
        Value::Array(items) => crate::store::list_text::json_list(items)?,
        Value::Object(_) => {
            return Err("objects are not fact values; use a string, number, boolean, null or list".into())
        }
    })
}
