-- The `org_identity` view (from migration 031_org_identity.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM org_identity_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'org_identity' AND c.org = h.org AND c.subject = h.org AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM org_identity_history y WHERE y.org = h.org) x
    WHERE x.observed_at <= {as_of})
