//! The GitHub REST endpoints the collector reads beyond the organisation and its repository list: what each is
//! called as evidence, which fact table it feeds, what permission makes it visible, and how its answer becomes rows.
//!
//! Why this file is long (about 600 lines): most of it is the endpoint table itself, one entry per endpoint.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::collect::http::ApiResponse;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::{
    access_rows, actions_rows, alert_rows, dependency_files, identity_rows, package_rows, property_rows,
    registry_configs, ruleset_rows, workflow_files,
};

/// One fact row: the table it goes to and its cells after the common `run_id, evidence_id, observed_at, org` (the
/// first cell is the repository, NULL for organisation-level rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The `<name>_history` table's view name.
    pub table: &'static str,
    /// The cells, in the table's column order.
    pub cells: Vec<Cell>,
}

/// What an answer is about, and what earlier answers of the same collection told.
pub struct Scope<'a> {
    /// The organisation.
    pub org: &'a str,
    /// `owner/name`, for repository endpoints.
    pub repo: Option<&'a str>,
    /// The repository's default branch, for branch endpoints.
    pub branch: Option<&'a str>,
    /// Bypass actors per ruleset id, from the ruleset definitions read in the same collection.
    pub bypass: &'a BTreeMap<i64, Vec<String>>,
}

/// How the answer carries its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One object.
    Object,
    /// A JSON array, paginated.
    List,
    /// An object holding the array under this key (`{total_count, environments: [...]}`), paginated.
    Wrapped(&'static str),
}

/// Turns one item (or the whole object) into fact rows; the parent is the listing item a follow-up came from.
pub type Extract = fn(&Scope, &Value, Option<&Value>) -> Result<Vec<Fact>>;

/// Turns all items of an answer, together, into fact rows.
pub type ExtractAll = fn(&Scope, &[&Value]) -> Result<Vec<Fact>>;

/// A GitHub endpoint and how its answers become evidence and facts.
pub struct Endpoint {
    /// The evidence kind, e.g. `github.deploy_keys`.
    pub kind: &'static str,
    /// The fact views it feeds (a coverage row is written for each).
    pub tables: &'static [&'static str],
    /// Which slice of those views it fills (`''` when the whole).
    pub part: &'static str,
    /// The path, with `{org}`, `{repo}` and `{branch}` filled in.
    pub path: &'static str,
    /// How items are carried.
    pub shape: Shape,
    /// What makes it visible, for the not-visible reason.
    pub needs: &'static str,
    /// Rows per item.
    pub extract: Extract,
    /// Rows when GitHub answers 404 because there is nothing (e.g. no CODEOWNERS file); `None`: 404 is not visible.
    pub absent: Option<fn(&Scope) -> Vec<Fact>>,
    /// Rows recording that the token could not see it (for tables that keep invisibility in their rows).
    pub unseen: Option<fn(&Scope, &str) -> Vec<Fact>>,
    /// Requests per listed item (ruleset definitions, workflow files, files of a tree).
    pub follows: &'static [Follow],
    /// Rows from all items at once, for answers that make one row together (the rules on a branch).
    pub whole: Option<ExtractAll>,
    /// A GraphQL query (the organisation's login as `$login`) POSTed instead of GETting `path`.
    pub graphql: Option<&'static str>,
}

/// The fields most endpoints leave at their default.
const BASE: Endpoint = Endpoint {
    kind: "",
    tables: &[],
    part: "",
    path: "",
    shape: Shape::Object,
    needs: "",
    extract: nothing,
    absent: None,
    unseen: None,
    follows: &[],
    whole: None,
    graphql: None,
};

/// A request made for each item of a listing.
pub struct Follow {
    /// The endpoint answering it.
    pub endpoint: &'static Endpoint,
    /// The path for an item, or `None` to skip it.
    pub path: fn(&Scope, &Value) -> Option<String>,
    /// The key of the array whose entries are the items, for an object answer (a tree's `tree`); `None`: the
    /// answer's own items.
    pub within: Option<&'static str>,
}

impl Follow {
    /// The items of an answer this follows: the entries of its `within` array, or the endpoint's own items.
    pub fn items<'a>(&self, endpoint: &Endpoint, body: &'a Value) -> Vec<&'a Value> {
        match self.within {
            Some(key) => body.get(key).and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default(),
            None => endpoint.items(body),
        }
    }
}

