//! Turns a GitLab snapshot into evidence and facts: the group as an `org_settings` row (organisation
//! `gitlab:<group path>`), its projects as `repositories` rows (`gitlab:<project path>`), each default branch's
//! protection as `branch_rules` rows, and an `api_coverage` row per answer, all in the caller's transaction.

use anyhow::Result;
use duckdb::types::{TimeUnit, Value as Cell};
use duckdb::{params, Appender, Connection};
use serde_json::Value;

use super::fetch::{GitlabSnapshot, ProjectAnswers};
use super::protection::{self, Rule};
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{listing_complete, ApiResponse};
use crate::store::{add_evidence_batch, NewEvidence};

/// The prefix of every GitLab organisation and repository name in the store.
pub const PREFIX: &str = "gitlab:";

/// Counts of what a GitLab collection stored.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GitlabSummary {
    /// Evidence items (API answers) stored.
    pub evidence: usize,
    /// Projects in scope.
    pub repositories: usize,
    /// Listed projects the config's scope left out.
    pub out_of_scope: usize,
    /// Default branches whose protection could be read whole.
    pub branches_visible: usize,
    /// Default branches some of whose protection the token could not read.
    pub branches_not_visible: usize,
    /// Answers the token could not see.
    pub not_visible: usize,
    /// Features the group's tier does not have.
    pub feature_off: usize,
    /// Answers that could not be read completely.
    pub incomplete: usize,
    /// Answers that were `304 Not Modified` and reused stored evidence.
    pub not_modified: usize,
    /// The group's tier, as far as it is known.
    pub tier: String,
    /// Merge requests merged into default branches in the windows read.
    pub merge_requests: usize,
    /// Deployments updated in the windows read.
    pub deployments: usize,
    /// Audit events new to the store.
    pub audit_events: usize,
}

impl GitlabSummary {
    /// Counts a judged answer.
    pub fn count(&mut self, seen: &Seen) {
        match seen {
            Seen::NotVisible(_) => self.not_visible += 1,
            Seen::FeatureOff(_) => self.feature_off += 1,
            Seen::Incomplete(_) => self.incomplete += 1,
            Seen::Visible | Seen::Absent => {}
        }
    }

    /// One paragraph saying what a collection of `group` stored and what it could not see.
    pub fn describe(&self, group: &str) -> String {
        format!(
            "group {group} ({}): {} projects in scope ({} left out), {} evidence items ({} unchanged since the last \
             run); default-branch protection visible on {}, not wholly visible on {}; {} answers not visible to the \
             token, {} features the tier lacks, {} not read completely; since the last run: {} merged merge requests, {} deployments, {} audit events",
            self.tier,
            self.repositories,
            self.out_of_scope,
            self.evidence,
            self.not_modified,
            self.branches_visible,
            self.branches_not_visible,
            self.not_visible,
            self.feature_off,
            self.incomplete,
            self.merge_requests,
            self.deployments,
            self.audit_events
        )
    }
}

/// The evidence of one GitLab answer.
pub fn evidence<'a>(
    kind: &'a str,
    subject: &'a str,
    response: &'a ApiResponse,
    complete: Option<bool>,
) -> NewEvidence<'a> {
    response.evidence("gitlab", kind, subject, complete)
}

/// The evidence of every page of a listing, each saying whether the listing was read to its end.
pub fn listing_evidence<'a>(kind: &'a str, subject: &'a str, pages: &'a [ApiResponse]) -> Vec<NewEvidence<'a>> {
    let complete = listing_complete(pages);
    pages.iter().map(|page| evidence(kind, subject, page, complete)).collect()
}

/// One project's answers, each with its evidence kind.
fn project_answers(project: &ProjectAnswers) -> Vec<(&'static str, &[ApiResponse])> {
    let mut answers = vec![("gitlab.protected_branches", project.protected_branches.as_slice())];
    for (kind, pages) in [
        ("gitlab.approvals", &project.approvals),
        ("gitlab.approval_rules", &project.approval_rules),
        ("gitlab.push_rule", &project.push_rule),
    ] {
        if let Some(pages) = pages {
            answers.push((kind, pages.as_slice()));
        }
    }
    answers.push(("gitlab.deploy_keys", project.deploy_keys.as_slice()));
    answers.push(("gitlab.webhooks", project.webhooks.as_slice()));
    answers.retain(|(_, pages)| !pages.is_empty());
    answers
}

