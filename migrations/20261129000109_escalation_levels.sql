-- The escalation levels posted on each pull request, kept apart from
-- `deadlines` (whose row goes when the pull request is closed, and comes
-- back when it is reopened): a level is posted once in a pull request's
-- life, and the sweep knows which without listing its comments (a pull
-- request with more than 10,000 comments cannot be listed).
CREATE TABLE escalation_levels (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    -- The highest level posted (0: none).
    posted BIGINT NOT NULL,
    -- A level whose comment is being posted (0: none): set before the
    -- comment is created and cleared after, so a crash in between leaves
    -- it set and the next sweep checks the app's own comments first.
    posting BIGINT NOT NULL,
    PRIMARY KEY (installation, owner, name, number)
);
