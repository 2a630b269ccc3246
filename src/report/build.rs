//! Builds the `ReportModel` of a stored evaluation: reads its verdicts, findings, waivers, attestations and
//! evidence, and lays them out as the report shows them (the roll-up itself is `evaluate::rollup`).

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::Connection;

use crate::controls::{Control, Framework, Severity, SummaryKind};
use crate::evaluate::attestations::{Attestation, Covers, JudgedAttestation};
pub use crate::evaluate::rollup::StatusCounts;
use crate::evaluate::rollup::{self, percent, Standing};
use crate::evaluate::stored;
use crate::evaluate::throughout::Throughout;
use crate::evaluate::{EvaluatedCatalogue, ParamUse, Status};
use crate::period::Period;

use super::attribution::{Attribution, Subjects};
use super::model::*;

pub(super) struct StoredOutcome {
    pub(super) status: Status,
    pub(super) error: Option<String>,
    pub(super) params: BTreeMap<String, ParamUse>,
    pub(super) findings: Vec<FindingRow>,
}

impl ReportModel {
    /// Builds the model for an evaluation (the latest when `evaluation_id` is `None`).
    pub fn load(conn: &Connection, evaluation_id: Option<i64>, organisation: Option<&str>) -> Result<ReportModel> {
        Self::load_parts(conn, evaluation_id, organisation, true)
    }

    /// The model without per-resource findings or evidence: every verdict per control and requirement, cheaply.
    pub fn load_summary(conn: &Connection, evaluation_id: i64) -> Result<ReportModel> {
        Self::load_parts(conn, Some(evaluation_id), None, false)
    }

    fn load_parts(
        conn: &Connection,
        evaluation_id: Option<i64>,
        organisation: Option<&str>,
        with_findings: bool,
    ) -> Result<ReportModel> {
        let evaluation_id = match evaluation_id {
            Some(id) => id,
            None => crate::evaluate::which::latest(conn)?,
        };
        let stored = stored::StoredEvaluation::load(conn, evaluation_id)?;
        let outcomes = load_outcomes(conn, evaluation_id, with_findings)?;
        let judged = stored.waivers()?;
        let waivers = judged.iter().map(waiver_row).collect();
        let attestations = stored.attestations()?;
        let organisation = match organisation {
            Some(name) => name.to_string(),
            None => stored.organisations.clone().unwrap_or_else(|| "Unnamed organisation".to_string()),
        };
        let stored::StoredEvaluation { as_of, tool_version, catalogue_sha256, catalogue, period, .. } = stored;
        let trend_start = period.as_ref().map(|p| p.start).unwrap_or(as_of - chrono::Duration::days(90));
        let points = stored::framework_results(conn, trend_start, as_of)?;
        let evidence = if with_findings { load_evidence(conn, evaluation_id)? } else { Vec::new() };
        let subjects = if with_findings {
            load_subjects(conn, period.as_ref(), as_of, trend_start, &points)?
        } else {
            Subjects::default()
        };
        let trend = super::trend::series(points);
        let mut model = build(BuildInput {
            organisation,
            attestations,
            waivers,
            evaluation_id,
            period,
            as_of,
            tool_version,
            catalogue_sha256,
            evidence_digest: evidence_digest(&evidence),
            catalogue,
            outcomes,
            evidence,
            subjects,
        });
        model.trend = trend;
        model.wildcard_waivers = wildcard_waivers(&judged, &model.controls);
        model.retention =
            crate::evaluate::retention::load(conn, evaluation_id)?.iter().map(RetentionRow::from_risk).collect();
        Ok(model)
    }

    /// The evidence appendix by id, for renderers that look items up per finding.
    pub fn evidence_by_id(&self) -> BTreeMap<i64, &EvidenceRow> {
        self.evidence.iter().map(|e| (e.id, e)).collect()
    }

    /// The model as pretty JSON (stable key order).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }
}

