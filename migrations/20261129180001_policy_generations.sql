-- A counter per repository, bumped at the intake of every `push` that
-- changes `.github/hotfix-policy.yml` on its default branch (before the
-- delivery is answered). Every evaluation reads it and uses a policy an
-- instance holds in memory only when it was loaded at the same count, so
-- an instance that did not receive the push does not judge by the old
-- policy. A missing row is generation 0.
CREATE TABLE policy_generations (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (owner, name)
);
