-- Schema version 5: the manual attestations an evaluation considered, as judged at its as-of moment.
ALTER TABLE evaluations ADD COLUMN attestations JSON;
