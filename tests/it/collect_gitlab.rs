//! The GitLab collector over real HTTP against the replay server, on the demo group's recording (bodies from real
//! recorded GitLab answers): pagination, tiers, roles, secrets, rate limits, failures.

use crate::common;

use pipeproof::collect::gitlab::GitlabConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::store::Store;

const TOKEN: &str = "glpat-0123456789SECRETabcd";
/// Secrets the recorded bodies carry (the group's and each project's runner registration token, and the canary
/// every CI/CD variable value of the demo recording carries), which must never be kept.
const RECORDED_SECRETS: [&str; 3] = ["GRnEE2mDc13489411jmS2d5R1XTfM", "b8bc4a7a29eb76ea83cf79e4908c2b", "pp-canary-"];

fn cassette(edit: impl Fn(&str, &mut serde_json::Value)) -> Cassette {
    let path = common::demo_fixtures().join("gitlab/cassette.json");
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for interaction in value["interactions"].as_array_mut().unwrap() {
        let path = interaction["path"].as_str().unwrap().to_string();
        edit(&path, interaction);
    }
    Cassette::parse(&value.to_string(), "edited GitLab demo cassette").unwrap()
}

/// Repository, environment, tier, approvals required, who may deploy, whether self-approval is prevented.
type GuardRow = (String, String, Option<String>, i32, String, Option<bool>);

/// Organisation, repository (none for a group's), name, protected, masked.
type VariableRow = (String, Option<String>, String, Option<bool>, Option<bool>);

/// Repository, protected, merge request required, what weakens review.
type BranchRow = (String, Option<bool>, Option<bool>, Option<String>);

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |row| row.get(0)).unwrap()
}

struct Collected {
    _dir: tempfile::TempDir,
    store: Store,
    server: ReplayServer,
    _runtime: tokio::runtime::Runtime,
    result: anyhow::Result<pipeproof::collect::gitlab::GitlabSummary>,
}

fn collect(cassette: Cassette) -> Collected {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let config =
        GitlabConfig { per_page: 2, concurrency: 3, ..GitlabConfig::for_group("acme-demo", &server.base_url()) };
    let result = pipeproof::collect::gitlab::collect(&store, &config, Token::new(TOKEN.into()));
    Collected { _dir: dir, store, server, _runtime: runtime, result }
}

/// Whether a request is about audit events (or asks who may read them all).
fn is_audit(path: &str) -> bool {
    path.contains("/audit_events") || path == "/user" || path.starts_with("/groups/4242/members/all/")
}

/// Whether a request is about environments or deployments.
fn is_delivery(path: &str) -> bool {
    let sast_search = path.contains("/jobs?");
    !sast_search
        && ["/environments", "/protected_environments", "/deployments", "/pipelines/"]
            .iter()
            .any(|part| path.contains(part))
}

fn nothing_secret_is_stored(store: &Store) {
    for secret in RECORDED_SECRETS.iter().chain([&TOKEN]) {
        let leaked = count(store, &format!("SELECT count(*) FROM blobs WHERE contains(decode(body), '{secret}')"))
            + count(store, &format!("SELECT count(*) FROM evidence WHERE contains(provenance::VARCHAR, '{secret}')"));
        assert_eq!(leaked, 0, "{secret} is never stored");
    }
}

