-- pipeproof store, schema version 1.
-- Times are naive UTC TIMESTAMPs (DuckDB's ICU extension is not bundled).

CREATE SEQUENCE run_ids START 1;
CREATE SEQUENCE evidence_ids START 1;
CREATE SEQUENCE evaluation_ids START 1;

-- Every collect, ingest or evaluate invocation.
CREATE TABLE runs (
    run_id        BIGINT PRIMARY KEY,
    command       VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL,      -- running | succeeded | failed
    tool_version  VARCHAR NOT NULL,
    detail        JSON
);

-- Raw evidence bytes, stored once per distinct content.
CREATE TABLE blobs (
    sha256  VARCHAR PRIMARY KEY,
    size    BIGINT NOT NULL,
    body    BLOB NOT NULL
);

-- One piece of evidence: an API response page or an ingested file.
CREATE TABLE evidence (
    evidence_id   BIGINT PRIMARY KEY,
    run_id        BIGINT NOT NULL,
    sha256        VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,      -- github | file
    kind          VARCHAR NOT NULL,      -- github.org | github.repos | github.branch_protection | sarif
    subject       VARCHAR NOT NULL,      -- what it is about: org, owner/repo, owner/repo@branch, file path
    collected_at  TIMESTAMP NOT NULL,
    provenance    JSON NOT NULL
);

-- Observations of organisation settings. visible = false when the token could not read them.
CREATE TABLE org_settings_history (
    run_id                          BIGINT NOT NULL,
    evidence_id                     BIGINT NOT NULL,
    observed_at                     TIMESTAMP NOT NULL,
    org                             VARCHAR NOT NULL,
    visible                         BOOLEAN NOT NULL,
    not_visible_reason              VARCHAR,
    two_factor_requirement_enabled  BOOLEAN,
    default_repository_permission   VARCHAR,
    members_can_create_repositories BOOLEAN
);

-- Observations of the repository inventory (one snapshot per org per run).
CREATE TABLE repositories_history (
    run_id          BIGINT NOT NULL,
    evidence_id     BIGINT NOT NULL,
    observed_at     TIMESTAMP NOT NULL,
    org             VARCHAR NOT NULL,
    repo            VARCHAR NOT NULL,    -- owner/name
    visibility      VARCHAR,
    archived        BOOLEAN,
    fork            BOOLEAN,
    default_branch  VARCHAR,
    pushed_at       TIMESTAMP
);

-- Observations of the rules protecting a branch. visible = false when the token could not read them.
CREATE TABLE branch_rules_history (
    run_id                            BIGINT NOT NULL,
    evidence_id                       BIGINT NOT NULL,
    observed_at                       TIMESTAMP NOT NULL,
    org                               VARCHAR NOT NULL,
    repo                              VARCHAR NOT NULL,
    branch                            VARCHAR NOT NULL,
    is_default_branch                 BOOLEAN NOT NULL,
    rule_source                       VARCHAR NOT NULL,  -- classic
    visible                           BOOLEAN NOT NULL,
    not_visible_reason                VARCHAR,
    protected                         BOOLEAN,
    pull_request_required             BOOLEAN,
    required_approvals                INTEGER,
    dismiss_stale_reviews             BOOLEAN,
    require_code_owner_reviews        BOOLEAN,
    require_last_push_approval        BOOLEAN,
    required_status_checks            VARCHAR[],
    strict_status_checks              BOOLEAN,
    enforce_admins                    BOOLEAN,
    allow_force_pushes                BOOLEAN,
    allow_deletions                   BOOLEAN,
    required_linear_history           BOOLEAN,
    required_signatures               BOOLEAN,
    required_conversation_resolution  BOOLEAN
);

-- Static-analysis results from SARIF files (one snapshot per ingested file subject).
CREATE TABLE code_findings_history (
    run_id          BIGINT NOT NULL,
    evidence_id     BIGINT NOT NULL,
    observed_at     TIMESTAMP NOT NULL,
    subject         VARCHAR NOT NULL,    -- the ingested file's subject (repo when known, else the file name)
    repo            VARCHAR,
    tool            VARCHAR NOT NULL,
    tool_version    VARCHAR,
    rule_id         VARCHAR,
    rule_name       VARCHAR,
    level           VARCHAR NOT NULL,    -- error | warning | note | none
    security_severity DOUBLE,
    message         VARCHAR,
    location        VARCHAR,             -- uri:line
    fingerprint     VARCHAR,
    suppressed      BOOLEAN NOT NULL
);

-- Scans that were ingested, including those with no results (a scan with no findings is evidence too).
CREATE TABLE code_scans_history (
    run_id          BIGINT NOT NULL,
    evidence_id     BIGINT NOT NULL,
    observed_at     TIMESTAMP NOT NULL,
    subject         VARCHAR NOT NULL,
    repo            VARCHAR,
    tool            VARCHAR NOT NULL,
    tool_version    VARCHAR,
    result_count    INTEGER NOT NULL
);

-- One evaluation of the catalogue against the store as of a moment.
CREATE TABLE evaluations (
    evaluation_id    BIGINT PRIMARY KEY,
    run_id           BIGINT NOT NULL,
    as_of            TIMESTAMP NOT NULL,
    tool_version     VARCHAR NOT NULL,
    catalogue_sha256 VARCHAR NOT NULL,
    catalogue        JSON NOT NULL      -- the controls and frameworks as evaluated
);

-- A control's overall outcome in an evaluation.
CREATE TABLE control_outcomes (
    evaluation_id  BIGINT NOT NULL,
    control_id     VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,
    error          VARCHAR,
    params         JSON NOT NULL
);

-- A control's verdict on one resource in an evaluation.
CREATE TABLE control_results (
    evaluation_id  BIGINT NOT NULL,
    control_id     VARCHAR NOT NULL,
    resource       VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,    -- pass | fail | unknown | not_applicable
    reason         VARCHAR NOT NULL,
    evidence_id    BIGINT
);

-- As-of views: what controls query. `pp_as_of` is set by the evaluator; state tables show the latest
-- snapshot (per org, or per scanned subject) taken at or before it.
CREATE VIEW org_settings AS
SELECT * EXCLUDE (run_id) FROM org_settings_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM org_settings_history x
                  WHERE x.org = h.org AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE VIEW repositories AS
SELECT * EXCLUDE (run_id) FROM repositories_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM repositories_history x
                  WHERE x.org = h.org AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE VIEW branch_rules AS
SELECT * EXCLUDE (run_id) FROM branch_rules_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM branch_rules_history x
                  WHERE x.org = h.org AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE VIEW code_scans AS
SELECT * EXCLUDE (run_id) FROM code_scans_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM code_scans_history x
                  WHERE x.subject = h.subject AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE VIEW code_findings AS
SELECT * EXCLUDE (run_id) FROM code_findings_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM code_scans_history x
                  WHERE x.subject = h.subject AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
