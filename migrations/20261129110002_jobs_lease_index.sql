-- Idle workers ask when the next lease expires (`Store::next_ready`); with
-- this index that is one b-tree step instead of a scan of every job.
CREATE INDEX jobs_lease ON jobs (lease_until);