#[test]
fn collects_the_group_its_projects_and_their_protection() {
    let run = collect(cassette(|path, interaction| {
        if path == "/groups/4242/members/all?per_page=2" {
            interaction["body"][1]["two_factor_enabled"] = false.into();
        }
    }));
    let summary = run.result.unwrap();
    assert_eq!(summary.repositories, 5);
    assert_eq!(summary.branches_visible, 3, "{summary:?}");
    assert_eq!(summary.branches_not_visible, 1, "the Reporter project");
    assert_eq!(summary.incomplete, 1, "docs-site's search for a SAST job stops at its five newest pipelines");
    assert!(summary.tier.contains("premium"), "{}", summary.tier);

    let received = run.server.received();
    let paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    assert!(
        paths.contains(
            &"/groups/4242/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc&per_page=2&page=3"
        ),
        "next links followed verbatim: {paths:?}"
    );
    assert!(!paths.iter().any(|p| p.starts_with("/projects/505/")), "archived projects are not asked: {paths:?}");
    let operating = received.iter().filter(|r| r.path.contains("/merge_requests")).count();
    let delivery = received.iter().filter(|r| is_delivery(&r.path)).count();
    assert_eq!(
        delivery,
        1 + 4 * 3 + 7,
        "the group's protected environments; per project its environments, protected environments and deployments; \
         each production deployment and its pipeline (API-made billing has none, the review deployment is skipped)"
    );
    let audit = received.iter().filter(|r| is_audit(&r.path)).count();
    assert_eq!(
        audit,
        2 + 3 + 3 * 3 + 1,
        "who the token's user is and its role; three 30-day windows for the group and each project the token may \
         read, one refused window for the Reporter's project"
    );
    assert_eq!(
        received.len() - operating - delivery - audit,
        3 + 2 + 1 + 3 + 6 * 4 + 1 + 4 + 2 * 4 + (1 + 2 + 3 + 3) + 4 + (3 + 2 + 5) + 1,
        "group, metadata, namespace; two pages of members; group webhooks; three listing pages; six per project; \
         the group's CI/CD variables and each project's; each project's CI configuration and its expansion; \
         CODEOWNERS asked where GitLab looks until found (root, docs/, .gitlab/); each project's newest push; the \
         default branch's newest pipelines, and their jobs until a SAST job succeeded (api-gateway: the second; \
         docs-site: all five; storefront has none; billing's configuration has no SAST job: not asked); the billable \
         members"
    );
    assert_eq!(operating, 4 + 3 * 3, "a merge-request listing per project, then three requests per merge request");
    for request in &received {
        assert_eq!(request.headers.get("authorization").map(String::as_str), Some(format!("Bearer {TOKEN}").as_str()));
        assert!(!request.headers.contains_key("x-github-api-version"));
        assert!(!request.path.contains(TOKEN));
    }

    let store = &run.store;
    assert_eq!(count(store, "SELECT count(*) FROM repositories_history WHERE org = 'gitlab:acme-demo'"), 5);
    assert_eq!(
        count(store, "SELECT count(*) FROM repositories WHERE forge = 'gitlab' AND repo LIKE 'gitlab:acme-demo/%'"),
        5
    );
    assert_eq!(
        count(
            store,
            "SELECT count(*) FROM org_settings WHERE org = 'gitlab:acme-demo' AND two_factor_requirement_enabled"
        ),
        1
    );
    let protected: Vec<BranchRow> = store
        .conn()
        .prepare("SELECT repo, protected, pull_request_required, review_weakened_by FROM branch_rules ORDER BY repo")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(protected.len(), 4, "{protected:?}");
    assert_eq!(protected[0], ("gitlab:acme-demo/platform/api-gateway".into(), Some(true), Some(true), None));
    assert_eq!(protected[1].0, "gitlab:acme-demo/platform/billing");
    assert!(protected[1].3.as_deref().unwrap().contains("approve their own"));
    assert_eq!((protected[3].1, protected[3].2), (Some(false), Some(false)), "{:?}", protected[3]);
    assert!(protected[3].3.as_deref().unwrap().contains("change the approval rules"));
    assert_eq!(
        count(store, "SELECT count(*) FROM api_coverage WHERE subject = 'gitlab:acme-demo/web/docs-site' AND state = 'not_visible'"),
        13,
        "protected branches, approvals, approval rules, push rule, deploy keys, webhooks, merge checks, merge \
         requests, protected environments, CI/CD variables, the CI configuration's expansion, what its includes \
         hold and audit events: each with the role it needs"
    );
    assert_eq!(
        count(
            store,
            "SELECT count(*) FROM evidence WHERE kind = 'gitlab.projects' AND (provenance->>'pagination_complete') = 'true'"
        ),
        3,
        "each of the listing's three pages says the listing was read whole"
    );
    assert_eq!(
        count(
            store,
            "SELECT count(*) FROM evidence WHERE kind LIKE 'gitlab.%' AND (provenance->>'api_version') = 'v4'"
        ),
        count(store, "SELECT count(*) FROM evidence WHERE kind LIKE 'gitlab.%'")
    );
    assert!(count(store, "SELECT count(*) FROM evidence WHERE (provenance->>'secrets_removed') IS NOT NULL") >= 4);
    assert_eq!(
        count(store, "SELECT count(*) FROM collection_runs WHERE org = 'gitlab:acme-demo' AND source = 'gitlab'"),
        1
    );
    assert_eq!(count(store, "SELECT count(*) FROM deploy_keys WHERE repo LIKE 'gitlab:%' AND NOT read_only"), 1);
    let people = "SELECT string_agg(relation || ' ' || login, ', ' ORDER BY relation, login) FROM org_people \
                  WHERE org = 'gitlab:acme-demo' AND user_type = 'User'";
    let people: String = store.conn().query_row(people, [], |row| row.get(0)).unwrap();
    assert_eq!(people, "member alice, member dave, member_2fa_disabled dave, owner alice");
    assert_eq!(count(store, "SELECT count(*) FROM webhooks WHERE org = 'gitlab:acme-demo' AND repo IS NULL"), 1);
    let sast = "SELECT string_agg(format('{} {} {}', repo, tool, ref), ', ') FROM code_scanning_analyses \
                WHERE repo LIKE 'gitlab:%' AND error IS NULL AND created_at IS NOT NULL";
    let sast: String = store.conn().query_row(sast, [], |row| row.get(0)).unwrap();
    assert_eq!(
        sast, "gitlab:acme-demo/platform/api-gateway semgrep-sast refs/heads/main",
        "only the job with a report"
    );
    let active = "SELECT string_agg(login, ', ' ORDER BY last_active_on DESC) FROM member_activity \
                  WHERE org = 'gitlab:acme-demo' AND last_active_on IS NOT NULL AND last_sign_in_at IS NOT NULL";
    let active: String = store.conn().query_row(active, [], |row| row.get(0)).unwrap();
    assert_eq!(active, "alice, dave", "the billable members' activity dates, the newest first");
    let searched = "SELECT string_agg(subject || ' ' || state, ', ' ORDER BY subject) FROM api_coverage \
                    WHERE kind = 'gitlab.sast_runs'";
    let searched: String = store.conn().query_row(searched, [], |row| row.get(0)).unwrap();
    assert_eq!(
        searched,
        "gitlab:acme-demo/platform/api-gateway visible, gitlab:acme-demo/platform/billing visible, \
         gitlab:acme-demo/web/docs-site incomplete, gitlab:acme-demo/web/storefront visible"
    );
    nothing_secret_is_stored(store);
}

