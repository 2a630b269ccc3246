//! Runs controls' test cases: each case's facts go into a throwaway store, the control runs in the same
//! sandbox as a real evaluation, and every resource's verdict must be the one expected.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use duckdb::types::Value as DbValue;
use duckdb::Connection;

use super::{evaluate_control, ControlOutcome, ParamUse, Sandbox, Status, QUERY_TIME_LIMIT};
use crate::controls::{Catalogue, Control, TestCase};
use crate::error::input_error;
use crate::store::views::{fact_views, is_fact_view};
use crate::store::Store;

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
/// on a store of its own; results come back in catalogue order. With `fail_closed`, each control's passing cases
/// are also run again with each fact they give taken away (see [`fail_closed_results`]).
pub fn run_control_tests(catalogue: &Catalogue, only: Option<&[String]>, fail_closed: bool) -> Result<Vec<CaseResult>> {
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
        for forge in control.forges.iter().filter(|forge| !forge.resource_prefix().is_empty()) {
            let judged = tests.cases.iter().flat_map(|c| &c.expect).any(|e| {
                e.resource.starts_with(forge.resource_prefix()) && matches!(e.status.as_str(), "pass" | "fail")
            });
            if !judged {
                planned.push(Planned::Done(CaseResult {
                    control_id: control.id.clone(),
                    case: "(forges)".into(),
                    failures: vec![format!(
                        "{origin}: the control judges {} (forges) but no case expects a pass or a fail on a {}… \
                         resource",
                        forge.label(),
                        forge.resource_prefix()
                    )],
                }));
            }
        }
        planned.extend(tests.cases.iter().map(|case| Planned::Case { control, origin: origin.as_str(), case }));
    }

    // Every case starts from a copy of one empty, migrated store: migrating a store per case would cost more than
    // the case itself.
    let template = EmptyStore::new()?;
    let mut results = Vec::new();
    let mut passing = Vec::new();
    for (job, outcome) in planned.iter().zip(in_parallel(&planned, |job| match job {
        Planned::Done(_) => Ok(None),
        Planned::Case { control, origin, case } => {
            evaluate_case(&template, control, case).with_context(|| format!("{origin}: case {:?}", case.name)).map(Some)
        }
    })) {
        match (job, outcome?) {
            (Planned::Done(result), _) => results.push(result.clone()),
            (Planned::Case { control, case, .. }, Some(outcome)) => {
                let failures = compare(case, &outcome);
                if failures.is_empty() {
                    let passed: Vec<(String, Option<i64>)> = outcome
                        .results
                        .iter()
                        .filter(|result| result.status == Status::Pass)
                        .map(|result| (result.resource.clone(), result.evidence_id))
                        .collect();
                    if !passed.is_empty() {
                        passing.push((*control, *case, passed));
                    }
                }
                results.push(CaseResult { control_id: control.id.clone(), case: case.name.clone(), failures });
            }
            (Planned::Case { .. }, None) => unreachable!("a case always has an outcome"),
        }
    }
    if fail_closed {
        results.extend(fail_closed_results(&template, &passing)?);
    }
    Ok(results)
}

/// Facts whose absence is safe for every control, with why (docs/controls.md lists them).
pub const ABSENCE_SAFE_EVERYWHERE: &[(&str, &str)] = &[
    (
        "repositories.archived",
        "it only exempts: a repository whose archived state is unknown is judged as an active one",
    ),
    ("api_coverage.reason", "words only: the coverage state decides"),
];

/// A case in which a control passed, with each passing resource and the evidence its verdict cites.
type PassingCase<'a> = (&'a Control, &'a TestCase, Vec<(String, Option<i64>)>);

