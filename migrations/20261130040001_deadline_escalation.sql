-- The policy's `escalation` section as it was when the deadline was last
-- watched (JSON: {"mention": [...], "after_ms": N or null,
-- "mention_after": [...]}), so that a policy in force that cannot be read
-- later does not take the escalation's mentions and second level with it.
-- NULL: a watch recorded before this column; the sweep then escalates
-- mentioning nobody and says why.
ALTER TABLE deadlines ADD COLUMN escalation TEXT;