#[test]
fn a_free_group_is_not_asked_for_premium_features_and_they_are_off_with_the_tier_named() {
    let run = collect(cassette(|path, interaction| {
        if path == "/namespaces/acme-demo" {
            interaction["body"]["plan"] = "free".into();
        }
    }));
    let summary = run.result.unwrap();
    assert!(summary.tier.contains("Free"), "{}", summary.tier);
    let paths: Vec<String> = run.server.received().into_iter().map(|r| r.path).collect();
    let state: Vec<&String> =
        paths.iter().filter(|p| !p.contains("/merge_requests") && !is_delivery(p) && !is_audit(p)).collect();
    assert!(!paths.iter().any(|p| is_audit(p)), "GitLab Free has no audit events: not asked");
    assert!(!state
        .iter()
        .any(|p| p.contains("/approvals") || p.contains("/approval_rules") || p.contains("/push_rule")));
    let delivery: Vec<&String> = paths.iter().filter(|p| is_delivery(p)).collect();
    assert_eq!(delivery.len(), 4 * 2, "environments and deployments per project, nothing Premium: {delivery:?}");
    assert!(delivery.iter().all(|p| !p.contains("protected_environments") && !p.contains("/pipelines/")));
    assert_eq!(
        state.len(),
        3 + 2 + 3 + 3 * 4 + 1 + 4 + 2 * 4 + (1 + 2 + 3 + 3) + 4 + (3 + 2 + 5) + 1,
        "members but no group webhooks; protected branches, deploy keys, webhooks per project; CI/CD variables, \
         CI configurations, CODEOWNERS, the newest push and the default branch's pipelines searched for a SAST job \
         (every tier; not billing's, whose configuration has none); the billable members"
    );
    let off = count(
        &run.store,
        "SELECT count(*) FROM api_coverage WHERE kind IN ('gitlab.approvals', 'gitlab.push_rule') \
         AND state = 'feature_off' AND reason LIKE 'GitLab Free%'",
    );
    assert_eq!(off, 8, "two features for each of the four unarchived projects");
    let environments_off = count(
        &run.store,
        "SELECT count(*) FROM api_coverage WHERE kind IN ('gitlab.protected_environments', \
         'gitlab.group_protected_environments', 'gitlab.deployment_approvals') \
         AND state = 'feature_off' AND reason LIKE 'GitLab Free%'",
    );
    assert_eq!(environments_off, 4 + 1 + 5, "per project, for the group, per deployment");
    let audit_off = count(
        &run.store,
        "SELECT count(*) FROM api_coverage WHERE kind = 'gitlab.audit_events' AND state = 'feature_off'",
    );
    assert_eq!(audit_off, 1);
    assert_eq!(count(&run.store, "SELECT count(*) FROM environments WHERE repo LIKE 'gitlab:%'"), 5);
}

