-- The latest hotfix verdict of each pull request on a commit it had as its
-- head: a check run belongs to a commit, so when two hotfix pull requests
-- share a head, a `success` may replace the run only when every other one
-- still open on that head has a `success` here too (a run names only the
-- last writer: a twin could otherwise launder the P0's failure away by
-- overwriting it with its own first).
CREATE TABLE commit_verdicts (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    sha TEXT NOT NULL,
    number BIGINT NOT NULL,
    conclusion TEXT NOT NULL,
    recorded BIGINT NOT NULL,
    PRIMARY KEY (owner, name, sha, number)
);
