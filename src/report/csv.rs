//! CSV: every finding and every requirement, one row each, for auditors' spreadsheets and sampling.

use anyhow::Result;

use super::ReportModel;

/// Writes one row with every cell neutralised against spreadsheet formula injection.
fn write_row<const N: usize>(writer: &mut csv::Writer<Vec<u8>>, cells: [&str; N]) -> Result<()> {
    writer.write_record(cells.map(|cell| neutralised(cell).into_owned()))?;
    Ok(())
}

/// A cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return, as
/// OWASP lists) gets a leading `'`, so it shows as the text it is; other cells are unchanged.
fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// `findings.csv`: one row per control and resource.
pub fn findings(model: &ReportModel) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    write_row(
        &mut writer,
        [
            "evaluation",
            "control",
            "title",
            "severity",
            "resource",
            "status",
            "underlying_status",
            "reason",
            "waiver",
            "period",
            "evidence_id",
            "evidence_incomplete",
        ],
    )?;
    for control in &model.controls {
        for finding in &control.findings {
            write_row(
                &mut writer,
                [
                    model.evaluation_id.to_string().as_str(),
                    &control.id,
                    &control.title,
                    &control.severity,
                    &finding.resource,
                    &finding.status,
                    finding.underlying_status.as_deref().unwrap_or(""),
                    &finding.reason,
                    finding.waiver.as_deref().unwrap_or(""),
                    finding.throughout.as_deref().unwrap_or(""),
                    &finding.evidence_id.map(|id| format!("E{id}")).unwrap_or_default(),
                    if finding.incomplete_evidence { "yes" } else { "no" },
                ],
            )?;
        }
    }
    Ok(writer.into_inner()?)
}

/// `populations/<CONTROL>.csv` (named by the report's population rows): every resource (state controls) or event (operation controls) the control judged,
/// with the evidence behind it, for an auditor to sample from.
pub fn population(
    model: &ReportModel,
    control: &super::model::ControlSection,
    evidence_by_id: &std::collections::BTreeMap<i64, &super::model::EvidenceRow>,
) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    write_row(
        &mut writer,
        [
            "evaluation",
            "control",
            "kind",
            "resource",
            "status",
            "reason",
            "evidence_id",
            "evidence_sha256",
            "evidence_file",
        ],
    )?;
    for finding in &control.findings {
        let evidence = finding.evidence_id.and_then(|id| evidence_by_id.get(&id));
        write_row(
            &mut writer,
            [
                model.evaluation_id.to_string().as_str(),
                &control.id,
                &control.kind,
                &finding.resource,
                &finding.status,
                &finding.reason,
                &finding.evidence_id.map(|id| format!("E{id}")).unwrap_or_default(),
                evidence.map(|e| e.sha256.as_str()).unwrap_or(""),
                evidence.map(|e| e.file.as_str()).unwrap_or(""),
            ],
        )?;
    }
    Ok(writer.into_inner()?)
}

/// `requirements.csv`: one row per framework requirement.
pub fn requirements(model: &ReportModel) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    write_row(
        &mut writer,
        ["framework", "requirement", "label", "cicd_relevance", "status", "controls", "attestation"],
    )?;
    for framework in &model.frameworks {
        for requirement in &framework.requirements {
            write_row(
                &mut writer,
                [
                    framework.name.as_str(),
                    &requirement.id,
                    &requirement.label,
                    &requirement.cicd,
                    &requirement.status,
                    &requirement.controls.join(" "),
                    requirement.attestation.as_deref().unwrap_or(""),
                ],
            )?;
        }
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finding_and_requirement_is_a_row() {
        let model = crate::report::model::sample_model();
        let findings = String::from_utf8(findings(&model).unwrap()).unwrap();
        let rows = model.controls.iter().map(|c| c.findings.len()).sum::<usize>();
        assert_eq!(findings.lines().count(), rows + 1);
        assert!(findings.starts_with("evaluation,control,title,severity,resource,status"));
        let requirements = String::from_utf8(requirements(&model).unwrap()).unwrap();
        let total = model.frameworks.iter().map(|f| f.requirements.len()).sum::<usize>();
        let mut reader = csv::Reader::from_reader(requirements.as_bytes());
        assert_eq!(reader.records().count(), total);
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        let mut model = crate::report::model::sample_model();
        let finding = &mut model.controls[0].findings[0];
        finding.resource = "=HYPERLINK(\"https://evil.example\",\"click\")".into();
        finding.reason = "@SUM(1+1)".into();
        let text = String::from_utf8(findings(&model).unwrap()).unwrap();
        let row = csv::Reader::from_reader(text.as_bytes()).records().next().unwrap().unwrap();
        assert_eq!(&row[4], "'=HYPERLINK(\"https://evil.example\",\"click\")");
        assert_eq!(&row[7], "'@SUM(1+1)");
        for (cell, shown) in [("-1", "'-1"), ("+x", "'+x"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), ("", "")]
        {
            assert_eq!(neutralised(cell), shown);
        }
    }
}
