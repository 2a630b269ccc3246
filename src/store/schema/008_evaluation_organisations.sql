-- Schema version 8: the organisations an evaluation judged, so reports need not read fact tables for their names.
ALTER TABLE evaluations ADD COLUMN organisations VARCHAR;
