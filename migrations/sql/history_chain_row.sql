-- Migration 0015's link of one log row, fired by a deferred row trigger at commit (0016 links a
-- transaction's rows in one pass instead; its downgrade brings this back).

CREATE OR REPLACE FUNCTION fugong_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last_position bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('fugong_chain:' || TG_TABLE_NAME));
    SELECT position, hash INTO last_position, last_hash FROM history_chain
    WHERE log = TG_TABLE_NAME ORDER BY position DESC LIMIT 1;
    INSERT INTO history_chain (log, position, row_id, prev, hash)
    VALUES (TG_TABLE_NAME, coalesce(last_position, 0) + 1, NEW.id, last_hash,
            fugong_chain_link(last_hash, fugong_chain_content(NEW)));
    RETURN NULL;
END
$$;
