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

-- Full-text index of profiles for account search, one row per account, rewritten by the store
-- in the transaction of every profile change. Weights are the search tiers: A handle and
-- display name, B fields and featured tags, D the bio ('simple': no stemming, no stop words,
-- as names and skills are not prose).
CREATE TABLE account_search (
    account_id  BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    doc         TSVECTOR NOT NULL
);
CREATE INDEX account_search_doc ON account_search USING GIN (doc);
-- Handle prefixes (`ada` finds `adam`) by index: LIKE 'x%' needs pattern ops under a collation.
CREATE INDEX accounts_username_prefix ON accounts (username_key text_pattern_ops);

-- Existing profiles. Remote bios are HTML and remote fields were not kept until now; both are
-- indexed when the actor is next fetched.
INSERT INTO account_search (account_id, doc)
SELECT a.id,
       setweight(to_tsvector('simple', a.username || ' ' || a.display_name), 'A') ||
       setweight(to_tsvector('simple', COALESCE((
           SELECT string_agg(COALESCE(f->>'name', '') || ' ' || COALESCE(f->>'value', ''), ' ')
           FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a.fields::jsonb) = 'array'
                                          THEN a.fields::jsonb ELSE '[]'::jsonb END) f), '')), 'B') ||
       setweight(to_tsvector('simple', CASE WHEN a.domain = '' THEN a.note ELSE '' END), 'D')
FROM accounts a;
