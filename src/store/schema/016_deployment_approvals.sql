-- Who approved each deployment made by GitHub Actions: the deployment's statuses link to the job or run that made
-- it, and that run's deployment reviews name the reviewer, the environment and approved or rejected.

CREATE TABLE deployment_approvals_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,
    deployment_id    BIGINT NOT NULL,
    workflow_run_id  BIGINT,               -- the run that made the deployment
    environment      VARCHAR,
    state            VARCHAR,              -- approved | rejected
    reviewer         VARCHAR,
    comment          VARCHAR
);

-- The reviews of each deployment's run as last read.
CREATE VIEW deployment_approvals AS
SELECT * EXCLUDE (run_id) FROM deployment_approvals_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'deployment_approvals' AND c.subject = h.repo || '/deployments/' || h.deployment_id
        UNION ALL
        SELECT y.run_id, y.observed_at FROM deployment_approvals_history y
        WHERE y.repo = h.repo AND y.deployment_id = h.deployment_id) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