fn nothing(_: &Scope, _: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(Vec::new())
}

const ORG_OWNER: &str = "an organisation owner's token (read:org; Members: read for an App)";
const ORG_ADMIN: &str =
    "an organisation owner's token (admin:org; Administration: read on the organisation for an App)";
const REPO_ADMIN: &str = "admin on the repository (Administration: read for an App)";

const ORG_RULESET: Endpoint = Endpoint {
    kind: "github.ruleset",
    tables: &["rulesets"],
    shape: Shape::Object,
    needs: ORG_ADMIN,
    extract: ruleset_rows::ruleset,
    ..BASE
};

const REPO_RULESET: Endpoint = Endpoint { needs: "read access to the repository (Metadata: read)", ..ORG_RULESET };

const TEAM_REPOS: Endpoint = Endpoint {
    kind: "github.team_repos",
    tables: &["team_repos"],
    shape: Shape::List,
    needs: "read:org (Members: read for an App)",
    extract: access_rows::team_repo,
    ..BASE
};

const WORKFLOW_FILE: Endpoint = Endpoint {
    kind: "github.workflow_file",
    tables: &["workflows", "workflow_actions", "workflow_jobs", "registry_configs"],
    shape: Shape::Object,
    needs: "read access to the repository's contents (Contents: read)",
    extract: workflow_files::workflow_file,
    ..BASE
};

const CONTAINER_FILE: Endpoint = Endpoint {
    kind: "github.container_file",
    tables: &["container_bases"],
    shape: Shape::Object,
    needs: "read access to the repository's contents (Contents: read)",
    extract: dependency_files::container_file,
    ..BASE
};

const REGISTRY_CONFIG: Endpoint = Endpoint {
    kind: "github.registry_config",
    tables: &["registry_configs"],
    shape: Shape::Object,
    needs: "read access to the repository's contents (Contents: read)",
    extract: registry_configs::config_file,
    ..BASE
};

/// The organisation's packages of one type (GitHub answers them only to a classic token with `read:packages`).
const PACKAGES: Endpoint = Endpoint {
    tables: &["packages"],
    shape: Shape::List,
    needs: "a classic personal access token with read:packages (GitHub Apps cannot list packages)",
    extract: package_rows::package,
    ..BASE
};