/// Stores the snapshot: evidence, facts and coverage.
pub fn store_snapshot(conn: &Connection, run_id: i64, snapshot: &GitlabSnapshot) -> Result<GitlabSummary> {
    let org = format!("{PREFIX}{}", snapshot.group_path);
    let repos: Vec<String> = snapshot.projects.iter().map(|p| format!("{PREFIX}{}", p.path)).collect();
    let last_page = snapshot.project_pages.len();
    let mut items: Vec<NewEvidence> = snapshot.groups.iter().map(|g| evidence("gitlab.group", &org, g, None)).collect();
    items.push(evidence("gitlab.metadata", &org, &snapshot.metadata, None));
    items.push(evidence("gitlab.namespace", &org, &snapshot.namespace, None));
    items.extend(listing_evidence("gitlab.projects", &org, &snapshot.project_pages));
    let group_hooks = snapshot.group_hooks.as_deref().unwrap_or_default();
    items.extend(listing_evidence("gitlab.group_webhooks", &org, group_hooks));
    let last_member_page = snapshot.members.len();
    items.extend(listing_evidence("gitlab.members", &org, &snapshot.members));
    for (project, repo) in snapshot.projects.iter().zip(&repos) {
        for (kind, pages) in project_answers(project) {
            items.extend(listing_evidence(kind, repo, pages));
        }
    }
    let ids = add_evidence_batch(conn, run_id, &items)?;
    let mut summary = GitlabSummary {
        evidence: ids.len(),
        repositories: snapshot.projects.len(),
        out_of_scope: snapshot.out_of_scope,
        tier: snapshot.tier.describe(),
        ..GitlabSummary::default()
    };
    let groups = snapshot.groups.len();
    insert_group(conn, run_id, ids[0], &org, snapshot)?;
    let page_ids = &ids[groups + 2..groups + 2 + last_page];
    let hook_ids = &ids[groups + 2 + last_page..groups + 2 + last_page + group_hooks.len()];
    let members_from = groups + 2 + last_page + group_hooks.len();
    let member_ids = &ids[members_from..members_from + last_member_page];
    let mut next_id = ids[members_from + last_member_page..].iter().copied();

    let mut repositories = conn.appender("repositories_history")?;
    let mut rules = conn.appender("branch_rules_history")?;
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut keys = conn.appender("deploy_keys_history")?;
    let mut hooks = conn.appender("webhooks_history")?;
    let head = |evidence_id: i64, observed_at: chrono::NaiveDateTime| {
        vec![
            Cell::BigInt(run_id),
            Cell::BigInt(evidence_id),
            Cell::Timestamp(TimeUnit::Microsecond, observed_at.and_utc().timestamp_micros()),
            Cell::Text(org.clone()),
        ]
    };
    if let Some(first) = group_hooks.first() {
        let seen = judge("gitlab.group_webhooks", "Owner", Some("group webhooks"), &snapshot.tier, group_hooks);
        let row = Coverage {
            org: &org,
            subject: &org,
            kind: "gitlab.group_webhooks",
            table: "webhooks",
            part: "",
            evidence_id: hook_ids.first().copied(),
            observed_at: first.received_at,
            complete: seen == Seen::Visible,
        };
        row.append(&mut coverage, run_id, &seen)?;
        summary.count(&seen);
        for (page, id) in group_hooks.iter().zip(hook_ids).filter(|_| seen == Seen::Visible) {
            for item in items_of(std::slice::from_ref(page), &seen)?.unwrap_or_default() {
                let mut row = head(*id, page.received_at);
                row.extend(super::integration_rows::webhook(None, &item));
                hooks.append_row(duckdb::appender_params_from_iter(row))?;
            }
        }
    }
    store_members(conn, run_id, &org, snapshot, member_ids, &mut coverage, &mut summary)?;
    let registries: Vec<_> = snapshot
        .projects
        .iter()
        .zip(&repos)
        .map(|(project, repo)| {
            (repo.clone(), &project.item, &snapshot.project_pages[project.page], page_ids[project.page])
        })
        .collect();
    super::registry::store(conn, run_id, &org, &registries, &mut coverage)?;
    if let Some(root) = snapshot.groups.last() {
        super::identity::store(conn, run_id, &org, &snapshot.tier, root, ids[groups - 1], &mut coverage)?;
    }
    for (project, repo) in snapshot.projects.iter().zip(&repos) {
        let listing = &snapshot.project_pages[project.page];
        let listing_id = page_ids[project.page];
        append_repository(&mut repositories, run_id, listing_id, listing, &org, repo, &project.item)?;
        let answers = project_answers(project);
        let mut evidence_ids = Vec::new();
        for (_, pages) in &answers {
            let first: Vec<i64> = next_id.by_ref().take(pages.len()).collect();
            evidence_ids.push(first[0]);
        }
        // Deploy keys and webhooks (every tier).
        for (kind, table) in [("gitlab.deploy_keys", "deploy_keys"), ("gitlab.webhooks", "webhooks")] {
            let Some(index) = answers.iter().position(|(k, _)| *k == kind) else { continue };
            let pages = answers[index].1;
            let seen = judge(kind, "Maintainer", None, &snapshot.tier, pages);
            let row = Coverage {
                org: &org,
                subject: repo,
                kind,
                table,
                part: "",
                evidence_id: Some(evidence_ids[index]),
                observed_at: pages[0].received_at,
                complete: seen == Seen::Visible,
            };
            row.append(&mut coverage, run_id, &seen)?;
            summary.count(&seen);
            for item in items_of(pages, &seen)?.unwrap_or_default() {
                let mut row = head(evidence_ids[index], pages[0].received_at);
                if table == "deploy_keys" {
                    row.extend(super::integration_rows::deploy_key(repo, &item));
                    keys.append_row(duckdb::appender_params_from_iter(row))?;
                } else {
                    row.extend(super::integration_rows::webhook(Some(repo), &item));
                    hooks.append_row(duckdb::appender_params_from_iter(row))?;
                }
            }
        }
        let Some(branch) = &project.default_branch else { continue };
        if project.protected_branches.is_empty() {
            continue; // archived: not asked
        }
        let mut seen_all = true;
        let mut rows: Vec<(i64, chrono::NaiveDateTime, Rule)> = Vec::new();
        let read = |kind: &str| answers.iter().position(|(k, _)| *k == kind);
        let record =
            |kind: &'static str, evidence_id: Option<i64>, observed_at, seen: &Seen, coverage: &mut Appender| {
                Coverage {
                    org: &org,
                    subject: repo,
                    kind,
                    table: "branch_rules",
                    part: "",
                    evidence_id,
                    observed_at,
                    complete: matches!(seen, Seen::Visible),
                }
                .append(coverage, run_id, seen)
            };
        // Protected branches (every tier).
        let index = read("gitlab.protected_branches").expect("asked for every unarchived project with a branch");
        let pages = answers[index].1;
        let seen = judge("gitlab.protected_branches", "Maintainer", None, &snapshot.tier, pages);
        let observed_at = pages[0].received_at;
        record("gitlab.protected_branches", Some(evidence_ids[index]), observed_at, &seen, &mut coverage)?;
        let protected_items = items_of(pages, &seen)?;
        rows.push((
            evidence_ids[index],
            observed_at,
            match &protected_items {
                Some(items) => protection::protected_branches(branch, items),
                None => Rule::unseen("gitlab.protected_branches", reason_of(&seen)),
            },
        ));
        // Merge checks, from the listing.
        let settings = protection::merge_settings(&project.item);
        let settings_seen = if settings.visible {
            Seen::Visible
        } else {
            Seen::NotVisible(settings.not_visible_reason.clone().unwrap_or_default())
        };
        record("gitlab.merge_settings", Some(listing_id), listing.received_at, &settings_seen, &mut coverage)?;
        rows.push((listing_id, listing.received_at, settings));
        // Approvals and push rules (Premium).
        match (read("gitlab.approvals"), read("gitlab.approval_rules")) {
            (Some(settings_at), Some(rules_at)) => {
                let settings_seen = judge(
                    "gitlab.approvals",
                    "Maintainer",
                    Some("approval rules"),
                    &snapshot.tier,
                    answers[settings_at].1,
                );
                let rules_seen = judge(
                    "gitlab.approval_rules",
                    "Maintainer",
                    Some("approval rules"),
                    &snapshot.tier,
                    answers[rules_at].1,
                );
                let observed_at = answers[settings_at].1[0].received_at;
                record(
                    "gitlab.approvals",
                    Some(evidence_ids[settings_at]),
                    observed_at,
                    &settings_seen,
                    &mut coverage,
                )?;
                record("gitlab.approval_rules", Some(evidence_ids[rules_at]), observed_at, &rules_seen, &mut coverage)?;
                let rule = match (&settings_seen, &rules_seen) {
                    (Seen::Visible, Seen::Visible) => {
                        let settings = answers[settings_at].1[0].json()?;
                        let approval_rules = items_of(answers[rules_at].1, &rules_seen)?.unwrap_or_default();
                        let protected = protected_items.as_deref().unwrap_or(&[]);
                        Some(protection::approvals(branch, protected, &settings, &approval_rules))
                    }
                    (Seen::FeatureOff(_), _) | (_, Seen::FeatureOff(_)) => None,
                    (Seen::Visible, unseen) | (unseen, _) => Some(Rule::unseen("gitlab.approvals", reason_of(unseen))),
                };
                summary.count(&settings_seen);
                summary.count(&rules_seen);
                if let Some(rule) = rule {
                    rows.push((evidence_ids[settings_at], observed_at, rule));
                }
            }
            _ => {
                let off = lacking(&snapshot.tier, "approval rules");
                record("gitlab.approvals", None, listing.received_at, &off, &mut coverage)?;
                summary.feature_off += 1;
            }
        }
        match read("gitlab.push_rule") {
            Some(at) => {
                let pages = answers[at].1;
                let seen = judge("gitlab.push_rule", "Maintainer", Some("push rules"), &snapshot.tier, pages);
                record("gitlab.push_rule", Some(evidence_ids[at]), pages[0].received_at, &seen, &mut coverage)?;
                match &seen {
                    Seen::Visible => {
                        rows.push((evidence_ids[at], pages[0].received_at, protection::push_rule(&pages[0].json()?)))
                    }
                    Seen::FeatureOff(_) => {}
                    other => rows.push((
                        evidence_ids[at],
                        pages[0].received_at,
                        Rule::unseen("gitlab.push_rule", reason_of(other)),
                    )),
                }
                summary.count(&seen);
            }
            None => {
                let off = lacking(&snapshot.tier, "push rules");
                record("gitlab.push_rule", None, listing.received_at, &off, &mut coverage)?;
                summary.feature_off += 1;
            }
        }
        for (evidence_id, observed_at, rule) in &rows {
            seen_all &= rule.visible;
            let mut row = vec![
                Cell::BigInt(run_id),
                Cell::BigInt(*evidence_id),
                Cell::Timestamp(TimeUnit::Microsecond, observed_at.and_utc().timestamp_micros()),
                Cell::Text(org.clone()),
                Cell::Text(repo.clone()),
                Cell::Text(branch.clone()),
            ];
            row.extend(rule.cells());
            rules.append_row(duckdb::appender_params_from_iter(row))?;
        }
        summary.count(&seen);
        if seen_all {
            summary.branches_visible += 1;
        } else {
            summary.branches_not_visible += 1;
        }
    }
    repositories.flush()?;
    rules.flush()?;
    coverage.flush()?;
    keys.flush()?;
    hooks.flush()?;
    Ok(summary)
}

