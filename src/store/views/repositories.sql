-- The `repositories` view (from migration 001_init.sql); `{as_of}` is the moment evaluated. `forge`
-- is `gitlab` for a GitLab group (named `gitlab:<group path>`) and its projects, else `github`.
SELECT * EXCLUDE (run_id), CASE WHEN starts_with(h.org, 'gitlab:') THEN 'gitlab' ELSE 'github' END AS forge
FROM repositories_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM repositories_history x
                  WHERE x.org = h.org AND x.observed_at <= {as_of})