#[test]
fn an_unknown_tier_makes_a_forbidden_premium_answer_not_visible_never_off() {
    let run = collect(cassette(|path, interaction| {
        if path == "/namespaces/acme-demo" {
            *interaction =
                serde_json::json!({"path": path, "status": 404, "body": {"message": "404 Namespace Not Found"}});
        }
        if path == "/projects/501/push_rule" {
            *interaction = serde_json::json!({"path": path, "status": 404, "body": {"message": "404 Not found"}});
        }
    }));
    run.result.unwrap();
    let reason: String = run
        .store
        .conn()
        .query_row(
            "SELECT state || ': ' || reason FROM api_coverage WHERE kind = 'gitlab.push_rule' \
             AND subject = 'gitlab:acme-demo/platform/api-gateway'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(reason.starts_with("not_visible: GitLab answered HTTP 404"), "{reason}");
    assert!(reason.contains("needs GitLab Premium"), "{reason}");
}

#[test]
fn rate_limits_with_plain_text_bodies_and_server_errors_are_retried() {
    let path = "/projects/501/protected_branches?per_page=2";
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::demo_fixtures().join("gitlab/cassette.json")).unwrap())
            .unwrap();
    let interactions = value["interactions"].as_array_mut().unwrap();
    let at = interactions.iter().position(|i| i["path"] == path).unwrap();
    // GitLab's throttle answers in plain text, without RateLimit-* headers; then the server fails once.
    let failures = [
        serde_json::json!({"path": path, "status": 429, "times": 1,
                           "headers": {"retry-after": "0", "content-type": "text/plain"}, "text": "Retry later"}),
        serde_json::json!({"path": path, "status": 502, "times": 1, "body": {"message": "502 Bad Gateway"}}),
    ];
    for (offset, failure) in failures.into_iter().enumerate() {
        interactions.insert(at + offset, failure);
    }
    let run = collect(Cassette::parse(&value.to_string(), "with a 429 and a 502").unwrap());
    let summary = run.result.unwrap();
    assert_eq!(summary.incomplete, 1, "only docs-site's search for a SAST job, cut at five pipelines");
    assert_eq!(summary.branches_visible, 3);
    let asked = run.server.received().iter().filter(|r| r.path == path).count();
    assert_eq!(asked, 3, "asked again after the 429 and after the 502");
}

