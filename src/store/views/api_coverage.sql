-- The `api_coverage` view (from migration 011_github_evidence.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM api_coverage_history
WHERE observed_at <= {as_of}
QUALIFY row_number() OVER (PARTITION BY org, subject, kind, fact_table
                           ORDER BY run_id DESC, state = 'visible', observed_at DESC) = 1
