-- The `rollouts` view (from migration 028_kubernetes.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM rollouts_history h
WHERE h.run_id = (SELECT x.run_id FROM rollouts_history x
                  WHERE x.controller = h.controller AND x.namespace IS NOT DISTINCT FROM h.namespace AND x.name = h.name
                    AND x.observed_at <= {as_of}
                  ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
