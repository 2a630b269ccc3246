-- The `repo_properties` view (from migration 019_repo_properties.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM repo_properties_history h
WHERE h.run_id = (SELECT max(c.run_id) FROM api_coverage_history c
    WHERE c.fact_table = 'repo_properties' AND c.org = h.org AND c.subject = h.org
      AND c.observed_at <= {as_of})
