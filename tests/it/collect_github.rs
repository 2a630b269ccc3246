//! The GitHub collector over real HTTP against the replay server: headers, pagination, visibility, secrets.

use crate::common;

use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::ingest::TrustPolicy;
use pipeproof::store::Store;

const TOKEN: &str = "ghs_0123456789abcdefSECRET";

fn config(base_url: String, per_page: u32) -> GithubConfig {
    GithubConfig { per_page, concurrency: 4, ..GithubConfig::for_org("acme-demo", &base_url) }
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn collects_org_repositories_and_protection_following_links() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();

    let summary = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    assert_eq!(summary.repositories, 6);
    assert_eq!(summary.branches_visible, 5);
    assert_eq!(summary.branches_not_visible, 1);

    let received = server.received();
    let paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    assert!(
        paths.contains(&"/organizations/90210001/repos?type=all&per_page=4&page=2"),
        "next link followed verbatim: {paths:?}"
    );
    for request in &received {
        assert_eq!(request.headers.get("x-github-api-version").map(String::as_str), Some("2022-11-28"));
        assert_eq!(request.headers.get("authorization").map(String::as_str), Some(format!("Bearer {TOKEN}").as_str()));
        assert!(request.headers["accept"].contains("application/vnd.github+json"));
        assert!(!request.path.contains(TOKEN));
    }

    assert_eq!(count(&store, "SELECT count(*) FROM repositories_history"), 6);
    assert_eq!(
        count(&store, "SELECT count(*) FROM branch_rules_history WHERE rule_source = 'classic' AND NOT visible"),
        1
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM branch_rules_history WHERE rule_source = 'classic' AND visible AND NOT protected"
        ),
        2
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM evidence WHERE kind = 'github.repos' AND (provenance->>'pagination_complete') <> 'true'"
        ),
        0,
        "every page of a listing read whole says so, not only its last (a verdict citing page 1 rests on a whole \
         listing)"
    );
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE status = 'succeeded'"), 1);
    let leaked = count(&store, &format!("SELECT count(*) FROM blobs WHERE contains(decode(body), '{TOKEN}')"))
        + count(&store, &format!("SELECT count(*) FROM evidence WHERE contains(provenance::VARCHAR, '{TOKEN}')"));
    assert_eq!(leaked, 0, "the token is never stored");
}

#[test]
fn a_rejected_token_fails_the_run_without_storing_or_leaking() {
    let cassette = Cassette::parse(
        r#"{"interactions":[{"path":"/orgs/acme-demo","status":401,"body":{"message":"Bad credentials"}}]}"#,
        "inline",
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let error = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 100),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(!message.contains(TOKEN), "{message}");
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE status = 'failed'"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM evidence"), 0);
}

#[test]
fn an_unchanged_second_run_is_answered_304_and_reuses_stored_evidence() {
    let mut value = common::demo_cassette_edited(|_, _| {});
    let mut with_304 = Vec::new();
    for interaction in value["interactions"].as_array().unwrap() {
        if let Some(etag) = interaction["headers"]["etag"].as_str() {
            with_304.push(serde_json::json!({
                "path": interaction["path"], "status": 304, "if_none_match": etag,
                "headers": { "etag": etag, "x-ratelimit-remaining": "4999" }
            }));
        }
        with_304.push(interaction.clone());
    }
    value["interactions"] = serde_json::Value::Array(with_304);
    let cassette = Cassette::parse(&value.to_string(), "cassette with 304s").unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let first = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    assert_eq!(first.not_modified, 0);
    let blobs_after_first = count(&store, "SELECT count(*) FROM blobs");
    let requests_after_first = server.received().len();

    let second = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    let second_requests: Vec<_> = server.received().into_iter().skip(requests_after_first).collect();
    let conditional = second_requests.iter().filter(|r| r.headers.contains_key("if-none-match")).count();
    assert_eq!(second.repositories, 6, "facts are rebuilt from the stored bodies");
    assert_eq!(second.not_modified, conditional);
    let tagged: std::collections::BTreeSet<String> = {
        let mut statement = store
            .conn()
            .prepare(
                "SELECT DISTINCT (provenance->>'url') FROM evidence WHERE run_id = 1 AND (provenance->>'etag') IS NOT NULL",
            )
            .unwrap();
        statement.query_map([], |row| row.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
    };
    let base = server.base_url();
    let asked_again_with_tag = second_requests.iter().filter(|r| tagged.contains(&format!("{base}{}", r.path))).count();
    let untagged: Vec<&str> = second_requests
        .iter()
        .filter(|r| r.headers.contains_key("if-none-match") && !tagged.contains(&format!("{base}{}", r.path)))
        .map(|r| r.path.as_str())
        .collect();
    assert!(untagged.is_empty(), "{untagged:?}");
    assert!(asked_again_with_tag > 60, "state evidence is asked again: {asked_again_with_tag}");
    assert_eq!(conditional, asked_again_with_tag, "every URL that answered with an ETag is asked conditionally");
    // Only the workflow-run listings and the audit log are new requests (their `created>=` window moved to the
    // watermark); the replay fills their times afresh, so they are new bytes; and each run's own manifest is new.
    // Every other answer is stored once.
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM evidence e WHERE run_id = 2 AND kind NOT IN ('github.workflow_runs', 'github.audit_log', 'pipeproof.collection')
             AND NOT EXISTS (SELECT 1 FROM evidence f WHERE f.run_id = 1 AND f.sha256 = e.sha256)"
        ),
        0,
        "nothing stored twice"
    );
    assert!(count(&store, "SELECT count(*) FROM blobs") <= blobs_after_first + 5, "four new answers and the manifest");
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM evidence WHERE run_id = 2 AND (provenance->>'observed_unchanged') = 'true'"
        ),
        second.not_modified as i64
    );
    assert_eq!(count(&store, "SELECT count(*) FROM repositories_history WHERE run_id = 2"), 6);
    assert_eq!(count(&store, "SELECT count(*) FROM branch_rules_history WHERE run_id = 2 AND NOT visible"), 1);
    assert_eq!(
        count(&store, "SELECT count(*) FROM workflow_actions_history WHERE run_id = 2"),
        count(&store, "SELECT count(*) FROM workflow_actions_history WHERE run_id = 1"),
        "facts are rebuilt from reused bodies, for follow-up requests too"
    );
}

