-- The `merge_requests` view (from migration 010_file_evidence.sql); `{as_of}` is the moment evaluated. Each source
-- keeps its own latest row, and rows a collector wrote (they name their organisation) are never replaced by rows
-- ingested from a file (which name none): an ingested list cannot hide a collected merge request.
SELECT * EXCLUDE (run_id) FROM merge_requests_history h
WHERE h.run_id = (SELECT x.run_id FROM merge_requests_history x
                  WHERE x.repo = h.repo AND x.number = h.number AND x.source = h.source
                    AND (x.org IS NULL) = (h.org IS NULL)
                    AND x.observed_at <= {as_of}
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
