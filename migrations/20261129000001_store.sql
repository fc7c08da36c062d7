-- The durable store of hotfix-guard. One SQL text for SQLite and PostgreSQL:
-- only BIGINT and TEXT columns, times as milliseconds since the Unix epoch
-- (UTC), composite natural keys (no serial ids).

-- Pending evaluations, one row per pull request (bursts collapse into it).
CREATE TABLE jobs (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    -- The freshest pull request snapshot the deliveries carried (JSON), and
    -- its `updated_at` in ms, to keep the newest when deliveries race.
    pull TEXT,
    pull_updated BIGINT,
    -- 'full', or 'comment:' followed by the comment body.
    trigger_kind TEXT NOT NULL,
    -- X-GitHub-Delivery ids folded into the job, comma-separated, the
    -- latest few (for logs only).
    deliveries TEXT NOT NULL,
    first_queued BIGINT NOT NULL,
    -- Not claimed before this time (debounce, or back-off after a failure).
    ready_at BIGINT NOT NULL,
    -- Bumped by every delivery folded in; a worker deletes the row only if
    -- nothing arrived since it claimed it (claimed_version = version).
    version BIGINT NOT NULL,
    claimed_version BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    -- 1 when the last claim took over a lease that had expired.
    taken_over BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (installation, owner, name, number)
);
CREATE INDEX jobs_ready ON jobs (ready_at);

-- X-GitHub-Delivery ids acted on, for de-duplication; pruned by age.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
CREATE INDEX deliveries_seen_at ON deliveries (seen_at);

-- When this app first received each head commit of a pull request
-- (pull_request opened, reopened, synchronize): the app's own clock.
CREATE TABLE heads (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    sha TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (owner, name, sha)
);

-- Merged hotfixes whose merge-back waits for a push to `branch`.
CREATE TABLE merge_backs (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    branch TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (installation, owner, name, number)
);
CREATE INDEX merge_backs_branch ON merge_backs (installation, owner, name, branch);

-- Open hotfixes with a deadline, and the escalation levels posted.
CREATE TABLE deadlines (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    severity TEXT NOT NULL,
    started BIGINT NOT NULL,
    deadline BIGINT NOT NULL,
    levels_posted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (installation, owner, name, number)
);
CREATE INDEX deadlines_deadline ON deadlines (deadline);

-- What the app last published: check run or comment id, and a fingerprint
-- of what it shows. `what` is 'check:NAME@SHA' or 'comment:NUMBER'.
CREATE TABLE published (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    what TEXT NOT NULL,
    id BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    PRIMARY KEY (owner, name, what)
);

-- Leases on singleton tasks (deadline sweep, delivery recovery), so that
-- with several instances exactly one runs each at a time.
CREATE TABLE leaders (
    task TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);

-- Every evaluation a worker started and ended, for audits and the
-- several-instances test: two rows of one pull request never overlap.
CREATE TABLE evaluations (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    worker TEXT NOT NULL,
    started BIGINT NOT NULL,
    ended BIGINT NOT NULL
);
CREATE INDEX evaluations_ended ON evaluations (ended);
