-- The notice outbox (issue 14): every incident notice is recorded here
-- before it is sent and marked sent after, so that a redelivery, a restart
-- or a second instance never sends it twice. Same conventions as the store:
-- BIGINT and TEXT only, times in ms since the Unix epoch (UTC).

CREATE TABLE notices (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    -- declared, severity_changed, approved, escalated, merged, closed_unmerged
    event TEXT NOT NULL,
    -- Which one of the event: '' (once per pull request), the new severity
    -- (severity_changed, approved) or the level (escalated).
    occurrence TEXT NOT NULL,
    -- slack:#channel or webhook:NAME
    target TEXT NOT NULL,
    -- Order within one pull request and target: the time it was recorded,
    -- then the event's place in the procedure.
    created BIGINT NOT NULL,
    rank BIGINT NOT NULL,
    -- What to send (JSON of notify::Notice).
    payload TEXT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- Not tried before this time (back-off after a failure).
    next_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (owner, name, number, event, occurrence, target)
);
CREATE INDEX notices_due ON notices (sent_at, next_at);

-- A Slack target's thread per pull request: the parent message's channel ID
-- and ts as chat.postMessage returned them.
CREATE TABLE notice_threads (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    target TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL,
    PRIMARY KEY (owner, name, number, target)
);

-- The severity last announced per pull request, to tell a change.
CREATE TABLE notice_severities (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    severity TEXT NOT NULL,
    PRIMARY KEY (owner, name, number)
);
