-- Schema version 3: waivers. A waived result keeps its underlying status and the waiver that applied;
-- the evaluation keeps every waiver entry as judged at its as-of moment.
ALTER TABLE control_results ADD COLUMN underlying_status VARCHAR;
ALTER TABLE control_results ADD COLUMN waiver JSON;
ALTER TABLE evaluations ADD COLUMN waivers JSON;
