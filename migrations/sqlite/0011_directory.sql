-- Featured hashtags of a profile: chosen by a local user, or as a remote actor publishes them
-- (replaced on every refresh of that actor).
CREATE TABLE featured_tags (
    id          BIGINT PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- lower-cased; display keeps the spelling given
    name        TEXT   NOT NULL,
    display     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX featured_tags_account_name ON featured_tags (account_id, name);

-- Full-text index of profiles for account search, one row per account (rowid = account id),
-- rewritten by the store in the transaction of every profile change. Columns are searched by
-- tier: handle and display name, then fields and featured tags, then the bio.
CREATE VIRTUAL TABLE account_search USING fts5 (
    handle, display_name, fields, tags, note, tokenize = 'unicode61'
);

-- Existing profiles. Remote bios are HTML and remote fields were not kept until now; both are
-- indexed when the actor is next fetched.
INSERT INTO account_search (rowid, handle, display_name, fields, tags, note)
SELECT a.id, a.username, a.display_name,
       COALESCE((SELECT group_concat(COALESCE(json_extract(f.value, '$.name'), '') || ' ' ||
                                     COALESCE(json_extract(f.value, '$.value'), ''), ' ')
                 FROM json_each(CASE WHEN json_valid(a.fields) THEN a.fields ELSE '[]' END) f), ''),
       '',
       CASE WHEN a.domain = '' THEN a.note ELSE '' END
FROM accounts a;