#[test]
fn protection_is_fetched_concurrently_within_the_limit_and_stored_in_order() {
    let cassette = common::demo_cassette(|path, interaction| {
        if path.ends_with("/protection") {
            interaction["delay_ms"] = serde_json::json!(600);
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let mut limited = config(server.base_url(), 4);
    limited.concurrency = 3;
    pipeproof::collect::github::collect(&store, &limited, Token::new(TOKEN.into()), &TrustPolicy::default()).unwrap();
    assert_eq!(server.most_in_flight(), 3, "the limit is used and never exceeded");
    let mut statement = store
        .conn()
        .prepare("SELECT repo FROM branch_rules_history WHERE rule_source = 'classic' ORDER BY evidence_id")
        .unwrap();
    let repos: Vec<String> = statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(repos.len(), 6);
    assert_eq!(repos[0], "acme-demo/payments-api", "stored in listing order, whatever order the answers came in");
}

#[test]
fn the_scope_limits_facts_and_requests_but_keeps_the_listing_whole() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let scoped = GithubConfig {
        include: vec!["acme-demo/*".into()],
        exclude: vec!["docs-*".into()],
        archived: false,
        ..config(server.base_url(), 4)
    };
    let summary =
        pipeproof::collect::github::collect(&store, &scoped, Token::new(TOKEN.into()), &TrustPolicy::default())
            .unwrap();
    assert_eq!(summary.repositories, 4, "docs-site excluded, legacy-tools archived");
    assert_eq!(summary.out_of_scope, 2);
    let asked: Vec<String> =
        server.received().into_iter().map(|r| r.path).filter(|p| p.ends_with("/protection")).collect();
    assert_eq!(asked.len(), 4);
    assert!(!asked.iter().any(|p| p.contains("docs-site") || p.contains("legacy-tools")), "{asked:?}");
    assert_eq!(
        count(&store, "SELECT count(*) FROM evidence WHERE kind = 'github.repos'"),
        2,
        "both listing pages kept"
    );
}

fn texts(store: &Store, sql: &str) -> Vec<String> {
    let mut statement = store.conn().prepare(sql).unwrap();
    statement.query_map([], |row| row.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn collects_people_rulesets_actions_environments_workflows_and_alerts() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let summary = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();

    let paths: Vec<String> = server.received().into_iter().map(|r| r.path).collect();
    let unique: std::collections::BTreeSet<&String> = paths.iter().collect();
    assert_eq!(unique.len(), paths.len(), "no URL is asked twice");
    assert!(paths.contains(&"/organizations/90210001/members?role=all&per_page=4&page=2".to_string()), "{paths:?}");
    assert!(paths.iter().all(|p| !p.contains("secret-scanning") || p.contains("hide_secret=true")));

    // The file tree: manifests and lock files by folder, and each container build file's FROM lines.
    assert_eq!(
        texts(&store, "SELECT path || ' ' || role FROM dependency_files WHERE repo = 'acme-demo/web-app' AND role <> 'tree' ORDER BY 1"),
        ["Dockerfile container", "package-lock.json workspace_lock", "package.json manifest", "packages/ui/package.json manifest", "test/fixtures/legacy/package.json manifest"]
    );
    assert_eq!(
        texts(
            &store,
            "SELECT line || ' ' || image || ' ' || base_kind FROM container_bases WHERE repo = 'acme-demo/ml-pipeline'"
        ),
        ["2 ${CUDA_IMAGE} unresolved"]
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM container_bases WHERE repo = 'acme-demo/payments-api' AND digest LIKE 'sha256:%'"
        ),
        2
    );
    // Registry configuration files: where packages resolve from, never the credentials written beside it.
    assert_eq!(
        texts(
            &store,
            "SELECT repo || ' ' || path || ':' || line || ' ' || setting || ' ' || coalesce(name || ' ', '') || url \
             FROM registry_configs ORDER BY 1"
        ),
        [
            "acme-demo/ml-pipeline pip.conf:3 extra_index https://pypi.acme-demo.internal/simple",
            "acme-demo/web-app .npmrc:1 scope_registry @acme-demo https://npm.pkg.github.com",
        ]
    );

    // GraphQL: the identity provider and IP allow list, POSTed once, the query kept in the evidence's provenance.
    assert_eq!(
        texts(
            &store,
            "SELECT saml || ' ' || saml_identities || ' ' || ip_allow_list || ' ' || ip_allow_list_active FROM org_identity"
        ),
        ["configured 7 DISABLED 0"]
    );
    assert_eq!(
        texts(
            &store,
            "SELECT (provenance->>'method') || ' ' || contains(provenance->>'graphql', 'samlIdentityProvider') \
             FROM evidence WHERE kind = 'github.org_identity'"
        ),
        ["POST true"]
    );
    assert!(server.received().iter().any(|r| r.method == "POST" && r.path == "/graphql"));

    // People: two pages of members, owners, outside collaborators; the 2FA lists are visible and empty.
    assert_eq!(count(&store, "SELECT count(*) FROM org_people WHERE relation = 'member'"), 6);
    assert_eq!(
        texts(&store, "SELECT login FROM org_people WHERE relation = 'owner' ORDER BY 1"),
        ["alice-owner", "bob-owner"]
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM api_coverage WHERE kind = 'github.members_2fa_disabled' AND state = 'visible'"
        ),
        1
    );

    // Effective protection: classic protection merged with the active organisation ruleset; the ruleset in
    // evaluate mode protects nothing; bypass actors come from the ruleset definitions.
    assert_eq!(
        texts(&store, "SELECT rule_source || ' ' || protected || ' ' || required_approvals FROM branch_rules WHERE repo = 'acme-demo/docs-site'"),
        ["classic + rulesets false 0"]
    );
    assert_eq!(
        texts(&store, "SELECT array_to_string(bypass_actors, '; ') FROM branch_rules WHERE repo = 'acme-demo/web-app'"),
        ["repository administrators (enforce_admins off)"]
    );
    assert_eq!(
        texts(&store, "SELECT rule_source || ' ' || required_approvals FROM branch_rules WHERE repo = 'acme-demo/infra-terraform'"),
        ["classic + rulesets 0"],
        "the organisation ruleset excludes infra-*"
    );
    assert_eq!(texts(&store, "SELECT enforcement FROM rulesets WHERE ruleset_id = 102"), ["evaluate"]);
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM branch_rules_history WHERE rule_source = 'rulesets' AND required_signatures"
        ),
        0,
        "evaluate mode does not protect"
    );
    assert_eq!(
        texts(&store, "SELECT array_to_string(required_status_checks, ',') FROM branch_rules WHERE repo = 'acme-demo/payments-api'"),
        ["CodeQL,build,test"],
        "checks from classic protection and the repository ruleset"
    );

    // Actions, environments, workflows.
    assert_eq!(
        texts(&store, "SELECT coalesce(repo, 'org') || ':' || default_workflow_permissions FROM workflow_token_permissions ORDER BY 1"),
        ["acme-demo/docs-site:read", "acme-demo/infra-terraform:read", "acme-demo/legacy-tools:read", "acme-demo/payments-api:read", "acme-demo/web-app:write", "org:read"]
    );
    assert_eq!(
        texts(&store, "SELECT environment || ' ' || required_reviewers || ' ' || prevent_self_review || ' ' || branch_policy FROM environments WHERE repo = 'acme-demo/payments-api' AND environment = 'production'"),
        ["production 1 true protected_branches"]
    );
    assert_eq!(count(&store, "SELECT count(*) FROM workflows WHERE parsed"), 6);
    assert_eq!(count(&store, "SELECT count(*) FROM workflows WHERE pull_request_target AND write_all"), 1);
    assert_eq!(
        texts(&store, "SELECT uses FROM workflow_actions WHERE NOT pinned ORDER BY 1"),
        [
            "acme-demo/shared-workflows/.github/actions/deploy@main",
            "actions/checkout@v4",
            "actions/deploy-pages@v4",
            "actions/setup-node@v4",
            "aquasecurity/trivy-action@0.28.0",
            "docker://python:3.12"
        ]
    );

    // Keys, webhooks (scheme and host only), apps, runners, secrets (names), CODEOWNERS, alerts.
    assert_eq!(texts(&store, "SELECT title FROM deploy_keys WHERE NOT read_only"), ["release-automation"]);
    assert_eq!(
        texts(&store, "SELECT url_scheme || '://' || url_host || ' insecure=' || insecure_ssl || ' secret=' || secret_set FROM webhooks WHERE repo = 'acme-demo/web-app'"),
        ["http://ci.acme.internal insecure=true secret=false"]
    );
    assert_eq!(
        texts(&store, "SELECT app_slug FROM app_installations WHERE repository_selection = 'all'"),
        ["acme-legacy-deployer"]
    );
    assert_eq!(texts(&store, "SELECT name FROM runners WHERE NOT ephemeral"), ["build-01"]);
    assert_eq!(texts(&store, "SELECT name FROM actions_secrets WHERE visibility = 'all'"), ["NPM_TOKEN"]);
    assert_eq!(count(&store, "SELECT count(*) FROM codeowners WHERE NOT present"), 4, "404 means no CODEOWNERS file");
    assert_eq!(
        texts(&store, "SELECT tool || ' ' || repo || ' ' || state FROM security_alerts ORDER BY 1"),
        [
            "code_scanning acme-demo/payments-api open",
            "code_scanning acme-demo/web-app dismissed",
            "dependabot acme-demo/payments-api fixed",
            "dependabot acme-demo/web-app open",
            "secret_scanning acme-demo/infra-terraform resolved"
        ]
    );
    assert_eq!(
        texts(&store, "SELECT fixed_at::VARCHAR FROM security_alerts WHERE tool = 'secret_scanning'"),
        ["2026-08-02 13:00:00"],
        "revoked counts as fixed"
    );

    // Teams, fork pull-request approval, code scanning analyses (feature off is not the same as not visible).
    assert_eq!(
        texts(
            &store,
            "SELECT team || ':' || permission FROM team_repos WHERE repo = 'acme-demo/payments-api' ORDER BY 1"
        ),
        ["developers:write", "release-managers:maintain"]
    );
    assert_eq!(
        texts(&store, "SELECT approval_policy FROM fork_pr_approval WHERE repo IS NULL"),
        ["first_time_contributors"]
    );
    assert_eq!(
        texts(&store, "SELECT subject || ' ' || state FROM api_coverage WHERE kind = 'github.code_scanning_analyses' AND state <> 'visible' ORDER BY 1"),
        ["acme-demo/docs-site feature_off", "acme-demo/infra-terraform feature_off", "acme-demo/ml-pipeline not_visible"]
    );
    assert_eq!(summary.feature_off, 2);

    // Packages, each beside the visibility of the repository it is linked to.
    assert_eq!(
        texts(
            &store,
            "SELECT concat_ws(' ', package_type, name, visibility, repository_visibility) FROM packages ORDER BY 1"
        ),
        [
            "container ml-trainer private internal",
            "container payments-api public private",
            "container web-app public public",
            "npm ui-kit internal public"
        ]
    );

    // What the token could not see is recorded with the permission that would fix it, never as a fact.
    let hidden = texts(&store, "SELECT kind || ': ' || reason FROM api_coverage WHERE subject = 'acme-demo/ml-pipeline' AND state = 'not_visible' ORDER BY 1");
    assert_eq!(hidden.len(), 11, "{hidden:?}");
    assert!(
        hidden.iter().any(
            |r| r.starts_with("github.deploy_keys: GitHub answered HTTP 403") && r.contains("Administration: read")
        ),
        "{hidden:?}"
    );
    assert_eq!(count(&store, "SELECT count(*) FROM deploy_keys WHERE repo = 'acme-demo/ml-pipeline'"), 0);
    assert_eq!(summary.not_visible, 12, "ml-pipeline's eleven, and payments-api's log retention (needs admin)");
    assert!(summary.facts > 50, "{summary:?}");
}

