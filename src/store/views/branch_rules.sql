-- The `branch_rules` view (from migration 011_github_evidence.sql); `{as_of}` is the moment evaluated. `forge` is
-- `gitlab` for a GitLab group's projects (their organisation is named `gitlab:<group path>`), else `github`.
WITH latest AS (
    SELECT * FROM branch_rules_history h
    WHERE h.run_id = (SELECT max(x.run_id) FROM branch_rules_history x
                      WHERE x.org = h.org AND x.observed_at <= {as_of})
)
SELECT org, repo, branch,
       CASE WHEN starts_with(org, 'gitlab:') THEN 'gitlab' ELSE 'github' END AS forge,
       bool_or(is_default_branch) AS is_default_branch,
       string_agg(DISTINCT rule_source, ' + ' ORDER BY rule_source) AS rule_source,
       bool_and(visible) AS visible,
       string_agg(not_visible_reason, '; ' ORDER BY rule_source) AS not_visible_reason,
       bool_or(protected) FILTER (WHERE visible) AS protected,
       bool_or(pull_request_required) FILTER (WHERE visible) AS pull_request_required,
       max(required_approvals) FILTER (WHERE visible) AS required_approvals,
       bool_or(dismiss_stale_reviews) FILTER (WHERE visible) AS dismiss_stale_reviews,
       bool_or(require_code_owner_reviews) FILTER (WHERE visible) AS require_code_owner_reviews,
       bool_or(require_last_push_approval) FILTER (WHERE visible) AS require_last_push_approval,
       list_sort(list_distinct(flatten(list(coalesce(required_status_checks, [])) FILTER (WHERE visible))))
           AS required_status_checks,
       bool_or(strict_status_checks) FILTER (WHERE visible) AS strict_status_checks,
       bool_and(enforce_admins) FILTER (WHERE visible AND protected) AS enforce_admins,
       bool_and(allow_force_pushes) FILTER (WHERE visible) AS allow_force_pushes,
       bool_and(allow_deletions) FILTER (WHERE visible) AS allow_deletions,
       bool_or(required_linear_history) FILTER (WHERE visible) AS required_linear_history,
       bool_or(required_signatures) FILTER (WHERE visible) AS required_signatures,
       bool_or(required_conversation_resolution) FILTER (WHERE visible) AS required_conversation_resolution,
       string_agg(review_weakened_by, '; ' ORDER BY rule_source) FILTER (WHERE visible) AS review_weakened_by,
       list_sort(list_distinct(flatten(list(coalesce(bypass_actors, [])) FILTER (WHERE visible AND protected))))
           AS bypass_actors,
       list_sort(list_distinct(flatten(list(coalesce(ruleset_ids, [])) FILTER (WHERE visible)))) AS ruleset_ids,
       arg_min(evidence_id, CASE WHEN rule_source = 'classic' THEN 0 ELSE 1 END) AS evidence_id,
       list_sort(list(evidence_id)) AS evidence_ids,
       max(observed_at) AS observed_at
FROM latest
GROUP BY org, repo, branch
