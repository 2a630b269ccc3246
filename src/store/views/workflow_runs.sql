-- The `workflow_runs` view (from migration 012_github_operations.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM workflow_runs_history
WHERE coalesce(created_at, observed_at) <= {as_of}
  AND observed_at <= {as_of}
QUALIFY row_number() OVER (PARTITION BY repo, workflow_run_id, run_attempt ORDER BY observed_at DESC, run_id DESC) = 1
