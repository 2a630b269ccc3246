-- The `deployment_approvals` view (from migration 016_deployment_approvals.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM deployment_approvals_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'deployment_approvals' AND c.subject = h.repo || '/deployments/' || h.deployment_id
        UNION ALL
        SELECT y.run_id, y.observed_at FROM deployment_approvals_history y
        WHERE y.repo = h.repo AND y.deployment_id = h.deployment_id) x
    WHERE x.observed_at <= {as_of})
