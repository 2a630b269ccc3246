//! The `github:` section of the configuration: which organisation, how to reach and authenticate to its API, what is
//! in scope and how far back operating evidence is read. It belongs to the collector; `config.rs` holds it.

use std::path::PathBuf;

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where and how to reach GitHub.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// The organisation login.
    pub org: String,
    /// More organisations collected with the same settings, each as its own run (token authentication only: a
    /// GitHub App installation covers one organisation).
    #[serde(default)]
    pub orgs: Vec<String>,
    /// The REST API base URL (GitHub Enterprise Server: `https://HOST/api/v3`).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The environment variable holding the token (never put the token itself in the config).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Page size for list requests (GitHub allows at most 100).
    #[serde(default = "default_per_page")]
    pub per_page: u32,
    /// Requests in flight at once (GitHub allows at most 100 across REST and GraphQL; keep it small).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Repositories in scope: patterns matched against `name` or `owner/name` (default: all).
    #[serde(default)]
    pub include: Vec<String>,
    /// Repositories out of scope, even when included.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Whether archived repositories are in scope (they are read-only; controls mark them not applicable).
    #[serde(default = "default_true")]
    pub archived: bool,
    /// Release branches whose protection is read beside the default branch's: patterns on the branch name, e.g.
    /// `release/*` (`*` also crosses `/`). Each pattern costs at most one listing per repository, and each branch found two
    /// requests (classic protection and the rules that apply to it).
    #[serde(default)]
    pub release_branches: Vec<String>,
    /// Authenticate as a GitHub App installation (recommended for organisations: read-only permissions an owner
    /// grants, its own rate limit, no personal seat) instead of with the token in `token_env`.
    #[serde(default)]
    pub app: Option<GithubAppConfig>,
    /// How many days back the first collection reads operating evidence (merged pull requests and their reviews,
    /// workflow runs, deployments); later ones read from where the last successful one stopped. 0 turns it off.
    #[serde(default = "default_operating_days")]
    pub operating_days: u32,
    /// Pages read per listing before it is cut and recorded as incomplete (a guard against a server whose `Link`
    /// never ends; at 100 items a page the default is a million items).
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
}

fn default_max_pages() -> usize {
    crate::collect::http::DEFAULT_MAX_PAGES
}

/// A GitHub App installation to authenticate as.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubAppConfig {
    /// The app's id (or client id), from its settings page.
    pub app_id: String,
    /// The id of its installation on the organisation (in the installation's settings URL).
    pub installation_id: u64,
    /// The app's private key (`.pem`, as GitHub issues it), relative to the config; keep it out of version control.
    pub private_key: PathBuf,
}

impl GithubConfig {
    /// One configuration per organisation to collect: `org`, then each of `orgs` (duplicates dropped).
    pub fn per_organisation(&self) -> Vec<GithubConfig> {
        let mut logins = vec![self.org.clone()];
        for login in &self.orgs {
            if !logins.contains(login) {
                logins.push(login.clone());
            }
        }
        logins.into_iter().map(|org| GithubConfig { org, orgs: Vec::new(), ..self.clone() }).collect()
    }

    /// The credentials to collect with: the app's when configured, else the token from `token_env`.
    pub fn auth(&self) -> Result<crate::collect::auth::Auth> {
        match &self.app {
            Some(app) => Ok(crate::collect::auth::Auth::App(crate::collect::auth::AppCredentials::load(
                &app.app_id,
                app.installation_id,
                &app.private_key,
            )?)),
            None => Ok(crate::collect::auth::Auth::Token(crate::collect::http::Token::from_env(
                &self.token_env,
                "github.token_env",
            )?)),
        }
    }
}

fn default_operating_days() -> u32 {
    90
}

impl GithubConfig {
    /// The settings for one organisation at an API URL, everything else at its default.
    pub fn for_org(org: &str, api_url: &str) -> GithubConfig {
        GithubConfig {
            org: org.to_string(),
            orgs: Vec::new(),
            api_url: api_url.to_string(),
            token_env: default_token_env(),
            per_page: default_per_page(),
            concurrency: default_concurrency(),
            include: Vec::new(),
            exclude: Vec::new(),
            archived: true,
            release_branches: Vec::new(),
            app: None,
            operating_days: default_operating_days(),
            max_pages: default_max_pages(),
        }
    }

    /// Whether a repository is in scope.
    pub fn in_scope(&self, full_name: &str, archived: bool) -> bool {
        crate::collect::scope::in_scope(&self.include, &self.exclude, self.archived, full_name, archived)
    }
}

fn default_true() -> bool {
    true
}

fn default_api_url() -> String {
    "https://api.github.com".to_string()
}

fn default_concurrency() -> usize {
    8
}

fn default_per_page() -> u32 {
    100
}

fn default_token_env() -> String {
    "GITHUB_TOKEN".to_string()
}
