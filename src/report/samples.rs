//! Made-up report models: a large one for the benchmarks, a small one for the renderers' tests.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;

use crate::evaluate::{EvaluatedCatalogue, Status};
use crate::period::Period;
use crate::store::sha256_hex;

use super::attribution::Subjects;
use super::build::{build, BuildInput, StoredOutcome};
use super::model::*;

/// A large made-up model for benchmarks: every built-in control judges all but every eleventh of `resources`
/// resources (5,000 findings for 500 resources), with mixed verdicts, long reasons and one evidence item each.
pub fn synthetic_model(resources: usize) -> Result<ReportModel> {
    let catalogue = crate::controls::Catalogue::load(&[] as &[&std::path::Path])?;
    let statuses = [Status::Pass, Status::Pass, Status::Fail, Status::Unknown, Status::Pass, Status::NotApplicable];
    let mut outcomes = BTreeMap::new();
    for (index, control) in catalogue.controls.iter().enumerate() {
        let findings: Vec<FindingRow> = (0..resources)
            .filter(|r| (r + index) % 11 != 0)
            .map(|r| {
                let status = statuses[(r * 7 + index * 3) % statuses.len()];
                FindingRow {
                    control: control.id.clone(),
                    resource: format!("synthetic-org/service-{r:04}"),
                    status: status.as_str().into(),
                    status_label: status.label().into(),
                    reason: format!(
                        "Branch release/{r} of synthetic-org/service-{r:04}: required reviews {} and status checks {}                          as of the latest observation",
                        r % 3,
                        if r % 2 == 0 { "enforced" } else { "missing" }
                    ),
                    evidence_id: Some(r as i64 + 1),
                    underlying_status: None,
                    waiver: None,
                    held_throughout: None,
                    throughout: None,
                    incomplete_evidence: r % 13 == 0,
                }
            })
            .collect();
        let status = if findings.iter().any(|f| f.status == "fail") { Status::Fail } else { Status::Pass };
        outcomes.insert(control.id.clone(), StoredOutcome { status, error: None, params: BTreeMap::new(), findings });
    }
    let evidence = (0..resources)
        .map(|r| {
            let sha256 = sha256_hex(format!("synthetic evidence {r}").as_bytes());
            EvidenceRow {
                id: r as i64 + 1,
                source: "github".into(),
                kind: "github.branch_protection".into(),
                subject: format!("synthetic-org/service-{r:04}@main"),
                collected_at: "2026-09-30 10:00:00 UTC".into(),
                collected_at_iso: "2026-09-30T10:00:00Z".into(),
                file: evidence_file(&sha256),
                sha256,
            }
        })
        .collect();
    Ok(build(BuildInput {
        organisation: "Synthetic Org".into(),
        attestations: Vec::new(),
        waivers: Vec::new(),
        evaluation_id: 1,
        period: Some(Period::parse("2026-Q3")?),
        as_of: NaiveDateTime::parse_from_str("2026-09-30 23:59:59", "%Y-%m-%d %H:%M:%S")?,
        tool_version: crate::VERSION.into(),
        catalogue_sha256: catalogue.digest(),
        evidence_digest: "0".repeat(64),
        catalogue: EvaluatedCatalogue {
            controls: catalogue.controls.clone(),
            frameworks: catalogue.frameworks.clone(),
            sources: catalogue.sources.clone(),
        },
        outcomes,
        evidence,
        subjects: Subjects::default(),
    }))
}

/// A small model built from the built-in catalogue and made-up outcomes, for renderer tests.
#[cfg(test)]
pub fn sample_model() -> ReportModel {
    let catalogue = crate::controls::Catalogue::load(&[] as &[&std::path::Path]).expect("built-in catalogue");
    let finding = |control: &str, resource: &str, status: Status, reason: &str| FindingRow {
        control: control.into(),
        resource: resource.into(),
        status: status.as_str().into(),
        status_label: status.label().into(),
        reason: reason.into(),
        evidence_id: Some(1),
        underlying_status: None,
        waiver: None,
        held_throughout: None,
        throughout: None,
        incomplete_evidence: false,
    };
    let mut outcomes = BTreeMap::new();
    for control in &catalogue.controls {
        let (status, findings) = match control.id.as_str() {
            "SRC-05" => {
                (Status::Fail, vec![finding("SRC-05", "o/a", Status::Fail, "Branch main has no branch protection")])
            }
            "SRC-06" => (Status::Unknown, vec![finding("SRC-06", "o/b", Status::Unknown, "not visible")]),
            _ => (Status::Pass, vec![finding(&control.id, "o/a", Status::Pass, "ok")]),
        };
        outcomes.insert(control.id.clone(), StoredOutcome { status, error: None, params: BTreeMap::new(), findings });
    }
    build(BuildInput {
        organisation: "Example <Org>".into(),
        attestations: Vec::new(),
        waivers: Vec::new(),
        evaluation_id: 7,
        period: Some(Period::parse("2026-Q3").unwrap()),
        as_of: NaiveDateTime::parse_from_str("2026-09-30 23:59:59", "%Y-%m-%d %H:%M:%S").unwrap(),
        tool_version: "test".into(),
        catalogue_sha256: "0".repeat(64),
        evidence_digest: "1".repeat(64),
        catalogue: EvaluatedCatalogue {
            controls: catalogue.controls.clone(),
            frameworks: catalogue.frameworks.clone(),
            sources: catalogue.sources.clone(),
        },
        outcomes,
        evidence: vec![EvidenceRow {
            id: 1,
            source: "github".into(),
            kind: "github.branch_protection".into(),
            subject: "o/a@main".into(),
            collected_at: "2026-09-30 10:00:00 UTC".into(),
            collected_at_iso: "2026-09-30T10:00:00Z".into(),
            sha256: "2".repeat(64),
            file: evidence_file(&"2".repeat(64)),
        }],
        subjects: Subjects {
            repositories: ["o/a", "o/b"]
                .map(|repo| crate::evaluate::subjects::RepositoryRef {
                    org: "o".into(),
                    repo: repo.into(),
                    archived: false,
                    default_branch: Some("main".into()),
                })
                .to_vec(),
            ..Subjects::default()
        },
    })
}
