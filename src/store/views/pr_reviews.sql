-- The `pr_reviews` view (from migration 012_github_operations.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM pr_reviews_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'pr_reviews' AND c.subject = h.repo || '#' || h.number
        UNION ALL
        SELECT y.run_id, y.observed_at FROM pr_reviews_history y WHERE y.repo = h.repo AND y.number = h.number) x
    WHERE x.observed_at <= {as_of})
