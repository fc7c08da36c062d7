-- Notice targets seen in policies (issue 14): which `notify` targets some
-- repository's policy named, so that a start-up can warn about a target
-- whose setting (SLACK_BOT_TOKEN, NOTIFY_WEBHOOK_<NAME>) is missing before
-- a pull request needs it. Policies live in each repository and are read
-- only as pull requests arrive, so this is what the app last saw. Numbered
-- after the issue, leaving room for the store's own migrations.

CREATE TABLE notice_targets (
    -- slack:#channel or webhook:NAME (policy::Target's display)
    target TEXT NOT NULL PRIMARY KEY,
    -- The repository whose policy named it last time it was noted.
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    -- ms since the Unix epoch (UTC)
    seen_at BIGINT NOT NULL
);
