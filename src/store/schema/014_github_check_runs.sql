-- The checks that ran on each merged pull request's head commit: what SRC-13 compares with the required checks.

CREATE TABLE check_runs_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,
    head_sha         VARCHAR NOT NULL,
    check_run_id     BIGINT NOT NULL,
    name             VARCHAR,
    status           VARCHAR,             -- queued | in_progress | completed
    conclusion       VARCHAR,             -- success | failure | neutral | cancelled | skipped | timed_out | action_required
    app              VARCHAR,             -- the app that reported it (e.g. github-actions)
    completed_at     TIMESTAMP
);

-- The checks of each commit as last read.
CREATE VIEW check_runs AS
SELECT * EXCLUDE (run_id) FROM check_runs_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'check_runs' AND c.subject = h.repo || '@' || h.head_sha
        UNION ALL
        SELECT y.run_id, y.observed_at FROM check_runs_history y WHERE y.repo = h.repo AND y.head_sha = h.head_sha) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