/// The group's members as `org_people` rows, with a coverage row per part (`member`, `owner`,
/// `member_2fa_disabled`).
fn store_members(
    conn: &Connection,
    run_id: i64,
    org: &str,
    snapshot: &GitlabSnapshot,
    member_ids: &[i64],
    coverage: &mut Appender<'_>,
    summary: &mut GitlabSummary,
) -> Result<()> {
    let Some(first) = snapshot.members.first() else { return Ok(()) };
    let seen = judge("gitlab.members", "Guest", None, &snapshot.tier, &snapshot.members);
    summary.count(&seen);
    let items = super::people_rows::highest_per_user(items_of(&snapshot.members, &seen)?.unwrap_or_default());
    let two_factor = if seen != Seen::Visible {
        seen.clone()
    } else if super::people_rows::two_factor_shown(&items) {
        Seen::Visible
    } else {
        Seen::NotVisible(
            "GitLab did not say which members use two-factor authentication: it shows that to the group's owners \
             (GitLab 18 and later) and to administrators; the group's own requirement decides"
                .to_string(),
        )
    };
    // One kind per part: the `api_coverage` view keeps one row per kind and subject, and a hidden 2FA column must
    // not hide the owners the listing showed.
    let parts = [
        ("gitlab.members", "member", &seen),
        ("gitlab.owners", "owner", &seen),
        ("gitlab.members_2fa", "member_2fa_disabled", &two_factor),
    ];
    for (kind, part, seen) in parts {
        let row = Coverage {
            org,
            subject: org,
            kind,
            table: "org_people",
            part,
            evidence_id: member_ids.first().copied(),
            observed_at: first.received_at,
            complete: *seen == Seen::Visible,
        };
        row.append(coverage, run_id, seen)?;
    }
    let mut people = conn.appender("org_people_history")?;
    let evidence_id = member_ids.first().copied().unwrap_or_default();
    for item in &items {
        for cells in super::people_rows::rows(item) {
            if two_factor != Seen::Visible
                && matches!(&cells[1], Cell::Text(relation) if relation == "member_2fa_disabled")
            {
                continue;
            }
            let mut row = vec![
                Cell::BigInt(run_id),
                Cell::BigInt(evidence_id),
                Cell::Timestamp(TimeUnit::Microsecond, first.received_at.and_utc().timestamp_micros()),
                Cell::Text(org.to_string()),
            ];
            row.extend(cells);
            people.append_row(duckdb::appender_params_from_iter(row))?;
        }
    }
    people.flush()?;
    Ok(())
}

