-- The `dast_findings` view (from migration 010_file_evidence.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM dast_findings_history h
WHERE h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.scanner AND x.category = 'dast'
                    AND x.observed_at <= {as_of}
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