/// The fail-closed check: a pass must rest on evidence. For every case where a control passes, each fact it was
/// given is taken away in turn (one column set to NULL, or one row left out) and the case is run again; if a
/// resource still passes, the control passes on missing evidence, unless its `absence_safe` says why that is
/// right (`table.column` for a column, `table` for a row). One result per control: what was taken away in vain.
fn fail_closed_results(template: &EmptyStore, passing: &[PassingCase]) -> Result<Vec<CaseResult>> {
    struct Mutation<'a> {
        control: &'a Control,
        case: TestCase,
        taken: String,
        /// The passing resources the fact taken away is about.
        passed: Vec<String>,
    }
    let mut mutations = Vec::new();
    let safe = |control: &Control, fact: &str| {
        control.absence_safe.contains_key(fact) || ABSENCE_SAFE_EVERYWHERE.iter().any(|(safe, _)| *safe == fact)
    };
    for (control, case, passed) in passing {
        let query_words = words(&control.query);
        let judged: Vec<String> = case.expect.iter().map(|expectation| expectation.resource.clone()).collect();
        // Rows get evidence ids in this order when the case is stored (`insert_facts`).
        let mut evidence_id = 0i64;
        for (table, rows) in &case.facts {
            let nullable = template.nullable_columns(table);
            for (index, row) in rows.iter().enumerate() {
                evidence_id += 1;
                // A case often judges several resources; only the rows about a passing one are its evidence: those
                // that name it, and the one its verdict cites.
                let named = owners(row, &judged);
                let about: Vec<String> = passed
                    .iter()
                    .filter(|(resource, cited)| named.contains(&resource.as_str()) || *cited == Some(evidence_id))
                    .map(|(resource, _)| resource.clone())
                    .collect();
                if about.is_empty() {
                    continue;
                }
                // A row left out is judged only where it is the resource's one row of its table: where several
                // give the same evidence (two scans, two reviews), one of them missing rightly leaves the pass.
                let alone = about.iter().all(|resource| {
                    rows.iter().filter(|other| owners(other, &judged).contains(&resource.as_str())).count() <= 1
                });
                if alone && !safe(control, table) {
                    let mut without = (*case).clone();
                    if let Some(rows) = without.facts.get_mut(table) {
                        rows.remove(index);
                    }
                    let taken = format!("without {table} row {}", index + 1);
                    mutations.push(Mutation { control, case: without, taken, passed: about.clone() });
                }
                for (column, value) in row {
                    let key = format!("{table}.{column}");
                    // A column the query never names cannot decide its verdict.
                    if value.is_null()
                        || !nullable.contains(column)
                        || !query_words.contains(column.as_str())
                        || safe(control, &key)
                    {
                        continue;
                    }
                    let mut nulled = (*case).clone();
                    if let Some(cell) = nulled.facts.get_mut(table).and_then(|rows| rows[index].get_mut(column)) {
                        *cell = serde_json::Value::Null;
                    }
                    let taken = format!("{key} NULL in row {}", index + 1);
                    mutations.push(Mutation { control, case: nulled, taken, passed: about.clone() });
                }
            }
        }
    }
    let outcomes = in_parallel(&mutations, |mutation| evaluate_case(template, mutation.control, &mutation.case));
    // Per control, each fact (`table.column` or `table`) whose absence left a pass standing, with its first example.
    let mut open: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for (mutation, outcome) in mutations.iter().zip(outcomes) {
        let outcome = outcome
            .with_context(|| format!("{}: fail-closed check of {:?}", mutation.control.id, mutation.case.name))?;
        let still: Vec<&str> = outcome
            .results
            .iter()
            .filter(|result| result.status == Status::Pass && mutation.passed.contains(&result.resource))
            .map(|result| result.resource.as_str())
            .collect();
        if still.is_empty() {
            continue;
        }
        let fact = mutation.taken.split(" in row ").next().unwrap_or(&mutation.taken);
        let fact = fact.trim_start_matches("without ").split(" row ").next().unwrap_or(fact);
        let fact = fact.trim_end_matches(" NULL").to_string();
        open.entry(mutation.control.id.as_str()).or_default().entry(fact.clone()).or_insert_with(|| {
            format!(
                "{fact}: in case {:?}, {} still passes {}; a pass must not outlive its evidence: fix the query, \
                 or say in absence_safe why this absence is safe",
                mutation.case.name,
                mutation.taken,
                still.join(", ")
            )
        });
    }
    let checked: std::collections::BTreeSet<&str> = passing.iter().map(|(control, _, _)| control.id.as_str()).collect();
    Ok(checked
        .into_iter()
        .map(|id| CaseResult {
            control_id: id.to_string(),
            case: "(fail-closed: every fact a pass rests on, taken away, ends the pass)".into(),
            failures: open.get(id).map(|facts| facts.values().cloned().collect()).unwrap_or_default(),
        })
        .collect())
}

