-- The `team_repos` view (from migration 013_github_teams_and_analyses.sql); `{as_of}` is the moment evaluated.
SELECT * EXCLUDE (run_id) FROM team_repos_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'team_repos' AND c.org = h.org AND c.subject = h.org
        UNION ALL
        SELECT y.run_id, y.observed_at FROM team_repos_history y WHERE y.org = h.org) x
    WHERE x.observed_at <= {as_of})
