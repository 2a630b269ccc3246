-- The `failed_scans` view (from migration 032_scan_completion.sql); `{as_of}` is the moment evaluated.
SELECT h.subject, h.repo, 'code' AS category, h.tool, h.tool_version, NULL::VARCHAR AS artifact, h.observed_at,
       h.completion_note, h.evidence_id
FROM code_scans_history h
WHERE h.completion = 'failed'
  AND h.run_id = (SELECT x.run_id FROM code_scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.tool
                    AND x.observed_at <= {as_of}
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
UNION ALL
SELECT h.subject, h.repo, h.category, h.tool, h.tool_version, h.artifact, h.observed_at, h.completion_note, h.evidence_id
FROM scans_history h
WHERE h.completion = 'failed'
  AND h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.artifact IS NOT DISTINCT FROM h.artifact
                    AND x.tool = h.tool AND x.category = h.category
                    AND x.observed_at <= {as_of}
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
