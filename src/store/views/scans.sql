-- The `scans` view (from migration 032_scan_completion.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM scans_history h
WHERE h.completion IS DISTINCT FROM 'failed'
  AND h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.artifact IS NOT DISTINCT FROM h.artifact
                    AND x.tool = h.tool AND x.category = h.category
                    AND x.observed_at <= {as_of}
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
