-- What proves, without asking GitHub, that a commit has no check run of
-- this app with a given name yet, so that the first write of that run can
-- skip the lookup (`GET /commits/{sha}/check-runs`).
--
-- `fresh_suites`: a `check_suite` `requested` delivery named this head
-- commit with `latest_check_runs_count` 0. GitHub sends that once per app
-- and commit, when the commit is first pushed to the repository: at that
-- moment this app had no run on it. Never written for a commit the app saw
-- before this table existed, nor again after the store is lost.
CREATE TABLE fresh_suites (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    sha TEXT NOT NULL,
    received BIGINT NOT NULL,
    PRIMARY KEY (owner, name, sha)
);

-- `check_claims`: a writer is about to create (or look up and write) the
-- check run `check_name` on `sha`. Recorded before every `POST
-- /check-runs`, and never deleted while the commit's `fresh_suites` row
-- lives: a claim without a recorded id (a crash after the POST) makes the
-- next writer look the run up, as does any claim it did not insert itself.
CREATE TABLE check_claims (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    sha TEXT NOT NULL,
    check_name TEXT NOT NULL,
    claimed BIGINT NOT NULL,
    PRIMARY KEY (owner, name, sha, check_name)
);
