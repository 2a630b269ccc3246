-- The `gitops_applications` view (from migration 024_gitops_applications.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM gitops_applications_history h
WHERE h.run_id = (SELECT x.run_id FROM gitops_applications_history x
                  WHERE x.application = h.application
                    AND x.observed_at <= {as_of}
                  ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