/// Organisation-wide endpoints, read once per collection.
pub static ORG_ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        kind: "github.org_identity",
        tables: &["org_identity"],
        path: "/graphql",
        shape: Shape::Object,
        needs: "an organisation owner's token with read:org (Administration: read on the organisation for an App)",
        extract: identity_rows::org_identity,
        graphql: Some(identity_rows::QUERY),
        ..BASE
    },
    Endpoint {
        kind: "github.members",
        tables: &["org_people"],
        part: "member",
        path: "/orgs/{org}/members?role=all",
        shape: Shape::List,
        needs: "read:org (Members: read for an App)",
        extract: access_rows::member,
        ..BASE
    },
    Endpoint {
        kind: "github.owners",
        tables: &["org_people"],
        part: "owner",
        path: "/orgs/{org}/members?role=admin",
        shape: Shape::List,
        needs: "read:org (Members: read for an App)",
        extract: access_rows::owner,
        ..BASE
    },
    Endpoint {
        kind: "github.members_2fa_disabled",
        tables: &["org_people"],
        part: "member_2fa_disabled",
        path: "/orgs/{org}/members?filter=2fa_disabled",
        shape: Shape::List,
        needs: ORG_OWNER,
        extract: access_rows::member_without_2fa,
        ..BASE
    },
    Endpoint {
        kind: "github.outside_collaborators",
        tables: &["org_people"],
        part: "outside_collaborator",
        path: "/orgs/{org}/outside_collaborators?filter=all",
        shape: Shape::List,
        needs: "read:org (Members: read for an App)",
        extract: access_rows::outside_collaborator,
        ..BASE
    },
    Endpoint {
        kind: "github.outside_collaborators_2fa_disabled",
        tables: &["org_people"],
        part: "outside_collaborator_2fa_disabled",
        path: "/orgs/{org}/outside_collaborators?filter=2fa_disabled",
        shape: Shape::List,
        needs: ORG_OWNER,
        extract: access_rows::outside_collaborator_without_2fa,
        ..BASE
    },
    Endpoint {
        kind: "github.org_actions_permissions",
        tables: &["actions_permissions"],
        path: "/orgs/{org}/actions/permissions",
        shape: Shape::Object,
        needs: ORG_ADMIN,
        extract: actions_rows::actions_permissions,
        ..BASE
    },
    Endpoint {
        kind: "github.org_workflow_permissions",
        tables: &["workflow_token_permissions"],
        path: "/orgs/{org}/actions/permissions/workflow",
        shape: Shape::Object,
        needs: ORG_ADMIN,
        extract: actions_rows::workflow_token_permissions,
        ..BASE
    },
    Endpoint {
        kind: "github.org_actions_retention",
        tables: &["actions_retention"],
        path: "/orgs/{org}/actions/permissions/artifact-and-log-retention",
        shape: Shape::Object,
        needs: ORG_ADMIN,
        extract: actions_rows::artifact_log_retention,
        ..BASE
    },
    Endpoint {
        kind: "github.teams",
        tables: &["team_repos"],
        path: "/orgs/{org}/teams",
        shape: Shape::List,
        needs: "read:org (Members: read for an App)",
        follows: &[Follow { endpoint: &TEAM_REPOS, path: access_rows::team_repos_path, within: None }],
        ..BASE
    },
    Endpoint {
        kind: "github.org_fork_pr_approval",
        tables: &["fork_pr_approval"],
        path: "/orgs/{org}/actions/permissions/fork-pr-contributor-approval",
        shape: Shape::Object,
        needs: ORG_ADMIN,
        extract: actions_rows::fork_pr_approval,
        ..BASE
    },
    Endpoint {
        kind: "github.org_rulesets",
        tables: &["rulesets"],
        path: "/orgs/{org}/rulesets",
        shape: Shape::List,
        needs: ORG_ADMIN,
        extract: nothing,
        follows: &[Follow { endpoint: &ORG_RULESET, path: ruleset_rows::org_ruleset_path, within: None }],
        ..BASE
    },
    Endpoint {
        kind: "github.org_webhooks",
        tables: &["webhooks"],
        path: "/orgs/{org}/hooks",
        shape: Shape::List,
        needs: "an organisation owner's token (admin:org_hook; Webhooks: read on the organisation for an App)",
        extract: access_rows::webhook,
        ..BASE
    },
    Endpoint {
        kind: "github.installations",
        tables: &["app_installations"],
        path: "/orgs/{org}/installations",
        shape: Shape::Wrapped("installations"),
        needs: ORG_ADMIN,
        extract: access_rows::installation,
        ..BASE
    },
    Endpoint {
        kind: "github.org_secrets",
        tables: &["actions_secrets"],
        path: "/orgs/{org}/actions/secrets",
        shape: Shape::Wrapped("secrets"),
        needs: "an organisation owner's token (admin:org; Secrets: read on the organisation for an App)",
        extract: actions_rows::secret,
        ..BASE
    },
    Endpoint {
        kind: "github.custom_properties",
        tables: &["repo_properties"],
        path: "/orgs/{org}/properties/values",
        shape: Shape::List,
        needs: "an organisation member's token (read:org; Custom properties: read on the organisation for an App)",
        extract: property_rows::repository_values,
        ..BASE
    },
    Endpoint {
        kind: "github.org_runners",
        tables: &["runners"],
        path: "/orgs/{org}/actions/runners",
        shape: Shape::Wrapped("runners"),
        needs: "an organisation owner's token (admin:org; Self-hosted runners: read for an App)",
        extract: actions_rows::runner,
        ..BASE
    },
    Endpoint {
        kind: "github.dependabot_alerts",
        tables: &["security_alerts"],
        part: "dependabot",
        path: "/orgs/{org}/dependabot/alerts",
        shape: Shape::List,
        needs: "an owner or security manager (security_events; Dependabot alerts: read for an App)",
        extract: alert_rows::dependabot,
        ..BASE
    },
    Endpoint {
        kind: "github.code_scanning_alerts",
        tables: &["security_alerts"],
        part: "code_scanning",
        path: "/orgs/{org}/code-scanning/alerts",
        shape: Shape::List,
        needs: "an owner or security manager (security_events; Code scanning alerts: read for an App)",
        extract: alert_rows::code_scanning,
        ..BASE
    },
    Endpoint {
        kind: "github.secret_scanning_alerts",
        tables: &["security_alerts"],
        part: "secret_scanning",
        path: "/orgs/{org}/secret-scanning/alerts?hide_secret=true",
        shape: Shape::List,
        needs: "an owner or security manager (security_events; Secret scanning alerts: read for an App)",
        extract: alert_rows::secret_scanning,
        ..BASE
    },
    Endpoint {
        kind: "github.packages.container",
        part: "container",
        path: "/orgs/{org}/packages?package_type=container",
        ..PACKAGES
    },
    Endpoint { kind: "github.packages.npm", part: "npm", path: "/orgs/{org}/packages?package_type=npm", ..PACKAGES },
    Endpoint {
        kind: "github.packages.maven",
        part: "maven",
        path: "/orgs/{org}/packages?package_type=maven",
        ..PACKAGES
    },
    Endpoint {
        kind: "github.packages.rubygems",
        part: "rubygems",
        path: "/orgs/{org}/packages?package_type=rubygems",
        ..PACKAGES
    },
    Endpoint {
        kind: "github.packages.nuget",
        part: "nuget",
        path: "/orgs/{org}/packages?package_type=nuget",
        ..PACKAGES
    },
];