/// A feature the tier lacks, not asked for.
fn lacking(tier: &Tier, feature: &str) -> Seen {
    Seen::FeatureOff(format!("{} has no {feature}: not asked", tier.describe()))
}

fn reason_of(seen: &Seen) -> &str {
    seen.state().1.unwrap_or("not read")
}

/// The items of every page of a visible listing.
fn items_of(pages: &[ApiResponse], seen: &Seen) -> Result<Option<Vec<Value>>> {
    if !matches!(seen, Seen::Visible) {
        return Ok(None);
    }
    let mut items = Vec::new();
    for page in pages {
        match page.json()? {
            Value::Array(list) => items.extend(list),
            _ => return Err(anyhow::anyhow!("{}: expected a JSON array", page.url)),
        }
    }
    Ok(Some(items))
}

/// The group as an `org_settings` row: the two-factor requirement is the group's own or any ancestor's (GitLab
/// applies the strictest); unknown when it says no and an ancestor could not be read.
fn insert_group(conn: &Connection, run_id: i64, evidence_id: i64, org: &str, snapshot: &GitlabSnapshot) -> Result<()> {
    let mut required = false;
    let mut unread = Vec::new();
    for (index, answer) in snapshot.groups.iter().enumerate() {
        let flag = (answer.status == 200)
            .then(|| answer.json().ok())
            .flatten()
            .and_then(|group| group.get("require_two_factor_authentication").and_then(Value::as_bool));
        match flag {
            Some(flag) => required |= flag,
            None if index == 0 => unread.push("the group did not show require_two_factor_authentication".to_string()),
            None => unread.push(format!("its ancestor {} could not be read (HTTP {})", answer.url, answer.status)),
        }
    }
    let (two_factor, reason) = if required {
        (Some(true), None)
    } else if unread.is_empty() {
        (Some(false), None)
    } else {
        (None, Some(format!("Whether two-factor authentication is required is not known: {}", unread.join("; "))))
    };
    // Who may create projects in the group: Developers means every member who can push (GitLab has no base
    // permission; each member's role decides the rest).
    let creation = (snapshot.groups[0].status == 200)
        .then(|| snapshot.groups[0].json().ok())
        .flatten()
        .and_then(|group| group.get("project_creation_level").and_then(Value::as_str).map(str::to_string));
    let members_create = creation.map(|level| level == "developer");
    conn.prepare_cached("INSERT INTO org_settings_history VALUES (?, ?, ?, ?, true, ?, ?, NULL, ?, NULL, NULL, NULL)")?
        .execute(params![
            run_id,
            evidence_id,
            snapshot.groups[0].received_at,
            org,
            reason,
            two_factor,
            members_create
        ])?;
    Ok(())
}

