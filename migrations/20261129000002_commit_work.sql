-- What a repository's commit job must look at (check runs, statuses and
-- deployments of head commits; branch pushes to audit). The job row itself
-- (number 0) is in `jobs`; its work units are here, one row each, so that
-- deliveries folding into a job never overwrite one another's work.
CREATE TABLE commit_work (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    -- SHA-256 (hex) of `unit`: the identity of a unit, short enough for an
    -- index on every backend.
    unit_key TEXT NOT NULL,
    -- The unit as JSON (a commit and the pull requests the delivery named,
    -- or a push to audit).
    unit TEXT NOT NULL,
    -- The job row's version when the unit last arrived: a worker's
    -- `complete` removes only units at or below the version it claimed, so
    -- a unit that arrives during the evaluation runs in the next one.
    version BIGINT NOT NULL,
    -- Arrival time in ms (order only: pushes are audited oldest first).
    seq BIGINT NOT NULL,
    PRIMARY KEY (installation, owner, name, unit_key)
);
