-- Schema version 4: for state controls evaluated over a period, whether each result held at every snapshot.
ALTER TABLE control_results ADD COLUMN throughout JSON;
