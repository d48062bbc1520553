-- The hash chains through the logs, linked once per transaction (replaces migration 0015's
-- per-row link, see 0016's docstring).
--
-- Each INSERT statement on a log notes its new rows in history_pending (one statement, from the
-- transition table) and marks its transaction due in history_due. The first mark of a
-- transaction fires a deferred trigger, once, at commit: it takes the log's lock, reads the
-- chain's head, links the transaction's rows in id order in one pass and writes the links in
-- one statement. Links still follow commit order and the lock is still held only from there to
-- the end of the commit.

CREATE TABLE history_pending (
    xact bigint NOT NULL,       -- pg_current_xact_id() of the transaction that inserted the row
    log text NOT NULL,
    row_id bigint NOT NULL
);
CREATE INDEX history_pending_xact ON history_pending (xact);

CREATE TABLE history_due (
    xact bigint PRIMARY KEY
);

CREATE FUNCTION fugong_chain_note() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    xact bigint := pg_current_xact_id()::text::bigint;
BEGIN
    INSERT INTO history_pending (xact, log, row_id) SELECT xact, TG_TABLE_NAME, id FROM new_rows;
    IF FOUND THEN
        -- ON CONFLICT DO NOTHING fires no row trigger: the link trigger runs once a transaction.
        INSERT INTO history_due VALUES (xact) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION fugong_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    chained text;
    item record;
    head_position bigint;
    head bytea;
    positions bigint[];
    row_ids bigint[];
    prevs bytea[];
    hashes bytea[];
BEGIN
    -- Locks in name order, so two transactions writing both logs never wait on each other.
    FOR chained IN SELECT DISTINCT log FROM history_pending WHERE xact = NEW.xact ORDER BY log LOOP
        PERFORM pg_advisory_xact_lock(hashtext('fugong_chain:' || chained));
        SELECT position, hash INTO head_position, head FROM history_chain
        WHERE log = chained ORDER BY position DESC LIMIT 1;
        head_position := coalesce(head_position, 0);
        positions := '{}'; row_ids := '{}'; prevs := '{}'; hashes := '{}';
        FOR item IN EXECUTE format(
            'SELECT t.id::bigint AS id, fugong_chain_content(t) AS content FROM %I t'
            ' WHERE t.id IN (SELECT row_id FROM history_pending WHERE xact = $1 AND log = $2)'
            ' ORDER BY t.id', chained) USING NEW.xact, chained
        LOOP
            head_position := head_position + 1;
            positions := array_append(positions, head_position);
            row_ids := array_append(row_ids, item.id);
            prevs := array_append(prevs, head);
            head := fugong_chain_link(head, item.content);
            hashes := array_append(hashes, head);
        END LOOP;
        INSERT INTO history_chain (log, position, row_id, prev, hash)
        SELECT chained, * FROM unnest(positions, row_ids, prevs, hashes);
    END LOOP;
    DELETE FROM history_pending WHERE xact = NEW.xact;
    DELETE FROM history_due WHERE xact = NEW.xact;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER history_due_chain AFTER INSERT ON history_due
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fugong_chain();