/// Per-repository endpoints, read for every repository in scope.
pub static REPO_ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        kind: "github.branch_rules",
        tables: &[],
        path: "/repos/{repo}/rules/branches/{branch}",
        shape: Shape::List,
        needs: "read access to the repository (Metadata: read)",
        extract: nothing,
        unseen: Some(ruleset_rows::rules_not_visible),
        whole: Some(ruleset_rows::branch_rules),
        ..BASE
    },
    Endpoint {
        kind: "github.rulesets",
        tables: &["rulesets"],
        path: "/repos/{repo}/rulesets?includes_parents=false",
        shape: Shape::List,
        needs: "read access to the repository (Metadata: read)",
        extract: nothing,
        follows: &[Follow { endpoint: &REPO_RULESET, path: ruleset_rows::repo_ruleset_path, within: None }],
        ..BASE
    },
    Endpoint {
        kind: "github.collaborators",
        tables: &["repo_collaborators"],
        path: "/repos/{repo}/collaborators?affiliation=all",
        shape: Shape::List,
        needs: "push access to the repository (Metadata: read for an App)",
        extract: access_rows::collaborator,
        ..BASE
    },
    Endpoint {
        kind: "github.deploy_keys",
        tables: &["deploy_keys"],
        path: "/repos/{repo}/keys",
        shape: Shape::List,
        needs: REPO_ADMIN,
        extract: access_rows::deploy_key,
        ..BASE
    },
    Endpoint {
        kind: "github.webhooks",
        tables: &["webhooks"],
        path: "/repos/{repo}/hooks",
        shape: Shape::List,
        needs: "admin on the repository (admin:repo_hook; Webhooks: read for an App)",
        extract: access_rows::webhook,
        ..BASE
    },
    Endpoint {
        kind: "github.actions_permissions",
        tables: &["actions_permissions"],
        path: "/repos/{repo}/actions/permissions",
        shape: Shape::Object,
        needs: REPO_ADMIN,
        extract: actions_rows::actions_permissions,
        ..BASE
    },
    Endpoint {
        kind: "github.workflow_permissions",
        tables: &["workflow_token_permissions"],
        path: "/repos/{repo}/actions/permissions/workflow",
        shape: Shape::Object,
        needs: REPO_ADMIN,
        extract: actions_rows::workflow_token_permissions,
        ..BASE
    },
    Endpoint {
        kind: "github.fork_pr_approval",
        tables: &["fork_pr_approval"],
        path: "/repos/{repo}/actions/permissions/fork-pr-contributor-approval",
        shape: Shape::Object,
        needs: REPO_ADMIN,
        extract: actions_rows::fork_pr_approval,
        ..BASE
    },
    Endpoint {
        kind: "github.code_scanning_analyses",
        tables: &["code_scanning_analyses"],
        path: "/repos/{repo}/code-scanning/analyses?ref=refs/heads/{branch}",
        shape: Shape::List,
        needs: "security_events (Code scanning alerts: read for an App)",
        extract: alert_rows::code_scanning_analysis,
        ..BASE
    },
    Endpoint {
        kind: "github.environments",
        tables: &["environments"],
        path: "/repos/{repo}/environments",
        shape: Shape::Wrapped("environments"),
        needs: "read access to the repository (Actions: read for an App)",
        extract: actions_rows::environment,
        ..BASE
    },
    Endpoint {
        kind: "github.workflows",
        tables: &["workflows", "workflow_actions", "workflow_jobs", "registry_configs"],
        path: "/repos/{repo}/actions/workflows",
        shape: Shape::Wrapped("workflows"),
        needs: "read access to the repository (Actions: read for an App)",
        extract: nothing,
        follows: &[Follow { endpoint: &WORKFLOW_FILE, path: workflow_files::file_path, within: None }],
        ..BASE
    },
    Endpoint {
        kind: "github.tree",
        tables: &["dependency_files", "container_bases", "registry_configs"],
        path: "/repos/{repo}/git/trees/{branch}?recursive=1",
        shape: Shape::Object,
        needs: "read access to the repository's contents (Contents: read)",
        extract: dependency_files::tree,
        follows: &[
            Follow { endpoint: &CONTAINER_FILE, path: dependency_files::container_file_path, within: Some("tree") },
            Follow { endpoint: &REGISTRY_CONFIG, path: registry_configs::config_file_path, within: Some("tree") },
        ],
        ..BASE
    },
    Endpoint {
        kind: "github.codeowners",
        tables: &["codeowners"],
        path: "/repos/{repo}/codeowners/errors",
        shape: Shape::Object,
        needs: "read access to the repository (Metadata: read)",
        extract: access_rows::codeowners,
        absent: Some(access_rows::no_codeowners),
        ..BASE
    },
];

