-- Teams' access to repositories, the fork pull-request approval policy of Actions, code scanning analyses, and the
-- organisation's member privileges beyond the base permission.

ALTER TABLE org_settings_history ADD COLUMN members_can_create_public_repositories BOOLEAN;
ALTER TABLE org_settings_history ADD COLUMN members_can_fork_private_repositories BOOLEAN;
ALTER TABLE org_settings_history ADD COLUMN web_commit_signoff_required BOOLEAN;

CREATE TABLE team_repos_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name
    team             VARCHAR NOT NULL,     -- the team's slug
    permission       VARCHAR               -- admin | maintain | write | triage | read (or a custom role)
);

-- Organisation-wide snapshot: teams are read per organisation.
CREATE VIEW team_repos AS
SELECT * EXCLUDE (run_id) FROM team_repos_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'team_repos' AND c.org = h.org AND c.subject = h.org
        UNION ALL
        SELECT y.run_id, y.observed_at FROM team_repos_history y WHERE y.org = h.org) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE fork_pr_approval_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- NULL for the organisation's policy
    approval_policy  VARCHAR               -- first_time_contributors_new_to_github | first_time_contributors | all_external_contributors
);

CREATE VIEW fork_pr_approval AS
SELECT * EXCLUDE (run_id) FROM fork_pr_approval_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'fork_pr_approval' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org)
        UNION ALL
        SELECT y.run_id, y.observed_at FROM fork_pr_approval_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE code_scanning_analyses_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,
    analysis_id      BIGINT NOT NULL,
    tool             VARCHAR,
    tool_version     VARCHAR,
    ref              VARCHAR,
    category         VARCHAR,
    created_at       TIMESTAMP,
    results_count    BIGINT,
    error            VARCHAR
);

CREATE VIEW code_scanning_analyses AS
SELECT * EXCLUDE (run_id) FROM code_scanning_analyses_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'code_scanning_analyses' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org)
        UNION ALL
        SELECT y.run_id, y.observed_at FROM code_scanning_analyses_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
