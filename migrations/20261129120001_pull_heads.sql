-- The head commit each pull request's latest opened, reopened or
-- synchronize delivery named, and when the app received it (its own
-- clock). Keyed by pull request, not by commit: another pull request's
-- delivery of the same commit, or an earlier push of a commit that was
-- pushed away and back, says nothing about when this pull request's
-- current head was pushed. Replaces `heads`, which was keyed by commit.
CREATE TABLE pull_heads (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    sha TEXT NOT NULL,
    received BIGINT NOT NULL,
    PRIMARY KEY (owner, name, number)
);

DROP TABLE heads;
