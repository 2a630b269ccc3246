-- GitHub evidence beyond settings and classic protection: people, rulesets, Actions, environments, workflows,
-- integrations and alerts. Each API answer also leaves a row in api_coverage_history saying whether the token could
-- see it; a snapshot with no rows (no deploy keys) then still replaces an older one.

ALTER TABLE repositories_history ADD COLUMN security_and_analysis_visible BOOLEAN;
ALTER TABLE repositories_history ADD COLUMN advanced_security VARCHAR;
ALTER TABLE repositories_history ADD COLUMN secret_scanning VARCHAR;
ALTER TABLE repositories_history ADD COLUMN secret_scanning_push_protection VARCHAR;
ALTER TABLE repositories_history ADD COLUMN dependabot_security_updates VARCHAR;
ALTER TABLE repositories_history ADD COLUMN allow_forking BOOLEAN;

-- Whether each kind of API evidence was visible for a subject (org or owner/repo) in a run.
CREATE TABLE api_coverage_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    subject          VARCHAR NOT NULL,     -- the org, or owner/repo
    kind             VARCHAR NOT NULL,     -- evidence kind, e.g. github.deploy_keys
    fact_table       VARCHAR NOT NULL,     -- the fact view it feeds
    part             VARCHAR NOT NULL,     -- which slice of that view (e.g. the people list, the alert tool); '' when whole
    state            VARCHAR NOT NULL,     -- visible | not_visible | feature_off
    reason           VARCHAR,
    complete         BOOLEAN NOT NULL      -- every page was read
);

-- The latest collection's coverage per subject and kind; when one of its answers (e.g. one workflow file of several)
-- was not visible, that one is shown.
CREATE VIEW api_coverage AS
SELECT * EXCLUDE (run_id) FROM api_coverage_history
WHERE observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
QUALIFY row_number() OVER (PARTITION BY org, subject, kind
                           ORDER BY run_id DESC, state = 'visible', observed_at DESC) = 1;

CREATE TABLE org_people_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    relation         VARCHAR NOT NULL,     -- member | owner | member_2fa_disabled | outside_collaborator | outside_collaborator_2fa_disabled
    login            VARCHAR NOT NULL,
    user_type        VARCHAR,              -- User | Bot
    site_admin       BOOLEAN
);

CREATE VIEW org_people AS
SELECT * EXCLUDE (run_id) FROM org_people_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'org_people' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = h.relation
        UNION ALL
        SELECT y.run_id, y.observed_at FROM org_people_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo AND y.relation = h.relation) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE rulesets_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    ruleset_id       BIGINT NOT NULL,
    name             VARCHAR,
    target           VARCHAR,              -- branch | tag | push
    source_type      VARCHAR,              -- Repository | Organization | Enterprise
    source           VARCHAR,
    enforcement      VARCHAR,              -- active | evaluate | disabled
    bypass_actors    VARCHAR[],            -- '<actor_type> <actor_id> (<bypass_mode>)'
    include_refs     VARCHAR[],
    exclude_refs     VARCHAR[],
    rule_types       VARCHAR[]
);

CREATE VIEW rulesets AS
SELECT * EXCLUDE (run_id) FROM rulesets_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'rulesets' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM rulesets_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE repo_collaborators_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    login            VARCHAR NOT NULL,
    permission       VARCHAR,              -- admin | maintain | write | triage | read (or a custom role)
    is_admin         BOOLEAN
);

CREATE VIEW repo_collaborators AS
SELECT * EXCLUDE (run_id) FROM repo_collaborators_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'repo_collaborators' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM repo_collaborators_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE deploy_keys_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    key_id           BIGINT NOT NULL,
    title            VARCHAR,
    read_only        BOOLEAN,
    verified         BOOLEAN,
    created_at       TIMESTAMP,
    last_used        TIMESTAMP
);

CREATE VIEW deploy_keys AS
SELECT * EXCLUDE (run_id) FROM deploy_keys_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'deploy_keys' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM deploy_keys_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE webhooks_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    hook_id          BIGINT NOT NULL,
    active           BOOLEAN,
    events           VARCHAR[],
    url_scheme       VARCHAR,              -- https | http (the URL itself is not copied: it may carry credentials)
    url_host         VARCHAR,
    insecure_ssl     BOOLEAN,
    secret_set       BOOLEAN,
    content_type     VARCHAR
);

