//! Maturity levels per repository (OSPS Baseline, the SLSA source track): a repository meets level N when every
//! requirement applying at N and below passes for it, does not apply to it, or is attested; the summary names what
//! stands between each repository and its next level. Requirements no control judges and nothing attests hold
//! every repository back, and are listed once.

use schemars::JsonSchema;
use serde::Serialize;

use super::attribution::Attribution;
use super::model::FrameworkSection;
use crate::controls::Framework;
use crate::evaluate::Status;

/// Levels per repository for one framework.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LevelSummary {
    /// The level names, lowest first.
    pub levels: Vec<String>,
    /// Per repository (archived ones left out), the level met and what blocks the next.
    pub repositories: Vec<RepositoryLevel>,
    /// Per level, the requirements it adds (those applying at no lower level) that no control judges and no valid
    /// attestation covers: a person must judge them.
    pub manual: Vec<ManualAtLevel>,
    /// Repositories per level met, lowest first (index 0: none met).
    pub distribution: Vec<LevelCount>,
}

/// How many repositories meet a level (and no higher).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LevelCount {
    /// The level's name (`None` for none met).
    pub level: String,
    /// Repositories at it.
    pub repositories: usize,
}

/// One repository's standing.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RepositoryLevel {
    /// `owner/name`.
    pub repository: String,
    /// The highest level met (0: none).
    pub level: u32,
    /// Its name, or `None`.
    pub level_name: String,
    /// The next level, if there is one.
    pub next_level: Option<String>,
    /// The requirements of the next level (and those below it) that controls judged and that do not hold for it.
    pub blockers: Vec<Blocker>,
    /// How many requirements up to the next level need a person's judgement (listed under `manual`).
    pub manual_blockers: usize,
}

/// A requirement holding a repository back.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Blocker {
    /// Requirement id.
    pub requirement: String,
    /// `fail`, `unknown` or `waived`.
    pub status: String,
    /// The status for people.
    pub status_label: String,
    /// The controls that decide it and their verdicts for this repository, e.g. `SRC-06 fail, SRC-11 pass`.
    pub controls: String,
}

/// The requirements of one level that only a person can judge.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ManualAtLevel {
    /// The level's name.
    pub level: String,
    /// Their ids.
    pub requirements: Vec<String>,
}

/// The level summary of `framework` (whose roll-up is `section`), per repository.
pub fn summarise(
    framework: &Framework,
    section: &FrameworkSection,
    attribution: &Attribution,
    repositories: &[&str],
) -> LevelSummary {
    let name = |level: u32| {
        framework.levels.iter().find(|l| l.id == level).map(|l| l.name.clone()).unwrap_or_else(|| "None".into())
    };
    let mut ordered: Vec<u32> = framework.levels.iter().map(|level| level.id).collect();
    ordered.sort_unstable();
    let applies = |row: &super::model::RequirementRow, level: u32| row.levels.contains(&level);
    let unjudged = |row: &super::model::RequirementRow| row.status == "manual";
    let manual: Vec<ManualAtLevel> = ordered
        .iter()
        .map(|&level| ManualAtLevel {
            level: name(level),
            requirements: section
                .requirements
                .iter()
                .filter(|row| row.levels.iter().min() == Some(&level) && unjudged(row))
                .map(|row| row.id.clone())
                .collect(),
        })
        .collect();
    let mut distribution: Vec<LevelCount> = std::iter::once(0)
        .chain(ordered.iter().copied())
        .map(|level| LevelCount { level: name(level), repositories: 0 })
        .collect();
    let repositories: Vec<RepositoryLevel> = repositories
        .iter()
        .map(|&repo| {
            let verdict = |row: &super::model::RequirementRow| -> (Status, String) {
                if !row.limits.is_empty() {
                    return (Status::Unknown, row.limits.join("; "));
                }
                let statuses: Vec<(String, Status)> = row
                    .controls
                    .iter()
                    .map(|control| (control.clone(), attribution.status(control, repo, None)))
                    .collect();
                let detail = statuses.iter().map(|(c, s)| format!("{c} {}", s.as_str())).collect::<Vec<_>>().join(", ");
                (Status::roll_up(statuses.iter().map(|(_, s)| *s)), detail)
            };
            let holds = |row: &super::model::RequirementRow| match row.status.as_str() {
                "attested" => true,
                "manual" => false,
                _ => matches!(verdict(row).0, Status::Pass | Status::NotApplicable),
            };
            let mut met = 0;
            for &level in &ordered {
                if section.requirements.iter().filter(|row| applies(row, level)).all(holds) {
                    met = level;
                } else {
                    break;
                }
            }
            let next = ordered.iter().copied().find(|&level| level > met);
            let pending: Vec<&super::model::RequirementRow> = match next {
                Some(next) => section
                    .requirements
                    .iter()
                    .filter(|row| row.levels.iter().any(|&level| level <= next) && !holds(row))
                    .collect(),
                None => Vec::new(),
            };
            if let Some(slot) = distribution.iter_mut().find(|count| count.level == name(met)) {
                slot.repositories += 1;
            }
            RepositoryLevel {
                repository: repo.to_string(),
                level: met,
                level_name: name(met),
                next_level: next.map(name),
                manual_blockers: pending.iter().filter(|row| unjudged(row)).count(),
                blockers: pending
                    .iter()
                    .filter(|row| !unjudged(row))
                    .map(|row| {
                        let (status, controls) = verdict(row);
                        Blocker {
                            requirement: row.id.clone(),
                            status: status.as_str().into(),
                            status_label: status.label().into(),
                            controls,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    LevelSummary { levels: ordered.iter().map(|&level| name(level)).collect(), repositories, manual, distribution }
}
