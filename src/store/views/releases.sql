-- The `releases` view (from migration 017_releases.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM releases_history
WHERE observed_at <= {as_of}
QUALIFY row_number() OVER (PARTITION BY repo, release_id ORDER BY observed_at DESC, run_id DESC) = 1
