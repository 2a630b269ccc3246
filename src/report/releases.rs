//! A framework summarised per release (the EU Cyber Resilience Act): for each release published in the period,
//! the verdict of every requirement controls decide, from the findings about that release, its repository and
//! its organisation (an SBOM shipped, its assets signed, vulnerabilities handled, a disclosure contact).

use schemars::JsonSchema;
use serde::Serialize;

use super::attribution::Attribution;
use super::model::FrameworkSection;
use crate::evaluate::subjects::ReleaseRef;
use crate::evaluate::Status;

/// The per-release table of a framework.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReleaseSummary {
    /// The requirements controls decide: the table's columns.
    pub columns: Vec<ReleaseColumn>,
    /// One row per release, in repository and publication order.
    pub releases: Vec<ReleaseRow>,
}

/// A column of the release table.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReleaseColumn {
    /// Requirement id.
    pub requirement: String,
    /// Its label.
    pub label: String,
    /// The controls deciding it.
    pub controls: Vec<String>,
}

/// One release.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReleaseRow {
    /// `owner/name tag`.
    pub release: String,
    /// When it was published (UTC).
    pub published: String,
    /// Its verdict per column, in column order.
    pub cells: Vec<ReleaseCell>,
    /// The worst of them.
    pub status: String,
}

/// A release's verdict for one requirement.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReleaseCell {
    /// Requirement id.
    pub requirement: String,
    /// The verdict.
    pub status: String,
    /// The verdict for people.
    pub status_label: String,
}

/// The release table of a framework.
pub fn summarise(section: &FrameworkSection, attribution: &Attribution, releases: &[ReleaseRef]) -> ReleaseSummary {
    let decided: Vec<&super::model::RequirementRow> =
        section.requirements.iter().filter(|row| !row.controls.is_empty()).collect();
    let rows = releases
        .iter()
        .map(|release| {
            let cells: Vec<ReleaseCell> = decided
                .iter()
                .map(|row| {
                    let status = if row.limits.is_empty() {
                        Status::roll_up(
                            row.controls.iter().map(|c| attribution.status(c, &release.repo, Some(&release.tag))),
                        )
                    } else {
                        Status::Unknown
                    };
                    ReleaseCell {
                        requirement: row.id.clone(),
                        status: status.as_str().into(),
                        status_label: status.label().into(),
                    }
                })
                .collect();
            let worst = Status::roll_up(cells.iter().filter_map(|cell| Status::parse(&cell.status)));
            ReleaseRow {
                release: release.resource(),
                published: crate::time::display_utc(&release.published_at),
                status: worst.as_str().into(),
                cells,
            }
        })
        .collect();
    ReleaseSummary {
        columns: decided
            .iter()
            .map(|row| ReleaseColumn {
                requirement: row.id.clone(),
                label: row.label.clone(),
                controls: row.controls.clone(),
            })
            .collect(),
        releases: rows,
    }
}
