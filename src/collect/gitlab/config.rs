//! The `gitlab:` section of the configuration: which group, how to reach and authenticate to its API, and which of
//! its projects are in scope. It belongs to the collector; `config.rs` holds it.

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where and how to reach GitLab.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabConfig {
    /// The group's full path (`acme`, or a subgroup such as `acme/platform`): it and every subgroup under it.
    pub group: String,
    /// The REST API base URL (self-managed: `https://HOST/api/v4`).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The environment variable holding the token: a group access token on the group (role Owner, or Maintainer,
    /// scope `read_api`), or a personal access token of a user with that role. Never the token itself.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Page size for list requests (GitLab allows at most 100).
    #[serde(default = "default_per_page")]
    pub per_page: u32,
    /// Requests in flight at once (GitLab.com limits a user to 400 project reads a minute; keep it small).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Projects in scope: patterns matched against the project's full path or its last segment (default: all).
    #[serde(default)]
    pub include: Vec<String>,
    /// Projects out of scope, even when included.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Whether archived projects are in scope (they are read-only; controls mark them not applicable).
    #[serde(default = "default_true")]
    pub archived: bool,
    /// Pages read per listing before it is cut and recorded as incomplete.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// How many days back the first collection reads merge requests merged into default branches (with who
    /// approved them and their pipelines); later ones read from where the last successful one stopped. 0 turns it
    /// off.
    #[serde(default = "default_operating_days")]
    pub operating_days: u32,
}

fn default_operating_days() -> u32 {
    90
}

impl GitlabConfig {
    /// The settings for one group at an API URL, everything else at its default.
    pub fn for_group(group: &str, api_url: &str) -> GitlabConfig {
        GitlabConfig {
            group: group.to_string(),
            api_url: api_url.to_string(),
            token_env: default_token_env(),
            per_page: default_per_page(),
            concurrency: default_concurrency(),
            include: Vec::new(),
            exclude: Vec::new(),
            archived: true,
            max_pages: default_max_pages(),
            operating_days: default_operating_days(),
        }
    }

    /// The token to collect with, from `token_env`.
    pub fn token(&self) -> Result<crate::collect::http::Token> {
        crate::collect::http::Token::from_env(&self.token_env, "gitlab.token_env")
    }

    /// Whether a project (by its full path) is in scope.
    pub fn in_scope(&self, full_path: &str, archived: bool) -> bool {
        crate::collect::scope::in_scope(&self.include, &self.exclude, self.archived, full_path, archived)
    }
}

fn default_api_url() -> String {
    "https://gitlab.com/api/v4".to_string()
}

fn default_token_env() -> String {
    "GITLAB_TOKEN".to_string()
}

fn default_per_page() -> u32 {
    100
}

fn default_concurrency() -> usize {
    8
}

fn default_true() -> bool {
    true
}

fn default_max_pages() -> usize {
    crate::collect::http::DEFAULT_MAX_PAGES
}