#[test]
fn operating_evidence_is_read_once_and_later_runs_start_from_the_watermark() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let first = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    assert_eq!((first.pull_requests, first.workflow_runs, first.deploy_events), (6, 3, 5), "{first:?}");
    assert_eq!(first.audit_events, 6, "two cursor pages of the organisation audit log");
    assert_eq!(count(&store, "SELECT count(*) FROM audit_events WHERE action = 'protected_branch.policy_override'"), 1);
    let asked: Vec<String> = server.received().into_iter().map(|r| r.path).collect();
    assert!(asked.iter().any(|p| p.starts_with("/repositories/") && p.ends_with("&page=2")), "pull pages followed");
    assert!(asked.iter().any(|p| p.contains("/actions/runs?per_page=4&created=%3E%3D")), "{asked:?}");
    assert_eq!(asked.iter().filter(|p| p.contains("/reviews")).count(), 6, "reviews of merged pull requests only");
    assert_eq!(count(&store, "SELECT count(*) FROM merge_requests WHERE number = 103"), 0, "closed unmerged");
    assert_eq!(count(&store, "SELECT count(*) FROM pr_reviews"), 8);
    assert_eq!(count(&store, "SELECT count(*) FROM check_runs"), 13, "the checks on each merged head commit");
    assert_eq!(asked.iter().filter(|p| p.contains("/check-runs")).count(), 6);
    assert_eq!(
        count(&store, "SELECT count(*) FROM collection_watermarks WHERE kind = 'github.operating'"),
        5,
        "not for the repository it cannot see"
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM api_coverage WHERE subject = 'acme-demo/ml-pipeline' AND kind = 'github.pull_requests' AND state = 'not_visible'"),
        1
    );

    let before = server.received().len();
    let second = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    let again: Vec<String> = server.received().into_iter().skip(before).map(|r| r.path).collect();
    assert_eq!(
        again.iter().filter(|p| p.contains("/reviews") || p.contains("/statuses") || p.contains("/check-runs")).count(),
        0,
        "{again:?}"
    );
    assert!(!again.iter().any(|p| p.starts_with("/repositories/")), "older pages are not read again");
    assert_eq!((second.pull_requests, second.deploy_events, second.audit_events), (0, 0, 0), "{second:?}");
    assert!(again.iter().any(|p| p.contains("/audit-log?") && p.contains("phrase=created%3A%3E%3D")), "{again:?}");
    assert_eq!(count(&store, "SELECT count(*) FROM audit_events"), 6, "events are stored once per _document_id");
    assert_eq!(count(&store, "SELECT count(*) FROM deploy_events WHERE source = 'github'"), 5, "nothing twice");
    assert_eq!(count(&store, "SELECT count(*) FROM merge_requests"), 6, "earlier pull requests are kept");
}

