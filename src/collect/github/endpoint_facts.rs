//! Stores the answers of the organisation and repository endpoints: each page as evidence, a coverage row saying
//! whether the token could see it (and if not, why), and the fact rows its items make.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use duckdb::types::Value as Cell;
use duckdb::{Appender, Connection};

use super::coverage::{judge, Coverage, Seen};
use super::endpoints::{Fact, Scope};
use super::fetch::Fetched;
use crate::collect::http::ApiResponse;
use crate::store::{add_evidence_batch, NewEvidence};

/// What storing the endpoint answers added.
#[derive(Debug, Default)]
pub struct Stored {
    /// Evidence items (pages).
    pub evidence: usize,
    /// Fact rows.
    pub facts: usize,
    /// Answers the token could not see.
    pub not_visible: usize,
    /// Answers saying the feature is off.
    pub feature_off: usize,
    /// Answers that could not be read completely (server failures, rate limits, listings cut short).
    pub incomplete: usize,
}

/// Stores every answer, its coverage rows and its facts (in bulk through Appenders).
pub fn store(conn: &Connection, run_id: i64, org: &str, fetched: &[Fetched]) -> Result<Stored> {
    let mut items = Vec::new();
    for answer in fetched {
        let subject = answer.repo.as_deref().unwrap_or(org);
        let complete =
            answer.endpoint.paginated().then(|| crate::collect::http::listing_complete(&answer.pages)).flatten();
        for page in &answer.pages {
            items.push(NewEvidence {
                source: "github",
                kind: answer.endpoint.kind,
                subject,
                collected_at: page.received_at,
                provenance: page.provenance(complete),
                body: &page.body,
            });
        }
    }
    let ids = add_evidence_batch(conn, run_id, &items)?;
    let mut stored = Stored { evidence: ids.len(), ..Stored::default() };
    let bypass = ruleset_bypass(fetched)?;
    let mut appenders: HashMap<&'static str, Appender<'_>> = HashMap::new();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut next_id = ids.iter();
    for answer in fetched {
        let page_ids: Vec<i64> = next_id.by_ref().take(answer.pages.len()).copied().collect();
        let subject = answer.repo.as_deref().unwrap_or(org);
        let scope = Scope { org, repo: answer.repo.as_deref(), branch: answer.branch.as_deref(), bypass: &bypass };
        let seen = judge(answer.endpoint.kind, answer.endpoint.needs, answer.endpoint.absent.is_some(), &answer.pages);
        stored.not_visible += usize::from(matches!(seen, Seen::NotVisible(_)));
        stored.feature_off += usize::from(matches!(seen, Seen::FeatureOff(_)));
        stored.incomplete += usize::from(matches!(seen, Seen::Incomplete(_)));
        let observed_at = answer.pages.first().map(|p| p.received_at).unwrap_or_else(crate::time::now_utc);
        let complete = answer.pages.last().is_some_and(|p| p.status == 200 || p.status == 204 || seen == Seen::Absent);
        for table in answer.endpoint.tables {
            let row = Coverage {
                org,
                subject,
                kind: answer.endpoint.kind,
                table,
                part: answer.endpoint.part,
                evidence_id: page_ids.first().copied(),
                observed_at,
                complete,
            };
            row.append(&mut coverage, run_id, &seen)?;
        }
        let facts = match &seen {
            Seen::Visible => visible_facts(answer, &scope, &page_ids)?,
            Seen::Absent => {
                let absent = answer.endpoint.absent.map(|rows| rows(&scope)).unwrap_or_default();
                absent.into_iter().map(|fact| (page_ids[0], observed_at, fact)).collect()
            }
            Seen::NotVisible(reason) | Seen::FeatureOff(reason) | Seen::Incomplete(reason) => {
                let unseen = answer.endpoint.unseen.map(|rows| rows(&scope, reason)).unwrap_or_default();
                unseen.into_iter().map(|fact| (page_ids[0], observed_at, fact)).collect()
            }
        };
        for (evidence_id, observed_at, fact) in facts {
            let appender = match appenders.entry(fact.table) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    entry.insert(conn.appender(&format!("{}_history", fact.table))?)
                }
            };
            let mut row = vec![
                Cell::BigInt(run_id),
                Cell::BigInt(evidence_id),
                super::cells::timestamp(observed_at),
                Cell::Text(org.to_string()),
            ];
            row.extend(fact.cells);
            appender
                .append_row(duckdb::appender_params_from_iter(row))
                .with_context(|| format!("cannot store a {} row from {}", fact.table, answer.endpoint.kind))?;
            stored.facts += 1;
        }
    }
    coverage.flush()?;
    for appender in appenders.values_mut() {
        appender.flush()?;
    }
    Ok(stored)
}

/// The facts of a visible answer, each with the evidence id of the page it came from.
fn visible_facts(answer: &Fetched, scope: &Scope, page_ids: &[i64]) -> Result<Vec<(i64, chrono::NaiveDateTime, Fact)>> {
    let bodies: Vec<(i64, &ApiResponse, serde_json::Value)> =
        answer.pages.iter().zip(page_ids).map(|(page, id)| Ok((*id, page, page.json()?))).collect::<Result<_>>()?;
    let mut facts = Vec::new();
    if let Some(whole) = answer.endpoint.whole {
        let items: Vec<&serde_json::Value> =
            bodies.iter().flat_map(|(_, _, body)| answer.endpoint.items(body)).collect();
        let (id, page, _) = &bodies[0];
        facts.extend(whole(scope, &items)?.into_iter().map(|fact| (*id, page.received_at, fact)));
    }
    for (id, page, body) in &bodies {
        for item in answer.endpoint.items(body) {
            let rows = (answer.endpoint.extract)(scope, item, answer.parent.as_ref())
                .with_context(|| format!("{}: cannot read an item", page.url))?;
            facts.extend(rows.into_iter().map(|fact| (*id, page.received_at, fact)));
        }
    }
    Ok(facts)
}

/// Bypass actors per ruleset id, from the ruleset definitions this collection read.
fn ruleset_bypass(fetched: &[Fetched]) -> Result<BTreeMap<i64, Vec<String>>> {
    let mut definitions = Vec::new();
    for answer in fetched.iter().filter(|answer| answer.endpoint.kind == "github.ruleset") {
        for page in answer.pages.iter().filter(|page| page.status == 200) {
            definitions.push(page.json()?);
        }
    }
    Ok(super::ruleset_rows::bypass_by_ruleset(definitions.iter()))
}