fn load_outcomes(
    conn: &Connection,
    evaluation_id: i64,
    with_findings: bool,
) -> Result<BTreeMap<String, StoredOutcome>> {
    let mut outcomes: BTreeMap<String, StoredOutcome> = stored::outcomes(conn, evaluation_id)?
        .into_iter()
        .map(|o| {
            (o.control_id, StoredOutcome { status: o.status, error: o.error, params: o.params, findings: Vec::new() })
        })
        .collect();
    if !with_findings {
        return Ok(outcomes);
    }
    for result in stored::results(conn, evaluation_id)? {
        if let Some(outcome) = outcomes.get_mut(&result.control_id) {
            let throughout = result.throughout.as_ref();
            outcome.findings.push(FindingRow {
                control: result.control_id,
                resource: result.resource,
                status: result.status.as_str().to_string(),
                status_label: result.status.label().to_string(),
                reason: result.reason,
                evidence_id: result.evidence_id,
                underlying_status: result.underlying.map(|s| s.label().to_string()),
                waiver: result.waiver.as_ref().map(describe_waiver),
                held_throughout: throughout.map(|t| t.held),
                throughout: throughout.map(Throughout::summary),
                incomplete_evidence: result.evidence_incomplete,
            });
        }
    }
    Ok(outcomes)
}

fn load_subjects(
    conn: &Connection,
    period: Option<&Period>,
    as_of: NaiveDateTime,
    cadence_start: NaiveDateTime,
    evaluations: &[stored::FrameworkPoint],
) -> Result<Subjects> {
    use crate::evaluate::subjects;
    let release_start = period.map(|p| p.start).unwrap_or(cadence_start);
    let mut validations: BTreeMap<String, Vec<NaiveDateTime>> = BTreeMap::new();
    for point in evaluations {
        validations.entry(point.framework_id.clone()).or_default().push(point.as_of);
    }
    Ok(Subjects {
        repositories: subjects::repositories(conn, as_of)?,
        releases: subjects::releases(conn, release_start, as_of)?,
        validations,
        cadence_start,
    })
}

fn load_evidence(conn: &Connection, evaluation_id: i64) -> Result<Vec<EvidenceRow>> {
    Ok(stored::cited_evidence(conn, evaluation_id)?
        .into_iter()
        .map(|e| EvidenceRow {
            id: e.id,
            source: e.source,
            kind: e.kind,
            subject: e.subject,
            collected_at: crate::time::display_utc(&e.collected_at),
            collected_at_iso: e.collected_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            file: evidence_file(&e.sha256),
            sha256: e.sha256,
        })
        .collect())
}

pub(super) struct BuildInput {
    pub(super) organisation: String,
    pub(super) attestations: Vec<JudgedAttestation>,
    pub(super) waivers: Vec<WaiverRow>,
    pub(super) evaluation_id: i64,
    pub(super) period: Option<Period>,
    pub(super) as_of: NaiveDateTime,
    pub(super) tool_version: String,
    pub(super) catalogue_sha256: String,
    pub(super) evidence_digest: String,
    pub(super) catalogue: EvaluatedCatalogue,
    pub(super) outcomes: BTreeMap<String, StoredOutcome>,
    pub(super) evidence: Vec<EvidenceRow>,
    pub(super) subjects: Subjects,
}

