-- What a published check run shows, so that a verdict about another pull
-- request on the same head commit can be weighed without asking GitHub:
-- '<external_id>|<conclusion>' as the app last wrote them (external_id
-- empty when the run has none). NULL: not known (a row from before this
-- column, or a write under way or whose outcome was not recorded); the app
-- then reads the run from GitHub.
ALTER TABLE published ADD COLUMN shows TEXT;

-- The follow-up issue opened after a hotfix merged, per pull request: a
-- restart or another instance finds it here even while GitHub's issue
-- listing lags behind the issue's creation.
CREATE TABLE follow_ups (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    issue BIGINT NOT NULL,
    opened_at BIGINT NOT NULL,
    PRIMARY KEY (owner, name, number)
);
