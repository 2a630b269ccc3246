-- Schema version 37: when each member of a GitLab group was last active, as GitLab's billable members list of the
-- top-level group says (`last_activity_on`: signing in, Git over HTTP or SSH, API and web use; updated daily, a
-- date), and when they last signed in. Judged by SRC-04; GitHub has no such date (its audit log stands in).
CREATE TABLE member_activity_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    login            VARCHAR NOT NULL,
    last_active_on   DATE,
    last_sign_in_at  TIMESTAMP
);