pub(super) fn build(input: BuildInput) -> ReportModel {
    let BuildInput {
        organisation,
        attestations,
        waivers,
        evaluation_id,
        period,
        as_of,
        tool_version,
        catalogue_sha256,
        evidence_digest,
        catalogue,
        outcomes,
        evidence,
        subjects,
    } = input;
    let control_status = |id: &str| outcomes.get(id).map(|o| o.status).unwrap_or(Status::Unknown);
    let param_value = |control: &str, param: &str| {
        outcomes.get(control).and_then(|o| o.params.get(param)).map(|used| used.value.clone())
    };
    let attested = rollup::attested_requirements(&attestations);
    let attestation_rows: Vec<AttestationRow> = attestations
        .iter()
        .map(|judged| {
            let a = judged.attestation.as_ref();
            let covers = match a.map(Attestation::covers) {
                Some(Ok(Covers::Requirement(framework, requirement))) => {
                    format!("{} {requirement}", framework_label(framework, &catalogue.frameworks))
                }
                Some(Ok(Covers::Control(..))) => a.map(Attestation::subject).unwrap_or_default(),
                _ => String::new(),
            };
            AttestationRow {
                entry: judged.entry,
                covers,
                statement: a.map(|a| a.statement.clone()).unwrap_or_default(),
                attested: a.map(|a| format!("{} on {}", a.attested_by, a.attested_at)).unwrap_or_default(),
                state: serde_json::to_value(judged.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                note: judged.note.clone(),
                document: a.map(|a| format!("{} (sha256 {})", a.document, a.document_sha256)).unwrap_or_default(),
            }
        })
        .collect();

    let mut summary = Summary {
        controls_total: 0,
        controls: StatusCounts::default(),
        findings: StatusCounts::default(),
        resources: 0,
        controls_chart: Vec::new(),
    };
    let mut resources = std::collections::BTreeSet::new();
    let mut controls = Vec::new();
    let mut unobserved = Vec::new();
    for control in &catalogue.controls {
        let Some(outcome) = outcomes.get(&control.id) else {
            continue;
        };
        summary.controls_total += 1;
        summary.controls.add(outcome.status);
        let mut counts = StatusCounts::default();
        for finding in &outcome.findings {
            let status = Status::parse(&finding.status).unwrap_or(Status::Unknown);
            counts.add(status);
            summary.findings.add(status);
            resources.insert(finding.resource.clone());
            if status == Status::Unknown {
                unobserved.push(Unobserved {
                    control: control.id.clone(),
                    resource: finding.resource.clone(),
                    reason: finding.reason.clone(),
                });
            }
        }
        if let Some(error) = &outcome.error {
            unobserved.push(Unobserved {
                control: control.id.clone(),
                resource: "(all)".into(),
                reason: error.clone(),
            });
        }
        controls.push(control_section(control, outcome, counts, &catalogue.frameworks));
    }
    summary.resources = resources.len();
    let by_status = &summary.controls;
    summary.controls_chart = segments(&[
        ("pass", "Pass", by_status.pass),
        ("fail", "Fail", by_status.fail),
        ("unknown", "Unknown", by_status.unknown),
        ("waived", "Waived", by_status.waived),
        ("not_applicable", "Not applicable", by_status.not_applicable),
    ]);
    let mut by_domain: BTreeMap<crate::controls::Domain, StatusCounts> = BTreeMap::new();
    for control in &catalogue.controls {
        if let Some(outcome) = outcomes.get(&control.id) {
            by_domain.entry(control.domain).or_default().add(outcome.status);
        }
    }
    let domains = by_domain
        .into_iter()
        .map(|(domain, counts)| {
            let decided = counts.pass + counts.fail;
            DomainSummary {
                domain: domain.label().to_string(),
                controls: counts.total(),
                coverage_percent: percent(decided, counts.total()),
                compliance_percent: percent(counts.pass, decided),
                counts,
            }
        })
        .collect();

    let mut frameworks: Vec<FrameworkSection> = catalogue
        .frameworks
        .iter()
        .map(|framework| framework_section(framework, &catalogue.controls, &control_status, &param_value, &attested))
        .collect();
    let evidence_sha256 = |id: i64| evidence.iter().find(|e| e.id == id).map(|e| e.sha256.clone());
    let attested_at = attestation_moments(&attestations);
    let context =
        SummaryContext { subjects: &subjects, as_of, evidence_sha256: &evidence_sha256, attested_at: &attested_at };
    framework_summaries(&mut frameworks, &catalogue.frameworks, &controls, &context);
    let gaps = gaps(&frameworks, &catalogue.controls, &outcomes);

    ReportModel {
        title: format!("CI/CD pipeline security assessment: {organisation}"),
        organisation,
        evaluation_id,
        period: period.as_ref().map(Period::describe),
        as_of: crate::time::display_utc(&as_of),
        as_of_iso: as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        period_start_iso: period.as_ref().map(|p| p.start.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        tool_version,
        catalogue_sha256,
        evidence_digest,
        summary,
        domains,
        frameworks,
        gaps,
        populations: controls
            .iter()
            .map(|c: &ControlSection| PopulationRow {
                control: c.id.clone(),
                title: c.title.clone(),
                kind: c.kind.clone(),
                items: c.findings.len(),
                counts: c.counts.clone(),
                file: format!("populations/{}.csv", c.id),
            })
            .collect(),
        controls,
        unobserved,
        retention: Vec::new(),
        attestations: attestation_rows,
        waivers,
        wildcard_waivers: Vec::new(),
        evidence,
        drift: None,
        trend: Vec::new(),
        chosen_frameworks: Vec::new(),
        unobserved_omitted: 0,
    }
}

fn control_section(
    control: &Control,
    outcome: &StoredOutcome,
    counts: StatusCounts,
    frameworks: &[Framework],
) -> ControlSection {
    ControlSection {
        id: control.id.clone(),
        title: control.title.clone(),
        domain: control.domain.label().to_string(),
        kind: format!("{:?}", control.kind).to_lowercase(),
        severity: control.severity.as_str().to_string(),
        statement: control.statement.trim().to_string(),
        rationale: control.rationale.trim().to_string(),
        remediation: control.remediation.trim().to_string(),
        status: outcome.status.as_str().to_string(),
        status_label: outcome.status.label().to_string(),
        error: outcome.error.clone(),
        params: outcome
            .params
            .iter()
            .map(|(name, used)| ParamRow {
                name: name.clone(),
                value: used.value.to_string(),
                origin: used.origin.clone(),
            })
            .collect(),
        mappings: control
            .mappings
            .iter()
            .map(|(framework, ids)| MappingRow {
                framework: framework_label(framework, frameworks),
                framework_id: framework.clone(),
                requirements: ids.join(", "),
            })
            .collect(),
        counts,
        incomplete_evidence: outcome.findings.iter().filter(|finding| finding.incomplete_evidence).count(),
        findings_omitted: 0,
        findings: outcome.findings.clone(),
    }
}

/// What the framework summaries read besides the sections and controls.
struct SummaryContext<'a> {
    subjects: &'a Subjects,
    as_of: NaiveDateTime,
    evidence_sha256: &'a dyn Fn(i64) -> Option<String>,
    /// Per framework, when each requirement's valid attestation was made.
    attested_at: &'a BTreeMap<String, BTreeMap<String, NaiveDateTime>>,
}

/// When each valid attestation of a framework requirement was made, by framework and requirement.
fn attestation_moments(attestations: &[JudgedAttestation]) -> BTreeMap<String, BTreeMap<String, NaiveDateTime>> {
    let mut moments: BTreeMap<String, BTreeMap<String, NaiveDateTime>> = BTreeMap::new();
    for judged in attestations.iter().filter(|j| j.state == crate::evaluate::attestations::AttestationState::Valid) {
        let Some(a) = &judged.attestation else { continue };
        let (Ok(Covers::Requirement(framework, requirement)), Some(at)) =
            (a.covers(), crate::time::parse_start(&a.attested_at))
        else {
            continue;
        };
        let slot = moments.entry(framework.to_string()).or_default().entry(requirement.to_string()).or_insert(at);
        *slot = (*slot).max(at);
    }
    moments
}

/// Each framework's own summary (levels, sections, indicators or releases), from the findings.
fn framework_summaries(
    sections: &mut [FrameworkSection],
    frameworks: &[Framework],
    controls: &[ControlSection],
    context: &SummaryContext,
) {
    let SummaryContext { subjects, as_of, evidence_sha256, .. } = *context;
    let attribution = Attribution::new(subjects, controls);
    let active: Vec<&str> = subjects.repositories.iter().filter(|r| !r.archived).map(|r| r.repo.as_str()).collect();
    for (section, framework) in sections.iter_mut().zip(frameworks) {
        match framework.summary {
            SummaryKind::Plain => {}
            SummaryKind::Levels => {
                section.levels = Some(super::levels::summarise(framework, section, &attribution, &active));
            }
            SummaryKind::Sections => section.sections = super::sections::summarise(section, controls),
            SummaryKind::Indicators => {
                let (none, unattested) = (Vec::new(), BTreeMap::new());
                let cadence = super::indicators::Cadence {
                    validations: subjects.validations.get(&framework.id).unwrap_or(&none),
                    start: subjects.cadence_start,
                    end: as_of,
                    attested_at: context.attested_at.get(&framework.id).unwrap_or(&unattested),
                };
                section.indicators = super::indicators::summarise(section, controls, evidence_sha256, &cadence);
            }
            SummaryKind::Releases => {
                section.releases = Some(super::releases::summarise(section, &attribution, &subjects.releases));
            }
        }
    }
}

fn framework_section(
    framework: &Framework,
    controls: &[Control],
    control_status: &dyn Fn(&str) -> Status,
    param_value: rollup::ParamValue<'_>,
    attested: &BTreeMap<(String, String), String>,
) -> FrameworkSection {
    let rolled = rollup::framework(framework, controls, control_status, param_value, attested);
    let requirements: Vec<RequirementRow> = framework
        .requirements
        .iter()
        .zip(rolled.requirements)
        .map(|(requirement, verdict)| {
            let (status, label, attestation) = match verdict.standing {
                Standing::Decided(status) => (status.as_str().to_string(), status.label().to_string(), None),
                Standing::Attested(summary) => ("attested".to_string(), "Attested (manual)".to_string(), Some(summary)),
                Standing::Manual => ("manual".to_string(), "Manual evidence".to_string(), None),
            };
            RequirementRow {
                id: verdict.id,
                label: requirement.label.clone(),
                cicd: requirement.cicd.clone(),
                status,
                status_label: label,
                attestation,
                controls: verdict.controls,
                group: requirement.group.clone(),
                levels: requirement.levels.clone(),
                oscal_id: requirement.oscal_id.clone(),
                supported_by: requirement.supported_by.clone(),
                limits: verdict.limits,
            }
        })
        .collect();
    let counts = rolled.counts;
    let (manual, attested_count) = (rolled.manual, rolled.attested);
    let total = requirements.len();
    let bar = segments(&[
        ("pass", "Pass", counts.pass),
        ("fail", "Fail", counts.fail),
        ("unknown", "Unknown", counts.unknown + counts.not_applicable),
        ("waived", "Waived", counts.waived),
        ("attested", "Attested (manual)", attested_count),
        ("manual", "Manual evidence needed", manual - attested_count),
    ]);
    FrameworkSection {
        id: framework.id.clone(),
        name: framework.name.clone(),
        version: framework.version.clone(),
        source: framework.source.clone(),
        requirements_total: total,
        automated: total - manual,
        coverage_percent: rolled.coverage_percent,
        compliance_percent: rolled.compliance_percent,
        counts,
        manual,
        attested: attested_count,
        bar,
        requirements,
        summary: serde_json::to_value(framework.summary)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        levels: None,
        sections: Vec::new(),
        indicators: Vec::new(),
        releases: None,
    }
}

fn gaps(
    frameworks: &[FrameworkSection],
    controls: &[Control],
    outcomes: &BTreeMap<String, StoredOutcome>,
) -> Vec<FrameworkGaps> {
    let mut all = Vec::new();
    for framework in frameworks {
        let mut gaps = Vec::new();
        for requirement in &framework.requirements {
            let status = match requirement.status.as_str() {
                "fail" => Status::Fail,
                "unknown" => Status::Unknown,
                _ => continue,
            };
            let behind: Vec<&Control> = controls
                .iter()
                .filter(|c| {
                    requirement.controls.contains(&c.id) && outcomes.get(&c.id).map(|o| o.status) == Some(status)
                })
                .collect();
            let severity = behind.iter().map(|c| c.severity).min().unwrap_or(Severity::Low);
            let resources = behind
                .iter()
                .flat_map(|c| {
                    outcomes[&c.id].findings.iter().filter(|f| f.status == status.as_str()).map(|f| f.resource.clone())
                })
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            gaps.push((
                (status, severity.rank(), std::cmp::Reverse(resources), requirement.id.clone()),
                Gap {
                    requirement: requirement.id.clone(),
                    label: requirement.label.clone(),
                    status: status.as_str().to_string(),
                    status_label: status.label().to_string(),
                    severity: severity.as_str().to_string(),
                    resources,
                    actions: behind
                        .iter()
                        .map(|c| GapAction {
                            control: c.id.clone(),
                            title: c.title.clone(),
                            remediation: c.remediation.trim().to_string(),
                        })
                        .collect(),
                },
            ));
        }
        gaps.sort_by(|a, b| a.0.cmp(&b.0));
        if !gaps.is_empty() {
            all.push(FrameworkGaps {
                framework_id: framework.id.clone(),
                framework: framework.name.clone(),
                gaps: gaps.into_iter().map(|(_, gap)| gap).collect(),
            });
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::sample_model;

    #[test]
    fn requirements_roll_up_their_controls_and_coverage_is_separate_from_compliance() {
        let model = sample_model();
        let soc2 = model.frameworks.iter().find(|f| f.id == "soc2").unwrap();
        let cc81 = soc2.requirements.iter().find(|r| r.id == "CC8.1").unwrap();
        assert_eq!(cc81.status, "fail", "SRC-05 fails and maps to CC8.1");
        let pi13 = soc2.requirements.iter().find(|r| r.id == "PI1.3").unwrap();
        assert_eq!(pi13.status, "unknown", "only SRC-06 maps to PI1.3 and it is unknown");
        assert_eq!(soc2.requirements.iter().find(|r| r.id == "CC1.1").unwrap().status, "manual");
        assert_eq!(soc2.automated + soc2.manual, soc2.requirements_total);
        let decided = soc2.counts.pass + soc2.counts.fail;
        assert_eq!(
            soc2.coverage_percent as usize,
            (decided * 100 + soc2.requirements_total / 2) / soc2.requirements_total
        );
        assert_eq!(soc2.compliance_percent as usize, (soc2.counts.pass * 100 + decided / 2) / decided);
    }

    #[test]
    fn domains_keep_coverage_and_compliance_apart() {
        let model = sample_model();
        let catalogue = crate::controls::Catalogue::load(&[] as &[&std::path::Path]).unwrap();
        let total = catalogue.controls.iter().filter(|c| c.domain == crate::controls::Domain::Source).count();
        let source = model.domains.iter().find(|d| d.domain == "Source code").unwrap();
        assert_eq!(source.controls, total);
        assert_eq!(
            (source.counts.pass, source.counts.fail, source.counts.unknown),
            (total - 2, 1, 1),
            "SRC-05 fails, SRC-06 is unknown"
        );
        assert_eq!(source.coverage_percent, percent(total - 1, total));
        assert_eq!(source.compliance_percent, percent(total - 2, total - 1));
    }

    #[test]
    fn gaps_put_failures_before_unknowns() {
        let model = sample_model();
        let soc2 = model.gaps.iter().find(|g| g.framework_id == "soc2").unwrap();
        let first_unknown = soc2.gaps.iter().position(|g| g.status == "unknown").unwrap();
        assert!(soc2.gaps[..first_unknown].iter().all(|g| g.status == "fail"));
        assert!(soc2.gaps[first_unknown..].iter().all(|g| g.status == "unknown"));
    }

    #[test]
    fn the_model_is_the_json_report() {
        let json = sample_model().to_json().unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["organisation"], "Example <Org>");
        assert_eq!(value["as_of_iso"], "2026-09-30T23:59:59Z");
    }
}
