-- Schema version 34: what lets the author of a change get round the review a branch requires, in words (NULL when
-- nothing does). GitLab projects may let an author approve their own merge request, or change its approval rules;
-- GitHub allows neither, so its rows leave it NULL.
ALTER TABLE branch_rules_history ADD COLUMN review_weakened_by VARCHAR;
