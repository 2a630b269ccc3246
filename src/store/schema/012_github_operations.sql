-- Operating evidence from GitHub for a period: pull requests merged into default branches with their reviews,
-- workflow runs, and deployments (into deploy_events). Each collection reads back to the previous successful one's
-- watermark (less an overlap), so a nightly job asks only for what is new.

ALTER TABLE merge_requests_history ADD COLUMN org VARCHAR;
ALTER TABLE merge_requests_history ADD COLUMN head_sha VARCHAR;
ALTER TABLE merge_requests_history ADD COLUMN merge_commit_sha VARCHAR;

CREATE TABLE pr_reviews_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,
    number           BIGINT NOT NULL,     -- the pull request
    review_id        BIGINT NOT NULL,
    reviewer         VARCHAR,
    state            VARCHAR,             -- APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    submitted_at     TIMESTAMP,
    commit_id        VARCHAR              -- the head commit the review was given on
);

-- The reviews of each pull request as last read.
CREATE VIEW pr_reviews AS
SELECT * EXCLUDE (run_id) FROM pr_reviews_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'pr_reviews' AND c.subject = h.repo || '#' || h.number
        UNION ALL
        SELECT y.run_id, y.observed_at FROM pr_reviews_history y WHERE y.repo = h.repo AND y.number = h.number) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

CREATE TABLE workflow_runs_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,
    workflow_run_id  BIGINT NOT NULL,
    run_attempt      INTEGER,
    workflow         VARCHAR,
    path             VARCHAR,
    event            VARCHAR,             -- push | pull_request | workflow_dispatch | schedule | ...
    status           VARCHAR,
    conclusion       VARCHAR,
    actor            VARCHAR,
    triggering_actor VARCHAR,
    head_branch      VARCHAR,
    head_sha         VARCHAR,
    created_at       TIMESTAMP,
    run_started_at   TIMESTAMP,
    updated_at       TIMESTAMP
);

-- Each workflow run attempt as last read, counted from when it was created.
CREATE VIEW workflow_runs AS
SELECT * EXCLUDE (run_id) FROM workflow_runs_history
WHERE coalesce(created_at, observed_at) <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
  AND observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
QUALIFY row_number() OVER (PARTITION BY repo, workflow_run_id, run_attempt ORDER BY observed_at DESC, run_id DESC) = 1;

-- The window of events each successful collection read, per subject and kind: the next one starts from here.
CREATE TABLE collection_watermarks (
    run_id           BIGINT NOT NULL,
    org              VARCHAR NOT NULL,
    subject          VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,
    read_from        TIMESTAMP NOT NULL,
    read_until       TIMESTAMP NOT NULL
);
