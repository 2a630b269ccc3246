-- The jobs of each workflow file: the runner labels `runs-on` asks for (`group:NAME` for a runner group), whether
-- that is plainly a self-hosted runner (NULL when the file cannot tell: an expression, a group, a custom label that
-- a larger hosted runner or a self-hosted one may carry), and `timeout-minutes` as written (NULL: GitHub's 360).
CREATE TABLE workflow_jobs_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name
    path             VARCHAR NOT NULL,
    job              VARCHAR NOT NULL,
    runs_on          VARCHAR[],            -- NULL for a job that calls a reusable workflow
    self_hosted      BOOLEAN,
    timeout_minutes  VARCHAR,
    reusable         BOOLEAN NOT NULL      -- the job calls a reusable workflow (`uses:`)
);

CREATE VIEW workflow_jobs AS
SELECT * EXCLUDE (run_id) FROM workflow_jobs_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'workflow_jobs' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM workflow_jobs_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
