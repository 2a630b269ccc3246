-- The `packages` view (from migration 025_packages.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM packages_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'packages' AND c.org = h.org AND c.subject = h.org AND c.part = h.package_type
        UNION ALL
        SELECT y.run_id, y.observed_at FROM packages_history y
        WHERE y.org = h.org AND y.package_type = h.package_type) x
    WHERE x.observed_at <= {as_of})
