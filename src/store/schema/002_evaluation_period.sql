-- Schema version 2: the reporting period an evaluation covers (NULL when evaluated as of a moment only).
ALTER TABLE evaluations ADD COLUMN period_label VARCHAR;
ALTER TABLE evaluations ADD COLUMN period_start TIMESTAMP;
ALTER TABLE evaluations ADD COLUMN period_end TIMESTAMP;
