-- Schema version 9: each evaluation's result per framework, kept so reports can show the trend over a period
-- without rebuilding every earlier evaluation.
CREATE TABLE evaluation_frameworks (
    evaluation_id       BIGINT NOT NULL,
    framework_id        VARCHAR NOT NULL,
    framework           VARCHAR NOT NULL,
    requirements_total  INTEGER NOT NULL,
    pass                INTEGER NOT NULL,
    fail                INTEGER NOT NULL,
    unknown             INTEGER NOT NULL,
    attested            INTEGER NOT NULL,
    coverage_percent    INTEGER NOT NULL,
    compliance_percent  INTEGER NOT NULL,
    PRIMARY KEY (evaluation_id, framework_id)
);
