-- Whether a step (or its job) is allowed to fail without failing the run: `continue-on-error` as written on the step,
-- else on its job ("true", "false" or an expression); NULL when neither sets it. A security scanner with it set
-- can report findings while the run still passes.
ALTER TABLE workflow_actions_history ADD COLUMN continue_on_error VARCHAR;

-- A view's columns are fixed when it is made: make it again to carry the new column.
DROP VIEW workflow_actions;
CREATE VIEW workflow_actions AS
SELECT * EXCLUDE (run_id) FROM workflow_actions_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'workflow_actions' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM workflow_actions_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
