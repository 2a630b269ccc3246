-- The `org_settings` view (from migration 001_init.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM org_settings_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM org_settings_history x
                  WHERE x.org = h.org AND x.observed_at <= {as_of})