/// Endpoints read only for public repositories: what outside reporters and users see.
pub static PUBLIC_REPO_ENDPOINTS: &[Endpoint] = &[Endpoint {
    kind: "github.vulnerability_reporting",
    tables: &["vulnerability_reporting"],
    path: "/repos/{repo}/private-vulnerability-reporting",
    shape: Shape::Object,
    needs: "read access to the repository (Administration: read for an App)",
    extract: alert_rows::vulnerability_reporting,
    ..BASE
}];

/// The branches matching a release-branch pattern's literal prefix (`/git/matching-refs/heads/{prefix}`), per
/// repository; the branches found get their classic protection and [`RELEASE_BRANCH_RULES`] read.
pub static RELEASE_REFS: Endpoint = Endpoint {
    kind: "github.release_branches",
    tables: &["branch_rules"],
    part: "release_branches",
    shape: Shape::List,
    needs: "read access to the repository (Contents: read for an App)",
    ..BASE
};

/// The rules GitHub applies to a release branch, as one `branch_rules` row that is not the default branch's.
pub static RELEASE_BRANCH_RULES: Endpoint = Endpoint {
    kind: "github.branch_rules",
    path: "/repos/{repo}/rules/branches/{branch}",
    shape: Shape::List,
    needs: "read access to the repository (Metadata: read)",
    unseen: Some(ruleset_rows::release_rules_not_visible),
    whole: Some(ruleset_rows::release_branch_rules),
    ..BASE
};

impl Endpoint {
    /// The endpoint's path for a scope.
    pub fn path_for(&self, scope: &Scope) -> String {
        self.path
            .replace("{org}", scope.org)
            .replace("{repo}", scope.repo.unwrap_or_default())
            .replace("{branch}", &super::fetch::encode_branch(scope.branch.unwrap_or_default()))
    }

    /// Asks for one answer at `path`: a GET, or this endpoint's GraphQL query for the organisation.
    pub async fn ask_once(
        &self,
        client: &crate::collect::http::ApiClient,
        path: &str,
        org: &str,
    ) -> Result<ApiResponse> {
        match self.graphql {
            Some(query) => client.graphql(query, serde_json::json!({ "login": org })).await,
            None => client.get(&client.url(path), 1).await,
        }
    }

    /// Whether the answer is paginated.
    pub fn paginated(&self) -> bool {
        self.shape != Shape::Object
    }

    /// The items an answer carries (the object itself for single-object endpoints).
    pub fn items<'a>(&self, body: &'a Value) -> Vec<&'a Value> {
        match self.shape {
            Shape::Object => vec![body],
            Shape::List => body.as_array().map(|items| items.iter().collect()).unwrap_or_default(),
            Shape::Wrapped(key) => {
                body.get(key).and_then(Value::as_array).map(|items| items.iter().collect()).unwrap_or_default()
            }
        }
    }
}