/// The resources of a case a fact row names. A resource's words (`o/a`, `v1`, `a.tgz` of `o/a v1 a.tgz`) that the
/// other judged resources lack tell it apart: a row naming those names it (the resources whose telling words it
/// names at the greatest length, where it names several). A row without any text names every resource. A row
/// that names none is still about a resource whose verdict cites it.
fn owners<'a>(row: &BTreeMap<String, serde_json::Value>, judged: &'a [String]) -> Vec<&'a str> {
    let texts: std::collections::BTreeSet<&str> =
        row.values().filter_map(serde_json::Value::as_str).filter(|text| !text.is_empty()).collect();
    if texts.is_empty() {
        return judged.iter().map(String::as_str).collect();
    }
    let words_of = |resource: &'a str| -> Vec<&'a str> {
        let mut words: Vec<&str> = resource.split_whitespace().collect();
        words.push(resource);
        words
    };
    let telling = |resource: &'a str| -> Vec<&'a str> {
        let others: Vec<&String> = judged.iter().filter(|other| other.as_str() != resource).collect();
        words_of(resource)
            .into_iter()
            .filter(|word| others.is_empty() || !others.iter().all(|other| words_of(other).contains(word)))
            .collect()
    };
    let named = |words: &[&str]| -> usize { words.iter().filter(|word| texts.contains(*word)).map(|w| w.len()).sum() };
    let weights: Vec<usize> = judged.iter().map(|resource| named(&telling(resource))).collect();
    let best = weights.iter().copied().max().unwrap_or(0);
    if best == 0 {
        return Vec::new();
    }
    judged.iter().zip(&weights).filter(|(_, w)| **w == best).map(|(r, _)| r.as_str()).collect()
}

/// The identifiers a query's text contains.
fn words(sql: &str) -> std::collections::BTreeSet<&str> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|word| !word.is_empty()).collect()
}

/// Runs `work` on every item on as many threads as the machine has cores; results in the items' order.
fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<R>>> = items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
    std::thread::scope(|threads| {
        for _ in 0..workers {
            threads.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(index) else { break };
                let result = work(item);
                *slots[index].lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(result);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()).expect("every item was worked on")
        })
        .collect()
}

/// An empty store with every migration applied, copied for each case, and the nullable columns of its fact tables.
struct EmptyStore {
    dir: tempfile::TempDir,
    nullable: BTreeMap<String, Vec<String>>,
}

impl EmptyStore {
    const FILE: &'static str = "empty.duckdb";

    fn new() -> Result<EmptyStore> {
        let dir = tempfile::tempdir().context("cannot create a temporary store")?;
        let store = Store::open(&dir.path().join(Self::FILE))?;
        let mut nullable: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut statement = store.conn().prepare(
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'main' AND is_nullable = 'YES' AND table_name LIKE '%\\_history' ESCAPE '\\'",
        )?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
        for row in rows {
            let (table, column) = row?;
            nullable.entry(table.trim_end_matches("_history").to_string()).or_default().push(column);
        }
        drop(statement);
        drop(store);
        Ok(EmptyStore { dir, nullable })
    }

    /// The columns of a fact table that may be NULL.
    fn nullable_columns(&self, table: &str) -> &[String] {
        self.nullable.get(table).map_or(&[], Vec::as_slice)
    }

    /// A fresh copy of the empty store inside `dir`.
    fn copy_into(&self, dir: &std::path::Path) -> Result<std::path::PathBuf> {
        let path = dir.join("case.duckdb");
        std::fs::copy(self.dir.path().join(Self::FILE), &path).context("cannot copy the empty store")?;
        Ok(path)
    }
}

/// Runs one case's control on a store holding only the case's facts.
fn evaluate_case(template: &EmptyStore, control: &Control, case: &TestCase) -> Result<ControlOutcome> {
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
    Ok(evaluate_control(&sandbox, control, params, &scope.as_of))
}

/// What differs between a case's expectations and the control's outcome.
fn compare(case: &TestCase, outcome: &ControlOutcome) -> Vec<String> {
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
    failures
}

fn insert_facts(conn: &Connection, case: &TestCase) -> Result<()> {
    let mut evidence_id = 0i64;
    for (table, rows) in &case.facts {
        if !is_fact_view(table.as_str()) {
            return Err(input_error(format!("{table:?} is not a fact table (known: {})", fact_views().join(", "))));
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
