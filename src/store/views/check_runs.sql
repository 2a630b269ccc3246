-- The `check_runs` view (from migration 014_github_check_runs.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM check_runs_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'check_runs' AND c.subject = h.repo || '@' || h.head_sha
        UNION ALL
        SELECT y.run_id, y.observed_at FROM check_runs_history y WHERE y.repo = h.repo AND y.head_sha = h.head_sha) x
    WHERE x.observed_at <= {as_of})