CREATE VIEW webhooks AS
SELECT * EXCLUDE (run_id) FROM webhooks_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'webhooks' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM webhooks_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE actions_permissions_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    enabled          BOOLEAN,
    enabled_repositories VARCHAR,          -- organisation level: all | none | selected
    allowed_actions  VARCHAR,              -- all | local_only | selected
    sha_pinning_required BOOLEAN
);

CREATE VIEW actions_permissions AS
SELECT * EXCLUDE (run_id) FROM actions_permissions_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'actions_permissions' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM actions_permissions_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE workflow_token_permissions_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    default_workflow_permissions VARCHAR,  -- read | write
    can_approve_pull_request_reviews BOOLEAN
);

CREATE VIEW workflow_token_permissions AS
SELECT * EXCLUDE (run_id) FROM workflow_token_permissions_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'workflow_token_permissions' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM workflow_token_permissions_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE environments_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    environment      VARCHAR NOT NULL,
    required_reviewers INTEGER NOT NULL,   -- reviewer entries (users or teams) that must approve
    reviewers        VARCHAR[],
    prevent_self_review BOOLEAN,
    wait_timer       INTEGER,
    branch_policy    VARCHAR NOT NULL,     -- any | protected_branches | custom
    can_admins_bypass BOOLEAN
);

CREATE VIEW environments AS
SELECT * EXCLUDE (run_id) FROM environments_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'environments' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM environments_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE workflows_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    path             VARCHAR NOT NULL,
    name             VARCHAR,
    state            VARCHAR,              -- active | disabled_manually | ...
    parsed           BOOLEAN NOT NULL,
    parse_error      VARCHAR,
    triggers         VARCHAR[],
    top_level_permissions VARCHAR,         -- as written: read-all | write-all | {…} (NULL when absent)
    jobs             INTEGER,
    jobs_without_permissions INTEGER,      -- jobs that inherit the default token permissions
    write_all        BOOLEAN,
    pull_request_target BOOLEAN
);

CREATE VIEW workflows AS
SELECT * EXCLUDE (run_id) FROM workflows_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'workflows' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM workflows_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE workflow_actions_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    path             VARCHAR NOT NULL,
    job              VARCHAR,
    uses             VARCHAR NOT NULL,
    action           VARCHAR NOT NULL,     -- owner/repo[/path], ./local, docker://image
    ref              VARCHAR,
    kind             VARCHAR NOT NULL,     -- action | reusable_workflow | docker | local
    pinned           BOOLEAN NOT NULL      -- a full commit SHA (or an image digest); local actions count as pinned
);

CREATE VIEW workflow_actions AS
SELECT * EXCLUDE (run_id) FROM workflow_actions_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'workflow_actions' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM workflow_actions_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE codeowners_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    present          BOOLEAN NOT NULL,
    errors           INTEGER NOT NULL,
    error_messages   VARCHAR[]
);

CREATE VIEW codeowners AS
SELECT * EXCLUDE (run_id) FROM codeowners_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'codeowners' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM codeowners_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE app_installations_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    installation_id  BIGINT NOT NULL,
    app_slug         VARCHAR,
    app_id           BIGINT,
    repository_selection VARCHAR,          -- all | selected
    permissions      VARCHAR[],            -- '<name>:<level>'
    write_permissions VARCHAR[],
    suspended        BOOLEAN,
    created_at       TIMESTAMP
);

CREATE VIEW app_installations AS
SELECT * EXCLUDE (run_id) FROM app_installations_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'app_installations' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM app_installations_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE actions_secrets_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    name             VARCHAR NOT NULL,
    visibility       VARCHAR,              -- all | private | selected (organisation secrets)
    created_at       TIMESTAMP,
    updated_at       TIMESTAMP
);

CREATE VIEW actions_secrets AS
SELECT * EXCLUDE (run_id) FROM actions_secrets_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'actions_secrets' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM actions_secrets_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE runners_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    runner_id        BIGINT NOT NULL,
    name             VARCHAR,
    os               VARCHAR,
    status           VARCHAR,
    ephemeral        BOOLEAN,              -- NULL when GitHub does not say
    labels           VARCHAR[]
);

