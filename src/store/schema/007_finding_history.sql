-- Schema version 7: the state-change history of every (control, resource), maintained as evaluations are stored.
CREATE TABLE finding_history (
    control_id       VARCHAR NOT NULL,
    resource         VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,    -- in the latest evaluation that judged it
    status_since     TIMESTAMP NOT NULL,  -- as-of of the evaluation where that status began
    first_seen       TIMESTAMP NOT NULL,
    last_seen        TIMESTAMP NOT NULL,
    first_failed     TIMESTAMP,
    last_failed      TIMESTAMP,
    resolved_at      TIMESTAMP,           -- the latest move from fail to a status that is not fail
    waived_since     TIMESTAMP,           -- while waived: since when
    last_evaluation  BIGINT NOT NULL,
    PRIMARY KEY (control_id, resource)
);
