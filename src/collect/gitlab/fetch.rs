//! Reads one GitLab group's evidence from the REST API: the group and its ancestors, the instance's edition and the
//! group's plan, every project under it (subgroups included, shared projects not), and for each in-scope project
//! with a default branch its protected branches and, where the tier has them, its approval settings, approval rules
//! and push rule. Every answer is scrubbed of secrets before it is kept.

use anyhow::{anyhow, Result};
use futures_util::StreamExt;
use serde_json::Value;

use super::tier::Tier;
use super::GitlabConfig;
use crate::collect::http::{ApiClient, ApiResponse, UNANSWERED};

/// Everything read from GitLab in one collection, kept as (scrubbed) responses.
pub struct GitlabSnapshot {
    /// The group's full path, as GitLab spells it.
    pub group_path: String,
    /// `GET /groups/:path` for the group, then for each ancestor (nearest first).
    pub groups: Vec<ApiResponse>,
    /// `GET /metadata`: the instance's version and edition.
    pub metadata: ApiResponse,
    /// `GET /namespaces/:root`: the top-level namespace and its plan.
    pub namespace: ApiResponse,
    /// What the two say of the tier.
    pub tier: Tier,
    /// `GET /groups/:id/projects?include_subgroups=true&with_shared=false`, every page.
    pub project_pages: Vec<ApiResponse>,
    /// `GET /groups/:id/members/all`, every page.
    pub members: Vec<ApiResponse>,
    /// `GET /groups/:id/hooks`, every page; `None` where the tier has no group webhooks (not asked).
    pub group_hooks: Option<Vec<ApiResponse>>,
    /// The in-scope projects, in listing order, with what was read of each.
    pub projects: Vec<ProjectAnswers>,
    /// How many listed projects the config's scope left out.
    pub out_of_scope: usize,
}

/// One in-scope project: its listing item and the answers about its default branch.
pub struct ProjectAnswers {
    /// The full path (`group/sub/project`).
    pub path: String,
    /// Its item in the project listing.
    pub item: Value,
    /// Which listing page (0-based) it is on.
    pub page: usize,
    /// The default branch; `None` for an empty repository (nothing more is asked).
    pub default_branch: Option<String>,
    /// `GET /projects/:id/protected_branches`, every page.
    pub protected_branches: Vec<ApiResponse>,
    /// `GET /projects/:id/approvals`; `None` when the tier has no approval rules (not asked).
    pub approvals: Option<Vec<ApiResponse>>,
    /// `GET /projects/:id/approval_rules`, every page; `None` likewise.
    pub approval_rules: Option<Vec<ApiResponse>>,
    /// `GET /projects/:id/push_rule`; `None` likewise.
    pub push_rule: Option<Vec<ApiResponse>>,
    /// `GET /projects/:id/deploy_keys`, every page.
    pub deploy_keys: Vec<ApiResponse>,
    /// `GET /projects/:id/hooks`, every page.
    pub webhooks: Vec<ApiResponse>,
}

impl GitlabSnapshot {
    /// Every response in the snapshot.
    pub fn responses(&self) -> Vec<&ApiResponse> {
        let per_project = self.projects.iter().flat_map(|p| {
            p.protected_branches
                .iter()
                .chain(p.approvals.iter().flatten())
                .chain(p.approval_rules.iter().flatten())
                .chain(p.push_rule.iter().flatten())
                .chain(&p.deploy_keys)
                .chain(&p.webhooks)
        });
        self.groups
            .iter()
            .chain([&self.metadata, &self.namespace])
            .chain(&self.project_pages)
            .chain(&self.members)
            .chain(self.group_hooks.iter().flatten())
            .chain(per_project)
            .collect()
    }
}

/// A path or name as one URL path segment (`acme/platform` → `acme%2Fplatform`).
pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// What is asked of a project with a default branch, in this order: (evidence kind, the Premium feature it needs
/// or `None` on every tier, path). The collector and `doctor` ask alike.
pub fn project_requests(id: i64, per_page: u32) -> [(&'static str, Option<&'static str>, String); 6] {
    [
        ("gitlab.protected_branches", None, format!("/projects/{id}/protected_branches?per_page={per_page}")),
        ("gitlab.approvals", Some("approval rules"), format!("/projects/{id}/approvals")),
        ("gitlab.approval_rules", Some("approval rules"), format!("/projects/{id}/approval_rules?per_page={per_page}")),
        ("gitlab.push_rule", Some("push rules"), format!("/projects/{id}/push_rule")),
        ("gitlab.deploy_keys", None, format!("/projects/{id}/deploy_keys?per_page={per_page}")),
        ("gitlab.webhooks", None, format!("/projects/{id}/hooks?per_page={per_page}")),
    ]
}

/// Secrets out of an answer before anything keeps it.
fn scrubbed(mut response: ApiResponse) -> ApiResponse {
    if let Some((body, removed)) = super::scrub::scrub(&response.body) {
        response.body = body;
        response.redacted = removed;
    }
    response
}

/// One answer, scrubbed.
pub(super) async fn get(client: &ApiClient, path: &str) -> Result<ApiResponse> {
    Ok(scrubbed(client.get(&client.url(path), 1).await?))
}

/// Every page of a listing, each scrubbed.
pub(super) async fn get_all(client: &ApiClient, path: &str) -> Result<Vec<ApiResponse>> {
    Ok(client.get_all_pages(path).await?.into_iter().map(scrubbed).collect())
}

/// Whether the files API said there is no such file (`404 File Not Found`): an answer, not a refusal.
pub fn file_not_found(answer: &ApiResponse) -> bool {
    answer.status == 404 && answer.error_message().is_some_and(|m| m.contains("File Not Found"))
}

