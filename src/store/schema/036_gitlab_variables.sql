-- Schema version 36: GitLab CI/CD variables that hold secrets, beside GitHub's Actions secrets. `protected`: given
-- only to pipelines of protected branches and tags; `masked`: hidden in job logs (a hidden variable is masked too);
-- `environment_scope`: the environments whose jobs get it (`*` for all). GitHub's rows leave them NULL.
ALTER TABLE actions_secrets_history ADD COLUMN protected BOOLEAN;
ALTER TABLE actions_secrets_history ADD COLUMN masked BOOLEAN;
ALTER TABLE actions_secrets_history ADD COLUMN environment_scope VARCHAR;
