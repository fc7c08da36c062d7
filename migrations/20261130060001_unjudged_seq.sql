-- Bumped at every recording of a pull request in `unjudged_pulls`: a
-- re-evaluation that records it again while the commit job is forgetting
-- it keeps its row (the job forgets only the recording it read). A row from
-- before this column reads 0, below any recording that follows.
ALTER TABLE unjudged_pulls ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