/// Why an answer that must be read was not.
fn failure(response: &ApiResponse) -> String {
    let message = response.error_message().unwrap_or_default();
    match response.status {
        UNANSWERED => format!("no usable answer: {message}"),
        status => format!("HTTP {status} {message}").trim_end().to_string(),
    }
}

/// Fetches the group, its projects and their default branches' protection (`concurrency` projects at a time, kept in
/// listing order).
pub async fn fetch_snapshot(client: &ApiClient, config: &GitlabConfig) -> Result<GitlabSnapshot> {
    let per_page = config.per_page.clamp(1, 100);
    let wanted = config.group.trim_matches('/');
    let group = get(client, &format!("/groups/{}?with_projects=false", segment(wanted))).await?;
    match group.status {
        200 => {}
        401 => {
            return Err(anyhow!(
                "GitLab rejected the token (HTTP 401): check the token named by gitlab.token_env (it may have \
                 expired: GitLab tokens expire within a year)"
            ))
        }
        _ => return Err(anyhow!("cannot read group {wanted:?}: {}", failure(&group))),
    }
    let body = group.json()?;
    let group_id =
        body.get("id").and_then(Value::as_i64).ok_or_else(|| anyhow!("{}: a group without id", group.url))?;
    let group_path = body.get("full_path").and_then(Value::as_str).unwrap_or(wanted).to_string();
    let mut groups = vec![group];
    let segments: Vec<&str> = group_path.split('/').collect();
    for depth in (1..segments.len()).rev() {
        let ancestor = segments[..depth].join("/");
        groups.push(get(client, &format!("/groups/{}?with_projects=false", segment(&ancestor))).await?);
    }
    let metadata = get(client, "/metadata").await?;
    let namespace = get(client, &format!("/namespaces/{}", segment(segments[0]))).await?;
    let tier = Tier::judge(&metadata, &namespace);
    let members = get_all(client, &format!("/groups/{group_id}/members/all?per_page={per_page}")).await?;
    let group_hooks = if matches!(tier, Tier::Free(_)) {
        None
    } else {
        Some(get_all(client, &format!("/groups/{group_id}/hooks?per_page={per_page}")).await?)
    };

    let project_pages = get_all(
        client,
        &format!(
            "/groups/{group_id}/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc&per_page={per_page}"
        ),
    )
    .await?;
    if let Some(failed) = project_pages.iter().find(|page| page.status != 200) {
        return Err(anyhow!(
            "cannot list the projects of group {group_path:?} (nothing is stored from a partial inventory): {} on \
             page {}",
            failure(failed),
            failed.page
        ));
    }
    let mut listed = Vec::new();
    let mut paths = std::collections::HashSet::new();
    for (page, response) in project_pages.iter().enumerate() {
        let items = response.json()?;
        let items = items.as_array().ok_or_else(|| anyhow!("{}: expected a JSON array of projects", response.url))?;
        for item in items {
            let path = item
                .get("path_with_namespace")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("{}: a project without path_with_namespace", response.url))?;
            // A listing that shifts while it is paged (or a server that repeats itself) names a project twice:
            // it is judged once.
            if !paths.insert(path.to_string()) {
                tracing::warn!("{}: project {path} is listed again; kept once", response.url);
                continue;
            }
            listed.push((path.to_string(), item.clone(), page));
        }
    }
    let total = listed.len();
    let in_scope: Vec<(String, Value, usize)> = listed
        .into_iter()
        .filter(|(path, item, _)| config.in_scope(path, item.get("archived").and_then(Value::as_bool).unwrap_or(false)))
        .collect();
    let out_of_scope = total - in_scope.len();
    let premium = !matches!(tier, Tier::Free(_));
    client.progress().plan(in_scope.len());
    let reads = in_scope.into_iter().map(|(path, item, page)| async move {
        let id = item.get("id").and_then(Value::as_i64);
        let archived = item.get("archived").and_then(Value::as_bool).unwrap_or(false);
        let default_branch = item
            .get("default_branch")
            .and_then(Value::as_str)
            .filter(|branch| !branch.is_empty() && item.get("empty_repo").and_then(Value::as_bool) != Some(true))
            .map(str::to_string);
        let mut answers = ProjectAnswers {
            path,
            item,
            page,
            default_branch,
            protected_branches: Vec::new(),
            approvals: None,
            approval_rules: None,
            push_rule: None,
            deploy_keys: Vec::new(),
            webhooks: Vec::new(),
        };
        // Archived projects are read-only, judged not applicable: their protection is not asked.
        if let (Some(id), Some(_), false) = (id, &answers.default_branch, archived) {
            let [protected, approvals, rules, push_rule, keys, hooks] = project_requests(id, per_page);
            answers.protected_branches = get_all(client, &protected.2).await?;
            answers.deploy_keys = get_all(client, &keys.2).await?;
            answers.webhooks = get_all(client, &hooks.2).await?;
            if premium {
                answers.approvals = Some(vec![get(client, &approvals.2).await?]);
                answers.approval_rules = Some(get_all(client, &rules.2).await?);
                answers.push_rule = Some(vec![get(client, &push_rule.2).await?]);
            }
        }
        client.progress().done();
        Ok::<_, anyhow::Error>(answers)
    });
    let projects = futures_util::stream::iter(reads)
        .buffered(config.concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    Ok(GitlabSnapshot {
        group_path,
        groups,
        metadata,
        namespace,
        tier,
        project_pages,
        members,
        group_hooks,
        projects,
        out_of_scope,
    })
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn paths_become_one_segment() {
        assert_eq!(segment("acme/platform-team"), "acme%2Fplatform-team");
        assert_eq!(segment("a b/../c"), "a%20b%2F..%2Fc");
    }
}
