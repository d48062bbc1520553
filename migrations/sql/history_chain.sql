-- A hash chain through the append-only logs: `history_chain` holds, for each row of flag_change
-- and audit_log in the order they committed, the sha256 of the previous link's hash and the
-- row's content. An edited, removed or slipped-in row breaks the chain from there on
-- (fugong verify-history finds the first break).
--
-- The link is made at commit (a deferred trigger), under a per-log lock held only from there to
-- the end of the commit: writers still make one line, and none waits on the lock while holding
-- the rows another writer needs. The serving role cannot touch the chain: only the trigger,
-- running as the owner, writes it.

CREATE TABLE history_chain (
    log text NOT NULL,
    position bigint NOT NULL,
    row_id bigint NOT NULL,
    prev bytea,
    hash bytea NOT NULL,
    PRIMARY KEY (log, position),
    UNIQUE (log, row_id)
);

-- The content as hashed: the row as jsonb text (canonical: keys sorted, no spacing choices),
-- timestamps in UTC whatever the session's time zone.
CREATE FUNCTION fugong_chain_content(item anyelement) RETURNS text
LANGUAGE sql STABLE SET timezone TO 'UTC' AS $$
    SELECT to_jsonb(item)::text
$$;

CREATE FUNCTION fugong_chain_link(prev bytea, content text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(prev, ''::bytea) || convert_to(content, 'UTF8'))
$$;
