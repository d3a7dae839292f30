-- Department-only statuses: kept on this node whatever their visibility (never delivered, never
-- in an outbox, never served to a peer). Orthogonal to visibility, so a department-only
-- followers-only reply is still followers-only here.
ALTER TABLE statuses ADD COLUMN local_only BOOLEAN NOT NULL DEFAULT FALSE;
