-- Pull requests evaluated while the policy in force could not be read
-- (invalid, or not a text file): no deadline could be watched for them.
-- The push that changes the policy evaluates them again with the open ones,
-- so a hotfix closed meanwhile by someone without write access (which keeps
-- escalating) is not lost; the rows are removed once queued.
CREATE TABLE unjudged_pulls (
    installation BIGINT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    PRIMARY KEY (installation, owner, name, number)
);