fn append_repository(
    appender: &mut Appender<'_>,
    run_id: i64,
    evidence_id: i64,
    listing: &ApiResponse,
    org: &str,
    repo: &str,
    item: &Value,
) -> Result<()> {
    let text = |key: &str| item.get(key).and_then(Value::as_str).filter(|t| !t.is_empty());
    appender.append_row(params![
        run_id,
        evidence_id,
        listing.received_at,
        org,
        repo,
        text("visibility"),
        item.get("archived").and_then(Value::as_bool),
        Some(item.get("forked_from_project").is_some_and(Value::is_object)),
        text("default_branch"),
        // GitLab's last_activity_at counts comments and issues too: it is no push time (`activity.rs` writes the
        // newest push event's time here later in the run).
        None::<chrono::NaiveDateTime>,
        Some(false),
        None::<String>,
        None::<String>,
        push_protection(item),
        None::<String>,
        None::<bool>,
    ])?;
    Ok(())
}

/// Whether GitLab's secret push protection (Ultimate) is on for a project, as `enabled`/`disabled`, from its listing
/// item (`secret_push_protection_enabled`, before GitLab 17.7 `pre_receive_secret_detection_enabled`); `None` when the
/// item does not say.
fn push_protection(item: &Value) -> Option<&'static str> {
    ["secret_push_protection_enabled", "pre_receive_secret_detection_enabled"]
        .iter()
        .find_map(|key| item.get(*key).and_then(Value::as_bool))
        .map(|on| if on { "enabled" } else { "disabled" })
}