#[test]
fn a_server_that_keeps_failing_leaves_that_answer_incomplete_and_the_rest_stored() {
    let run = collect(cassette(|path, interaction| {
        if path == "/projects/502/approvals" || path == "/groups/4242/members/all?per_page=2&page=2" {
            *interaction =
                serde_json::json!({"path": path, "status": 503, "body": {"message": "503 Service Unavailable"}});
        }
    }));
    let summary = run.result.unwrap();
    assert_eq!(
        summary.incomplete, 3,
        "the approvals, the members listing cut short at its second page, and docs-site's SAST search"
    );
    let cut = count(
        &run.store,
        "SELECT count(*) FROM evidence WHERE kind = 'gitlab.members' AND (provenance->>'pagination_complete') = 'false'",
    );
    assert_eq!(cut, 2, "the page read says it belongs to a listing cut short, as the failed one does");
    let state: String = run
        .store
        .conn()
        .query_row(
            "SELECT state FROM api_coverage WHERE kind = 'gitlab.approvals' AND subject = 'gitlab:acme-demo/platform/billing'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(state, "incomplete");
    let visible: bool = run
        .store
        .conn()
        .query_row("SELECT visible FROM branch_rules WHERE repo = 'gitlab:acme-demo/platform/billing'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert!(!visible, "a branch whose approvals were not read is not judged as if they were");
}

#[test]
fn a_rejected_token_or_a_partial_project_listing_stores_nothing() {
    let rejected = collect(cassette(|path, interaction| {
        if path == "/groups/acme-demo?with_projects=false" {
            *interaction = serde_json::json!({"path": path, "status": 401, "body": {"message": "401 Unauthorized"}});
        }
    }));
    let message = format!("{:#}", rejected.result.unwrap_err());
    assert!(message.contains("HTTP 401") && message.contains("gitlab.token_env"), "{message}");
    assert!(!message.contains(TOKEN));
    assert_eq!(count(&rejected.store, "SELECT count(*) FROM evidence"), 0);
    assert_eq!(count(&rejected.store, "SELECT count(*) FROM runs WHERE status = 'failed'"), 1);

    let partial = collect(cassette(|path, interaction| {
        if path.ends_with("&page=2") {
            *interaction =
                serde_json::json!({"path": path, "status": 500, "body": {"message": "500 Internal Server Error"}});
        }
    }));
    let message = format!("{:#}", partial.result.unwrap_err());
    assert!(message.contains("partial inventory") && message.contains("page 2"), "{message}");
    assert_eq!(count(&partial.store, "SELECT count(*) FROM repositories_history"), 0);
}

#[test]
fn merged_merge_requests_come_with_their_dated_approvals_and_pipelines_and_a_second_run_resumes() {
    let run = collect(cassette(|_, _| {}));
    let summary = run.result.unwrap();
    assert_eq!(summary.merge_requests, 3);
    let store = &run.store;
    assert_eq!(count(store, "SELECT count(*) FROM merge_requests WHERE source = 'gitlab' AND repo LIKE 'gitlab:%'"), 3);
    let (reviewer, on_final): (String, bool) = store
        .conn()
        .query_row(
            "SELECT reviewer, commit_id = m.head_sha FROM pr_reviews v JOIN merge_requests m USING (repo, number) \
             WHERE v.repo = 'gitlab:acme-demo/platform/api-gateway' AND v.number = 11 AND v.state = 'APPROVED' \
             AND v.submitted_at < m.merged_at",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((reviewer.as_str(), on_final), ("bob", true), "approved after the last push, before the merge");
    assert_eq!(
        count(store, "SELECT count(*) FROM check_runs WHERE name LIKE 'pipeline must succeed%' AND app = 'gitlab-ci'"),
        3
    );
    assert_eq!(
        count(
            store,
            "SELECT count(*) FROM api_coverage WHERE kind = 'gitlab.merge_requests' AND state = 'not_visible'"
        ),
        1,
        "the Reporter project's listing"
    );
    assert_eq!(
        count(store, "SELECT count(*) FROM collection_watermarks WHERE kind = 'gitlab.merge_requests'"),
        3,
        "the three projects read whole; the one not visible is read from the start again next time"
    );

    let first_requests = run.server.received().len();
    let config = GitlabConfig { per_page: 2, ..GitlabConfig::for_group("acme-demo", &run.server.base_url()) };
    pipeproof::collect::gitlab::collect(store, &config, Token::new(TOKEN.into())).unwrap();
    let listings: Vec<String> = run
        .server
        .received()
        .into_iter()
        .skip(first_requests)
        .filter(|r| r.path.contains("/merge_requests?"))
        .map(|r| r.path)
        .collect();
    let day = |hours_ago: i64| (chrono::Utc::now() - chrono::Duration::hours(hours_ago)).format("%Y-%m-%d").to_string();
    let resumed = |project: &str| listings.iter().find(|p| p.starts_with(&format!("/projects/{project}/"))).unwrap();
    assert!(resumed("501").contains(&format!("updated_after={}", day(24))), "a day's overlap: {listings:?}");
    assert!(resumed("504").contains(&format!("updated_after={}", day(90 * 24))), "from the start: {listings:?}");
    nothing_secret_is_stored(store);
}

#[test]
fn an_ingested_merge_request_list_cannot_hide_a_collected_merge_request() {
    let run = collect(cassette(|_, _| {}));
    run.result.unwrap();
    let store = &run.store;
    // A real recorded GitLab merge-request list, edited to name a collected merge request and move its merge out of
    // any period.
    let path = common::samples().join("gitlab/argocd-testdata-gitlab_mr_list_response.json");
    let mut list: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    list[0]["references"] = serde_json::json!({"full": "gitlab:acme-demo/platform/billing!7"});
    list[0]["iid"] = 7.into();
    list[0]["merged_at"] = "2001-01-01T00:00:00Z".into();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mrs.json");
    std::fs::write(&file, list.to_string()).unwrap();
    let run_id = store.start_run("ingest").unwrap();
    let outcome = pipeproof::ingest::ingest_file(store, run_id, &file, &Default::default());
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let merged: String = store
        .conn()
        .query_row(
            "SELECT strftime(merged_at, '%Y') FROM merge_requests \
             WHERE repo = 'gitlab:acme-demo/platform/billing' AND number = 7 AND org IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_ne!(merged, "2001", "the collected row stands beside the ingested one");
    assert_eq!(count(store, "SELECT count(*) FROM merge_requests WHERE repo = 'gitlab:acme-demo/platform/billing'"), 2);
}

#[test]
fn environments_and_deployments_come_with_their_guards_approvals_and_pipelines_and_each_deployment_is_kept_once() {
    let run = collect(cassette(|_, _| {}));
    let summary = run.result.unwrap();
    assert_eq!(summary.deployments, 5);
    let store = &run.store;
    let guards: Vec<GuardRow> = store
        .conn()
        .prepare(
            "SELECT repo, environment, tier, required_reviewers, branch_policy, prevent_self_review FROM environments \
             WHERE repo LIKE 'gitlab:%' ORDER BY repo, environment",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let gateway = "gitlab:acme-demo/platform/api-gateway";
    assert_eq!(guards.len(), 4, "docs-site's protection is hidden from a Reporter: no rows, {guards:?}");
    assert_eq!(
        guards[0],
        (gateway.into(), "production".into(), Some("production".into()), 1, "deployers".into(), Some(true))
    );
    assert_eq!((guards[2].1.as_str(), guards[2].3, guards[2].4.as_str()), ("prod", 0, "any"), "billing: unprotected");
    assert_eq!(
        (guards[3].4.as_str(), guards[3].5),
        ("any", Some(false)),
        "storefront: developers deploy, self-approval"
    );
    assert_eq!(
        count(store, "SELECT count(*) FROM api_coverage WHERE kind = 'gitlab.protected_environments' AND state = 'not_visible' AND reason LIKE '%Maintainer%'"),
        1
    );
    assert_eq!(count(store, "SELECT count(*) FROM deploy_events WHERE source = 'gitlab'"), 5);
    let approvals: Vec<(String, i64, String)> = store
        .conn()
        .prepare(
            "SELECT a.reviewer, a.deployment_id, w.actor FROM deployment_approvals a \
             JOIN workflow_runs w ON w.repo = a.repo AND w.workflow_run_id = a.workflow_run_id \
             WHERE a.repo LIKE 'gitlab:%' ORDER BY a.deployment_id",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        approvals,
        [
            ("bob".into(), 5101, "carol".into()),
            ("dave".into(), 5301, "dave".into()),
            ("grace".into(), 5401, "frank".into())
        ],
        "each approval beside who started the pipeline"
    );
    let review: String = store
        .conn()
        .query_row(
            "SELECT state || ': ' || reason FROM api_coverage WHERE subject = ? || '/deployments/5102' \
             AND kind = 'gitlab.deployment_approvals'",
            [gateway],
            |row| row.get(0),
        )
        .unwrap();
    assert!(review.contains("tier is development"), "a review app's deployment is not read one by one: {review}");
    assert_eq!(count(store, "SELECT count(*) FROM collection_watermarks WHERE kind = 'gitlab.deployments'"), 4);
    nothing_secret_is_stored(store);

    // The next run: billing's deployment has failed since, and a deployment whose job never started was cancelled.
    let started = run.server.received().len();
    let next = cassette(|path, interaction| {
        if path.starts_with("/projects/502/deployments?") {
            let mut failed = interaction["body"][0].clone();
            failed["status"] = "failed".into();
            let mut cancelled = failed.clone();
            cancelled["id"] = 5202.into();
            cancelled["status"] = "canceled".into();
            cancelled["deployable"] = serde_json::json!({"id": 52020, "status": "canceled", "started_at": null,
                                                          "pipeline": {"id": 50202}});
            interaction["body"] = serde_json::json!([failed, cancelled]);
        }
    });
    let server = run._runtime.block_on(ReplayServer::start(next)).unwrap();
    let config = GitlabConfig { per_page: 2, ..GitlabConfig::for_group("acme-demo", &server.base_url()) };
    let second = pipeproof::collect::gitlab::collect(store, &config, Token::new(TOKEN.into()));
    assert!(second.is_ok(), "{second:?}");
    let outcomes: Vec<(String, String)> = store
        .conn()
        .prepare(
            "SELECT event_key, outcome FROM deploy_events_history WHERE service = 'gitlab:acme-demo/platform/billing' \
             ORDER BY event_key",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let billing = "gitlab:acme-demo/platform/billing/deployments/";
    assert_eq!(
        outcomes,
        [(format!("{billing}5201"), "failed".into()), (format!("{billing}5202"), "never ran (canceled)".into())],
        "each deployment kept once, as last read"
    );
    let listing = server.received().into_iter().find(|r| r.path.starts_with("/projects/502/deployments?")).unwrap();
    let from = listing.path.split("updated_after=").nth(1).and_then(|rest| rest.get(..10)).unwrap();
    let from = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
    let days = (chrono::Utc::now().date_naive() - from).num_days();
    assert!(days <= 2, "resumed from the watermark (with its overlap), not from 90 days back: {}", listing.path);
    assert!(started > 0);
}

#[test]
fn ci_variables_holding_secrets_are_kept_by_name_and_settings_never_by_value() {
    let run = collect(cassette(|_, _| {}));
    run.result.unwrap();
    let store = &run.store;
    let variables: Vec<VariableRow> = store
        .conn()
        .prepare(
            "SELECT org, repo, name, protected, masked FROM actions_secrets WHERE org LIKE 'gitlab:%' \
             ORDER BY repo NULLS FIRST, name",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = variables.iter().map(|v| v.2.as_str()).collect();
    assert_eq!(
        names,
        ["NPM_TOKEN", "REGISTRY_PASSWORD", "SONAR_TOKEN", "LEGACY_DEPLOY_TOKEN", "STRIPE_API_KEY"],
        "the group's first; LOG_LEVEL is a plain setting, not a secret"
    );
    assert_eq!(variables[1].4, Some(true), "a hidden variable is masked");
    assert_eq!((variables[3].3, variables[3].4), (None, None), "GitLab sent nothing but its key and value");
    assert_eq!((variables[4].3, variables[4].4), (Some(false), Some(false)));
    let hidden: String = store
        .conn()
        .query_row(
            "SELECT reason FROM api_coverage WHERE kind = 'gitlab.variables' AND subject = 'gitlab:acme-demo/web/docs-site'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(hidden.contains("Maintainer"), "{hidden}");
    let removed = count(
        store,
        "SELECT count(*) FROM evidence WHERE kind IN ('gitlab.variables', 'gitlab.group_variables') \
         AND provenance::VARCHAR LIKE '%secrets_removed%'",
    );
    assert_eq!(removed, 3, "the group's and two projects' listings said what was taken out");
    nothing_secret_is_stored(store);
}

#[test]
fn ci_configurations_are_read_with_gitlabs_expansion_and_a_file_whose_includes_are_not_expanded_is_not_known_whole() {
    let run = collect(cassette(|_, _| {}));
    run.result.unwrap();
    let store = &run.store;
    let files: Vec<(String, Option<bool>, Option<i32>)> = store
        .conn()
        .prepare("SELECT repo, parsed, jobs FROM workflows WHERE repo LIKE 'gitlab:%' ORDER BY repo")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "gitlab:acme-demo/platform/api-gateway",
            "gitlab:acme-demo/platform/billing",
            "gitlab:acme-demo/web/docs-site"
        ],
        "storefront has no .gitlab-ci.yml"
    );
    assert_eq!(files[0].2, Some(3), "jobs counted in GitLab's merged configuration, includes and templates expanded");
    let used: Vec<(String, String, bool)> = store
        .conn()
        .prepare(
            "SELECT uses, kind, pinned FROM workflow_actions WHERE repo = 'gitlab:acme-demo/platform/billing' ORDER BY uses",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(used.len(), 5, "the component, the images and the jobs of the merged configuration: {used:?}");
    assert!(used.contains(&("node:20".into(), "docker".into(), false)));
    assert!(used.contains(&("job:deploy".into(), "job".into(), true)));
    let may_fail: String = store
        .conn()
        .query_row(
            "SELECT continue_on_error FROM workflow_actions WHERE repo = 'gitlab:acme-demo/platform/api-gateway' \
             AND uses = 'job:gemnasium-dependency_scanning'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(may_fail, "true", "the template's allow_failure, read from the merged configuration");
    assert!(used.iter().any(|u| u.1 == "component" && !u.2));
    let gap: String = store
        .conn()
        .query_row(
            "SELECT reason FROM api_coverage WHERE kind = 'gitlab.ci_includes' AND subject = 'gitlab:acme-demo/web/docs-site'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(gap.contains("were not read") && gap.contains("HTTP 403"), "{gap}");
    let absent: String = store
        .conn()
        .query_row(
            "SELECT state FROM api_coverage WHERE kind = 'gitlab.ci_config' AND subject = 'gitlab:acme-demo/web/storefront'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(absent, "visible", "a 404 File Not Found says there is none: that is seen");

    // A child pipeline's configuration is not part of GitLab's expansion: the configuration is not known whole.
    let child = collect(cassette(|path, interaction| {
        if path == "/projects/502/ci/lint?content_ref=main&dry_run=false" {
            let merged = interaction["body"]["merged_yaml"].as_str().unwrap().to_string();
            interaction["body"]["merged_yaml"] =
                format!("{merged}:release:\n  :trigger:\n    :include: ci/release.yml\n").into();
        }
    }));
    child.result.unwrap();
    let gap: String = child
        .store
        .conn()
        .query_row(
            "SELECT state || ': ' || reason FROM api_coverage WHERE kind = 'gitlab.ci_includes' \
             AND subject = 'gitlab:acme-demo/platform/billing'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        gap.starts_with("not_visible") && gap.contains("child pipelines") && gap.contains("ci/release.yml"),
        "{gap}"
    );
}

#[test]
fn audit_events_are_read_in_windows_once_each_and_a_group_read_by_a_non_owner_is_not_visible() {
    let run = collect(cassette(|_, _| {}));
    let summary = run.result.unwrap();
    assert_eq!(summary.audit_events, 2, "each kept once though every window answers it");
    let store = &run.store;
    let change: (String, String, String) = store
        .conn()
        .query_row(
            "SELECT action, target, actor FROM audit_events WHERE source = 'gitlab' AND event_key = 'gitlab:90211'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        change,
        (
            "change prevent merge request approval from authors".into(),
            "acme-demo/platform/billing".into(),
            "Erin".into()
        )
    );
    let windows: Vec<String> = run
        .server
        .received()
        .into_iter()
        .filter(|r| r.path.starts_with("/groups/4242/audit_events"))
        .map(|r| r.path)
        .collect();
    assert_eq!(windows.len(), 3, "{windows:?}");
    assert!(windows.iter().all(|w| w.contains("pagination=keyset")));
    assert_eq!(count(store, "SELECT count(*) FROM collection_watermarks WHERE kind = 'gitlab.audit_events'"), 4);
    let hidden: String = store
        .conn()
        .query_row(
            "SELECT reason FROM api_coverage WHERE kind = 'gitlab.audit_events' AND subject = 'gitlab:acme-demo/web/docs-site'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(hidden.contains("Maintainer"), "{hidden}");

    let maintainer = collect(cassette(|path, interaction| {
        if path == "/groups/4242/members/all/9001" {
            interaction["body"]["access_level"] = 40.into();
        }
    }));
    maintainer.result.unwrap();
    let asked = maintainer.server.received().iter().filter(|r| r.path.starts_with("/groups/4242/audit_events")).count();
    assert_eq!(asked, 0, "a listing that would hold only the token's own actions is not asked");
    let reason: String = maintainer
        .store
        .conn()
        .query_row(
            "SELECT state || ': ' || reason FROM api_coverage WHERE kind = 'gitlab.audit_events' AND subject = 'gitlab:acme-demo'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(reason.starts_with("not_visible") && reason.contains("Owners"), "{reason}");
}

#[test]
fn codeowners_is_found_where_gitlab_looks_and_checked_as_gitlab_parses_it() {
    let run = collect(cassette(|_, _| {}));
    run.result.unwrap();
    let rows: Vec<(String, bool, i32)> = run
        .store
        .conn()
        .prepare("SELECT repo, present, errors FROM codeowners WHERE repo LIKE 'gitlab:%' ORDER BY repo")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let seen: Vec<(&str, bool, i32)> = rows.iter().map(|(r, p, e)| (r.as_str(), *p, *e)).collect();
    assert_eq!(
        seen,
        [
            ("gitlab:acme-demo/platform/api-gateway", true, 0),
            ("gitlab:acme-demo/platform/billing", true, 1),
            ("gitlab:acme-demo/web/docs-site", false, 0),
            ("gitlab:acme-demo/web/storefront", false, 0),
        ],
        "billing's docs/CODEOWNERS has an entry without owners; the others have none anywhere"
    );
    let asked: Vec<String> = run
        .server
        .received()
        .into_iter()
        .filter(|r| r.path.starts_with("/projects/501/repository/files/") && r.path.contains("CODEOWNERS"))
        .map(|r| r.path)
        .collect();
    assert_eq!(asked.len(), 1, "found at the root: not asked further: {asked:?}");
}
