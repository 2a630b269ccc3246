-- The `release_assets` view (from migration 017_releases.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM release_assets_history h
WHERE h.run_id = (SELECT max(r.run_id) FROM releases_history r
                  WHERE r.repo = h.repo AND r.release_id = h.release_id
                    AND r.observed_at <= {as_of})