CREATE VIEW runners AS
SELECT * EXCLUDE (run_id) FROM runners_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'runners' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM runners_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE security_alerts_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name; NULL for organisation-level
    tool             VARCHAR NOT NULL,     -- dependabot | code_scanning | secret_scanning
    number           BIGINT NOT NULL,
    state            VARCHAR,
    severity         VARCHAR,              -- critical | high | medium | low | ... (secret scanning: NULL)
    rule_id          VARCHAR,              -- GHSA/CVE id, code-scanning rule, secret type
    package          VARCHAR,
    created_at       TIMESTAMP,
    updated_at       TIMESTAMP,
    fixed_at         TIMESTAMP,
    dismissed_at     TIMESTAMP,
    dismissed_reason VARCHAR,
    dismissed_comment VARCHAR,
    push_protection_bypassed BOOLEAN,
    url              VARCHAR
);

CREATE VIEW security_alerts AS
SELECT * EXCLUDE (run_id) FROM security_alerts_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'security_alerts' AND c.org = h.org AND c.subject = h.org AND c.part = h.tool
        UNION ALL
        SELECT y.run_id, y.observed_at FROM security_alerts_history y
        WHERE y.org = h.org AND y.tool = h.tool) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

-- Branch rules now come from classic protection and from the rulesets GitHub applies to the branch (repository and
-- organisation rulesets in `active` mode; `evaluate` and `disabled` ones do not protect). `branch_rules` is the
-- effective protection: one row per branch, each setting as strict as its strictest visible source.
ALTER TABLE branch_rules_history ADD COLUMN bypass_actors VARCHAR[];
ALTER TABLE branch_rules_history ADD COLUMN ruleset_ids BIGINT[];

CREATE OR REPLACE VIEW branch_rules AS
WITH latest AS (
    SELECT * FROM branch_rules_history h
    WHERE h.run_id = (SELECT max(x.run_id) FROM branch_rules_history x
                      WHERE x.org = h.org AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'))
)
SELECT org, repo, branch,
       bool_or(is_default_branch) AS is_default_branch,
       string_agg(DISTINCT rule_source, ' + ' ORDER BY rule_source) AS rule_source,
       bool_and(visible) AS visible,
       string_agg(not_visible_reason, '; ' ORDER BY rule_source) AS not_visible_reason,
       bool_or(protected) FILTER (WHERE visible) AS protected,
       bool_or(pull_request_required) FILTER (WHERE visible) AS pull_request_required,
       max(required_approvals) FILTER (WHERE visible) AS required_approvals,
       bool_or(dismiss_stale_reviews) FILTER (WHERE visible) AS dismiss_stale_reviews,
       bool_or(require_code_owner_reviews) FILTER (WHERE visible) AS require_code_owner_reviews,
       bool_or(require_last_push_approval) FILTER (WHERE visible) AS require_last_push_approval,
       list_sort(list_distinct(flatten(list(coalesce(required_status_checks, [])) FILTER (WHERE visible))))
           AS required_status_checks,
       bool_or(strict_status_checks) FILTER (WHERE visible) AS strict_status_checks,
       bool_and(enforce_admins) FILTER (WHERE visible AND protected) AS enforce_admins,
       bool_and(allow_force_pushes) FILTER (WHERE visible) AS allow_force_pushes,
       bool_and(allow_deletions) FILTER (WHERE visible) AS allow_deletions,
       bool_or(required_linear_history) FILTER (WHERE visible) AS required_linear_history,
       bool_or(required_signatures) FILTER (WHERE visible) AS required_signatures,
       bool_or(required_conversation_resolution) FILTER (WHERE visible) AS required_conversation_resolution,
       list_sort(list_distinct(flatten(list(coalesce(bypass_actors, [])) FILTER (WHERE visible AND protected))))
           AS bypass_actors,
       list_sort(list_distinct(flatten(list(coalesce(ruleset_ids, [])) FILTER (WHERE visible)))) AS ruleset_ids,
       arg_min(evidence_id, CASE WHEN rule_source = 'classic' THEN 0 ELSE 1 END) AS evidence_id,
       list_sort(list(evidence_id)) AS evidence_ids,
       max(observed_at) AS observed_at
FROM latest
GROUP BY org, repo, branch;
