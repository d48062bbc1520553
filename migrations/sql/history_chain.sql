-- A hash chain through an append-only log: each row's chain_hash is the sha256 of the previous
-- row's hash and this row's content, so an edited, deleted or inserted row breaks every link
-- after it (fugong verify-history finds the first). Rows are chained in chain_position order,
-- assigned under a per-table lock, so concurrent writers still make one line.

-- The content as hashed: the row without its chain columns, timestamps in UTC whatever the
-- session's time zone, jsonb's text being canonical (keys sorted, no spacing choices).
CREATE FUNCTION fugong_chain_content(item anyelement) RETURNS text
LANGUAGE sql STABLE SET timezone TO 'UTC' AS $$
    SELECT (to_jsonb(item) - 'chain_position' - 'chain_prev' - 'chain_hash')::text
$$;

CREATE FUNCTION fugong_chain_link(prev bytea, content text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(prev, ''::bytea) || convert_to(content, 'UTF8'))
$$;

-- SECURITY DEFINER: it reads the log's last row, which row-level security hides from most
-- callers; whatever a caller sends in the chain columns is overwritten.
CREATE FUNCTION fugong_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last_position bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('fugong_chain:' || TG_TABLE_NAME));
    EXECUTE format(
        'SELECT chain_position, chain_hash FROM %I ORDER BY chain_position DESC LIMIT 1',
        TG_TABLE_NAME
    ) INTO last_position, last_hash;
    NEW.chain_position := coalesce(last_position, 0) + 1;
    NEW.chain_prev := last_hash;
    NEW.chain_hash := fugong_chain_link(last_hash, fugong_chain_content(NEW));
    RETURN NEW;
END
$$;
