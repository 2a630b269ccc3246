-- Schema version 35: GitLab environments. `tier` is GitLab's deployment tier (production, staging, testing,
-- development, other), which marks production whatever the environment is called; GitHub has none (NULL).
-- `deployers` are who a GitLab protected environment lets deploy (roles, users, groups); GitHub limits deployments
-- by branch instead (NULL).
ALTER TABLE environments_history ADD COLUMN tier VARCHAR;
ALTER TABLE environments_history ADD COLUMN deployers VARCHAR[];
