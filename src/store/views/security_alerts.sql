-- The `security_alerts` view (from migration 011_github_evidence.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM security_alerts_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'security_alerts' AND c.org = h.org AND c.subject = h.org AND c.part = h.tool
        UNION ALL
        SELECT y.run_id, y.observed_at FROM security_alerts_history y
        WHERE y.org = h.org AND y.tool = h.tool) x
    WHERE x.observed_at <= {as_of})
