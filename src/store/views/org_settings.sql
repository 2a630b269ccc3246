-- The `org_settings` view (from migration 001_init.sql); `{as_of}` is the moment evaluated. `forge`
-- is `gitlab` for a GitLab group (named `gitlab:<group path>`) and its projects, else `github`.
SELECT * EXCLUDE (run_id), CASE WHEN starts_with(h.org, 'gitlab:') THEN 'gitlab' ELSE 'github' END AS forge
FROM org_settings_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM org_settings_history x
                  WHERE x.org = h.org AND x.observed_at <= {as_of})
