-- The `admission_policies` view (from migration 028_kubernetes.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM admission_policies_history h
WHERE h.run_id = (SELECT x.run_id FROM admission_policies_history x
                  WHERE x.engine = h.engine AND x.policy = h.policy
                    AND x.observed_at <= {as_of}
                  ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
