-- The `org_people` view (from migration 011_github_evidence.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM org_people_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'org_people' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = h.relation
        UNION ALL
        SELECT y.run_id, y.observed_at FROM org_people_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo AND y.relation = h.relation) x
    WHERE x.observed_at <= {as_of})