#[test]
fn several_organisations_are_collected_each_as_its_own_run() {
    let mut cassette = common::demo_cassette_edited(|_, _| {});
    let second = serde_json::json!([
        { "path": "/orgs/acme-labs", "status": 200,
          "body": { "login": "acme-labs", "two_factor_requirement_enabled": false, "default_repository_permission": "write",
                    "members_can_create_repositories": true } },
        { "path": "/orgs/acme-labs/repos?type=all&per_page=4", "status": 200,
          "body": [ { "full_name": "acme-labs/prototype", "default_branch": "main", "archived": false, "visibility": "private" } ] },
        { "path": "/repos/acme-labs/prototype/branches/main/protection", "status": 404, "body": { "message": "Branch not protected" } }
    ]);
    cassette["interactions"].as_array_mut().unwrap().extend(second.as_array().unwrap().iter().cloned());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server =
        runtime.block_on(ReplayServer::start(Cassette::parse(&cassette.to_string(), "two orgs").unwrap())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("pipeproof.yaml");
    std::fs::write(
        &config_path,
        format!(
            "github:\n  org: acme-demo\n  orgs: [acme-labs, acme-demo]\n  api_url: {}\n  token_env: PIPEPROOF_ORGS_TOKEN\n  per_page: 4\n",
            server.base_url()
        ),
    )
    .unwrap();
    let store_path = dir.path().join("s.duckdb");
    common::pipeproof()
        .env("PIPEPROOF_ORGS_TOKEN", TOKEN)
        .arg("--store")
        .arg(&store_path)
        .arg("--config")
        .arg(&config_path)
        .arg("collect")
        .assert()
        .success();
    let store = Store::open(&store_path).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE command = 'collect github' AND status = 'succeeded'"), 2);
    assert_eq!(texts(&store, "SELECT org FROM org_settings ORDER BY 1"), ["acme-demo", "acme-labs"]);
    assert_eq!(count(&store, "SELECT count(*) FROM repositories WHERE org = 'acme-labs'"), 1);
    assert_eq!(
        count(&store, "SELECT count(*) FROM repositories WHERE org = 'acme-demo'"),
        6,
        "each keeps its snapshot"
    );

    std::fs::write(
        &config_path,
        "github:\n  org: a\n  orgs: [b]\n  app: { app_id: '1', installation_id: 2, private_key: k.pem }\n",
    )
    .unwrap();
    let output = common::pipeproof().arg("--config").arg(&config_path).arg("doctor").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be combined with github.app"));
}

#[test]
fn workflow_runs_beyond_githubs_result_cap_are_read_day_by_day_and_hour_by_hour() {
    // web-app's listing says 1,500 runs match: more than GitHub returns for a filtered listing. The collector reads
    // each day of the window instead; yesterday alone exceeds the cap too, so it is read hour by hour.
    let now = pipeproof::time::now_utc();
    let day = |back: i64| (now - chrono::Duration::days(back)).format("%Y-%m-%d").to_string();
    let listing = "/repos/acme-demo/web-app/actions/runs?per_page=4&created=";
    let run = |id: i64, created: String| {
        serde_json::json!({ "id": id, "run_attempt": 1, "name": "CI", "event": "push", "status": "completed",
                            "conclusion": "success", "created_at": created })
    };
    let page =
        |total: i64, runs: Vec<serde_json::Value>| serde_json::json!({ "total_count": total, "workflow_runs": runs });
    let mut cassette = common::demo_cassette_edited(|path, interaction| {
        if path.starts_with(listing) {
            interaction["path"] = format!("{listing}%3E%3D*").into();
            interaction["body"]["total_count"] = 1500.into();
        }
    });
    let yesterday = day(1);
    let mut slices = vec![
        serde_json::json!({ "path": format!("{listing}{}", day(2)), "status": 200,
                            "body": page(1, vec![run(1, format!("{}T09:00:00Z", day(2)))]) }),
        serde_json::json!({ "path": format!("{listing}{yesterday}"), "status": 200, "body": page(1200, vec![]) }),
        serde_json::json!({ "path": format!("{listing}{}", day(0)), "status": 200, "body": page(0, vec![]) }),
    ];
    for hour in 0..24 {
        let runs = if hour == 13 {
            vec![run(2, format!("{yesterday}T13:05:00Z")), run(3, format!("{yesterday}T13:45:00Z"))]
        } else {
            vec![]
        };
        slices.push(serde_json::json!({
            "path": format!("{listing}{yesterday}T{hour:02}:00:00Z..{yesterday}T{hour:02}:59:59Z"), "status": 200,
            "body": page(runs.len() as i64, runs) }));
    }
    cassette["interactions"].as_array_mut().unwrap().extend(slices);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server =
        runtime.block_on(ReplayServer::start(Cassette::parse(&cassette.to_string(), "capped runs").unwrap())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let config = GithubConfig { operating_days: 2, ..config(server.base_url(), 4) };
    pipeproof::collect::github::collect(&store, &config, Token::new(TOKEN.into()), &TrustPolicy::default()).unwrap();

    let asked: Vec<String> = server.received().into_iter().map(|r| r.path).filter(|p| p.starts_with(listing)).collect();
    assert_eq!(asked.len(), 1 + 3 + 24, "{asked:#?}");
    assert_eq!(
        texts(&store, "SELECT workflow_run_id::VARCHAR FROM workflow_runs WHERE repo = 'acme-demo/web-app' ORDER BY 1"),
        ["1", "2", "3"],
        "the capped listing's own runs are not kept: only the slices, each run once"
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM collection_watermarks WHERE subject = 'acme-demo/web-app'"),
        1,
        "every slice was read, so the window counts as read"
    );
}

#[test]
fn deployment_reviews_are_read_from_the_run_each_deployment_links_to() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();

    // payments-api's status links the run itself; web-app's older status links a job, looked up for its run.
    let paths: Vec<String> = server.received().into_iter().map(|r| r.path).collect();
    assert!(paths.contains(&"/repos/acme-demo/web-app/actions/jobs/88001".to_string()), "{paths:?}");
    assert_eq!(paths.iter().filter(|p| p.ends_with("/approvals")).count(), 2, "{paths:?}");
    assert_eq!(
        texts(
            &store,
            "SELECT format('{} {} run {} {} {} by {}', repo, deployment_id, workflow_run_id, environment, state, reviewer)
             FROM deployment_approvals ORDER BY 1"
        ),
        [
            "acme-demo/payments-api 4401 run 9001 production approved by erin-sre",
            "acme-demo/web-app 4501 run 9100 production approved by zoe-contractor"
        ]
    );
    let hidden = texts(
        &store,
        "SELECT subject FROM api_coverage WHERE fact_table = 'deployment_approvals' AND state <> 'visible'",
    );
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn packages_a_token_may_not_list_are_not_visible_and_the_other_types_are_kept() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime
        .block_on(ReplayServer::start(common::demo_cassette(|path, interaction| {
            if path.starts_with("/orgs/acme-demo/packages?package_type=npm") {
                interaction["status"] = 403.into();
                interaction["body"] = serde_json::json!({ "message": "Resource not accessible by integration" });
            }
        })))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    assert_eq!(
        texts(&store, "SELECT part || ' ' || state FROM api_coverage WHERE fact_table = 'packages' ORDER BY 1"),
        ["container visible", "maven visible", "npm not_visible", "nuget visible", "rubygems visible"]
    );
    let reason = texts(&store, "SELECT reason FROM api_coverage WHERE fact_table = 'packages' AND part = 'npm'");
    assert!(reason[0].contains("HTTP 403") && reason[0].contains("read:packages"), "{reason:?}");
    assert_eq!(count(&store, "SELECT count(*) FROM packages WHERE package_type = 'npm'"), 0);
    assert_eq!(count(&store, "SELECT count(*) FROM packages WHERE package_type = 'container'"), 3);
}

#[test]
fn two_deployments_of_one_run_are_collected_once_each_and_the_run_is_asked_once() {
    // A staging → production workflow: one run makes two deployments, and both statuses link to it.
    let mut cassette = common::demo_cassette_edited(|path, interaction| {
        if path == "/repos/acme-demo/payments-api/deployments?per_page=4" {
            let mut staging = interaction["body"][0].clone();
            staging["id"] = 4400.into();
            staging["environment"] = "staging".into();
            interaction["body"].as_array_mut().unwrap().push(staging);
        }
    });
    let statuses = cassette["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "/repos/acme-demo/payments-api/deployments/4401/statuses?per_page=4")
        .unwrap()
        .clone();
    let mut staging_statuses = statuses;
    staging_statuses["path"] = "/repos/acme-demo/payments-api/deployments/4400/statuses?per_page=4".into();
    cassette["interactions"].as_array_mut().unwrap().push(staging_statuses);
    let cassette = Cassette::parse(&cassette.to_string(), "two deployments of one run").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let asked = || server.received().into_iter().filter(|r| r.path.contains("/actions/runs/9001/approvals")).count();
    for collection in 1..=2 {
        pipeproof::collect::github::collect(
            &store,
            &config(server.base_url(), 4),
            Token::new(TOKEN.into()),
            &TrustPolicy::default(),
        )
        .expect("a run shared by two deployments is no reason to lose the collection");
        if collection == 1 {
            assert_eq!(asked(), 1, "the run's approvals are asked once, not once per deployment");
        }
    }
    assert_eq!(
        texts(&store, "SELECT DISTINCT format('{} {}', deployment_id, reviewer) FROM deployment_approvals ORDER BY 1"),
        ["4400 erin-sre", "4401 erin-sre", "4501 zoe-contractor"]
    );
}

#[test]
fn the_merger_comes_from_the_pull_request_read_alone_and_is_unknown_when_that_is_hidden() {
    // GitHub's pull-request listing (`pull-request-simple`) has no `merged_by`: even a list item that carried one
    // is not believed; the single pull request says who merged it.
    let cassette = common::demo_cassette(|path, interaction| {
        if path.contains("/pulls?") && interaction["status"] == 200 {
            for item in interaction["body"].as_array_mut().unwrap() {
                item["merged_by"] = serde_json::json!({"login": "listing-says"});
            }
        }
        if path == "/repos/acme-demo/payments-api/pulls/104" {
            interaction["status"] = serde_json::json!(403);
            interaction["body"] = serde_json::json!({"message": "Resource not accessible by integration"});
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    let mergers = texts(
        &store,
        "SELECT format('{}#{}={}', repo, number, coalesce(merged_by, 'NULL')) FROM merge_requests ORDER BY ALL",
    );
    assert_eq!(
        mergers,
        [
            "acme-demo/payments-api#101=alice-owner",
            "acme-demo/payments-api#102=alice-owner",
            "acme-demo/payments-api#104=NULL",
            "acme-demo/payments-api#105=alice-owner",
            "acme-demo/web-app#56=alice-owner",
            "acme-demo/web-app#57=alice-owner",
        ]
    );
    drop(store);
    let evaluation = common::evaluate_now(&dir.path().join("s.duckdb"));
    let (_, reason) = common::evaluated_verdict(&evaluation, "SRC-13", "acme-demo/payments-api#104");
    assert!(reason.contains("by a merger not collected"), "{reason}");
}

#[test]
fn a_failing_endpoint_is_incomplete_and_the_rest_of_the_collection_is_stored() {
    // A hostile or failing server: one repository's webhooks rate limited for an hour, the member listing's second
    // page linking back to the first, and the audit log's next page on another origin.
    let cassette = common::demo_cassette(|path, interaction| {
        if path == "/repos/acme-demo/payments-api/hooks?per_page=4" {
            interaction["status"] = serde_json::json!(429);
            interaction["headers"] = serde_json::json!({ "retry-after": "3600" });
            interaction["body"] = serde_json::json!({ "message": "slow down" });
        }
        if path.starts_with("/organizations/90210001/members?role=all") {
            interaction["headers"]["link"] =
                serde_json::json!("<{base}/orgs/acme-demo/members?role=all&per_page=4>; rel=\"next\"");
        }
        if path.starts_with("/orgs/acme-demo/audit-log") && path.ends_with("phrase=*") {
            interaction["headers"]["link"] = serde_json::json!("<https://evil.example/audit?after=x>; rel=\"next\"");
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let summary = pipeproof::collect::github::collect(
        &store,
        &config(server.base_url(), 4),
        Token::new(TOKEN.into()),
        &TrustPolicy::default(),
    )
    .unwrap();
    assert_eq!(summary.incomplete, 3, "{summary:?}");
    assert!(summary.describe("acme-demo").contains("3 not read completely"));
    let incomplete = texts(
        &store,
        "SELECT subject || ' ' || kind || ': ' || reason FROM api_coverage WHERE state = 'incomplete' ORDER BY ALL",
    );
    assert_eq!(incomplete.len(), 3, "{incomplete:#?}");
    assert!(incomplete[0].starts_with("acme-demo github.audit_log") && incomplete[0].contains("off the API origin"));
    assert!(incomplete[1].starts_with("acme-demo github.members") && incomplete[1].contains("loops"));
    assert!(incomplete[2].starts_with("acme-demo/payments-api github.webhooks") && incomplete[2].contains("3600s"));
    assert!(!incomplete.iter().any(|r| r.contains("needs")), "never a permission verdict: {incomplete:#?}");
    // Everything else is there, and the events of the audit-log page read are kept.
    assert_eq!(count(&store, "SELECT count(*) FROM repositories"), 6);
    assert_eq!(count(&store, "SELECT count(*) FROM merge_requests"), 6);
    assert_eq!(count(&store, "SELECT count(*) FROM webhooks WHERE repo = 'acme-demo/web-app'"), 1);
    assert!(count(&store, "SELECT count(*) FROM audit_events") > 0);
    assert_eq!(
        count(&store, "SELECT count(*) FROM collection_watermarks WHERE kind = 'github.audit_log'"),
        0,
        "the audit log is read again from the same point next time"
    );
    drop(store);
    let evaluation = common::evaluate_now(&dir.path().join("s.duckdb"));
    let (status, reason) = common::evaluated_verdict(&evaluation, "SRC-15", "acme-demo/payments-api (webhooks)");
    assert_eq!(status, "unknown", "{reason}");
    assert!(reason.contains("not read completely") && reason.contains("collect again after"), "{reason}");

    let config_path = dir.path().join("pipeproof.yaml");
    let config = format!(
        "github:\n  org: acme-demo\n  api_url: {}\n  token_env: PIPEPROOF_T\n  per_page: 4\n",
        server.base_url()
    );
    std::fs::write(&config_path, config).unwrap();
    let output = common::pipeproof()
        .env("PIPEPROOF_T", TOKEN)
        .arg("--store")
        .arg(dir.path().join("cli.duckdb"))
        .arg("--config")
        .arg(&config_path)
        .arg("collect")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "a partial collection is not a success: {stderr}");
    assert!(stderr.contains("3 answers from acme-demo were not read completely"), "{stderr}");
}
