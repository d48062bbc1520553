-- Flag counts kept as flags change, so that flagCounts reads a few thousand rows, not a million.
--
-- flag_tally holds the stored flags per (kind, area, colour); flag_tally_daily holds, per day
-- in Asia/Shanghai, how the history moved them: each change adds one to its colour and takes
-- one from the colour it followed (a target's first change takes nothing). The sum over the
-- days up to D is then, per area and colour, the number of targets whose last change before
-- the end of D has that colour: what geo.flag_counts counts. kind is the target's table.
--
-- Statement-level triggers keep both, from the transition tables: a bulk load is one
-- set-based statement, not a million row triggers. Writers only append rows (no row is ever
-- updated, so concurrent writers never wait for each other); fugong_tally_compact folds them
-- back into one row per group when no other writer is folding (an advisory lock, tried).
-- A change appended to a target's history must hold the target's row lock, as geo.flags does,
-- so that the history a trigger reads is the one its change follows.

CREATE TABLE flag_tally (
    kind text NOT NULL,
    area_id integer NOT NULL,
    color flag_color NOT NULL,
    n bigint NOT NULL
);

CREATE TABLE flag_tally_daily (
    kind text NOT NULL,
    area_id integer NOT NULL,
    day date NOT NULL,
    color flag_color NOT NULL,
    n bigint NOT NULL
);
CREATE INDEX ix_flag_tally_daily_day ON flag_tally_daily (day) INCLUDE (kind, area_id, color, n);

-- The terms of flag_tally_daily for some targets: `targets` is a query of (id, area_id, sign),
-- `history` a relation of flag_change rows. Built as text, to run with EXECUTE inside a
-- trigger, where the transition tables are visible.
CREATE OR REPLACE FUNCTION fugong_tally_terms(kind text, fk text, targets text, history text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT format($q$
        SELECT %1$L AS kind, s.area_id, (h.at AT TIME ZONE 'Asia/Shanghai')::date AS day,
               c.color, s.sign * c.n AS n
        FROM (%3$s) AS s
        JOIN (SELECT f.%2$I AS target, f.at, f.to_color,
                     lag(f.to_color) OVER (PARTITION BY f.%2$I ORDER BY f.at, f.id) AS before
              FROM %4$s AS f
              WHERE f.%2$I IN (SELECT t.id FROM (%3$s) AS t)) AS h ON h.target = s.id
        CROSS JOIN LATERAL (VALUES (h.to_color, 1), (h.before, -1)) AS c(color, n)
        WHERE s.area_id IS NOT NULL AND c.color IS NOT NULL
    $q$, kind, fk, targets, history)
$$;

-- The statement that appends the terms, one row per group, and answers the first day they
-- touch (NULL: none). Text too: only the trigger function itself sees its transition tables.
CREATE OR REPLACE FUNCTION fugong_tally_append(terms text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format(
        'WITH appended AS (INSERT INTO flag_tally_daily (kind, area_id, day, color, n)'
        ' SELECT kind, area_id, day, color, sum(n) FROM (%s) AS terms'
        ' GROUP BY kind, area_id, day, color HAVING sum(n) <> 0 RETURNING day)'
        ' SELECT min(day) FROM appended', terms)
$$;

-- One row per group again: of flag_tally when `stored`, of flag_tally_daily from `since` on.
-- Skipped while another transaction folds (the next writer folds what it left), and outside
-- READ COMMITTED, where a statement might not see what the last folder committed.
CREATE OR REPLACE FUNCTION fugong_tally_compact(stored boolean, since date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (stored OR since IS NOT NULL)
       OR current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock(hashtext('fugong_tally_compact')) THEN
        RETURN;
    END IF;
    IF stored THEN
        WITH folded AS (
            SELECT kind, area_id, color FROM flag_tally
            GROUP BY kind, area_id, color HAVING count(*) > 1
        ), gone AS (
            DELETE FROM flag_tally t USING folded f
            WHERE (t.kind, t.area_id, t.color) = (f.kind, f.area_id, f.color)
            RETURNING t.kind, t.area_id, t.color, t.n
        )
        INSERT INTO flag_tally (kind, area_id, color, n)
        SELECT kind, area_id, color, sum(n) FROM gone
        GROUP BY kind, area_id, color HAVING sum(n) <> 0;
    END IF;
    IF since IS NOT NULL THEN
        WITH folded AS (
            SELECT kind, area_id, day, color FROM flag_tally_daily WHERE day >= since
            GROUP BY kind, area_id, day, color HAVING count(*) > 1
        ), gone AS (
            DELETE FROM flag_tally_daily t USING folded f
            WHERE (t.kind, t.area_id, t.day, t.color) = (f.kind, f.area_id, f.day, f.color)
            RETURNING t.kind, t.area_id, t.day, t.color, t.n
        )
        INSERT INTO flag_tally_daily (kind, area_id, day, color, n)
        SELECT kind, area_id, day, color, sum(n) FROM gone
        GROUP BY kind, area_id, day, color HAVING sum(n) <> 0;
    END IF;
END
$$;

-- On enterprise and construction_site; TG_ARGV[0] is the target's column in flag_change.
-- Inserted rows count in, deleted rows out; an updated row moves when its colour or its area
-- changed, and with its area its whole history. An update (a report, a flag) is static SQL,
-- planned once per session; the rest is built for the table and planned for its rows.
CREATE OR REPLACE FUNCTION fugong_tally_targets() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target_kind text := TG_TABLE_NAME;
    fk text := TG_ARGV[0];
    stored text;
    moved text;
    appended bigint;
    since date;
    any_moved boolean;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO flag_tally (kind, area_id, color, n)
        SELECT target_kind, area_id, color, sum(sign) FROM (
            SELECT o.area_id, o.flag_color AS color, -1 AS sign
            FROM old_rows o JOIN new_rows n USING (id)
            WHERE (o.area_id, o.flag_color) IS DISTINCT FROM (n.area_id, n.flag_color)
            UNION ALL
            SELECT n.area_id, n.flag_color, 1
            FROM old_rows o JOIN new_rows n USING (id)
            WHERE (o.area_id, o.flag_color) IS DISTINCT FROM (n.area_id, n.flag_color)
        ) AS s
        WHERE area_id IS NOT NULL GROUP BY area_id, color HAVING sum(sign) <> 0;
        GET DIAGNOSTICS appended = ROW_COUNT;
        any_moved := EXISTS (SELECT FROM old_rows o JOIN new_rows n USING (id)
                             WHERE o.area_id IS DISTINCT FROM n.area_id);
        moved := 'SELECT o.id, o.area_id AS old_area, n.area_id AS new_area'
              || ' FROM old_rows o JOIN new_rows n USING (id)'
              || ' WHERE o.area_id IS DISTINCT FROM n.area_id';
        moved := format('SELECT id, old_area AS area_id, -1 AS sign FROM (%1$s) AS m'
                        ' UNION ALL SELECT id, new_area, 1 FROM (%1$s) AS m', moved);
    ELSE
        IF TG_OP = 'INSERT' THEN
            stored := 'SELECT area_id, flag_color, 1 AS sign FROM new_rows';
            moved := 'SELECT id, area_id, 1 AS sign FROM new_rows';
        ELSE
            stored := 'SELECT area_id, flag_color, -1 AS sign FROM old_rows';
            moved := 'SELECT id, area_id, -1 AS sign FROM old_rows';
        END IF;
        EXECUTE format(
            'INSERT INTO flag_tally (kind, area_id, color, n)'
            ' SELECT %L, area_id, flag_color, sum(sign) FROM (%s) AS s WHERE area_id IS NOT NULL'
            ' GROUP BY area_id, flag_color HAVING sum(sign) <> 0', target_kind, stored);
        GET DIAGNOSTICS appended = ROW_COUNT;
        -- With the foreign keys in place a new target has no history: asked first, so that a
        -- bulk load plans nothing over it.
        EXECUTE format('SELECT EXISTS (SELECT FROM flag_change WHERE %I IN (SELECT id FROM (%s) AS m))',
                       fk, moved) INTO any_moved;
    END IF;
    IF any_moved THEN
        EXECUTE fugong_tally_append(fugong_tally_terms(target_kind, fk, moved, 'flag_change'))
        INTO since;
    END IF;
    PERFORM fugong_tally_compact(appended > 0, since);
    RETURN NULL;
END
$$;

-- On flag_change (append-only): for each target with new changes, the contribution of its
-- whole history less the one it made without them: + the colour of each new change, - the
-- colour each change followed with them, + the one it followed without them.
CREATE OR REPLACE FUNCTION fugong_tally_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    since date;
BEGIN
    WITH history AS (
        SELECT 'enterprise' AS kind, t.area_id, f.enterprise_id AS target, f.id, f.at,
               f.to_color, f.id IN (SELECT id FROM new_changes) AS is_new
        FROM flag_change f JOIN enterprise t ON t.id = f.enterprise_id
        WHERE f.enterprise_id IN (SELECT enterprise_id FROM new_changes)
          AND t.area_id IS NOT NULL
        UNION ALL
        SELECT 'construction_site', t.area_id, f.construction_site_id, f.id, f.at,
               f.to_color, f.id IN (SELECT id FROM new_changes)
        FROM flag_change f JOIN construction_site t ON t.id = f.construction_site_id
        WHERE f.construction_site_id IN (SELECT construction_site_id FROM new_changes)
          AND t.area_id IS NOT NULL
    ), terms AS (
        SELECT kind, area_id, at, to_color AS color, 1 AS n FROM history WHERE is_new
        UNION ALL
        SELECT kind, area_id, at, lag(to_color) OVER (PARTITION BY kind, target ORDER BY at, id), -1
        FROM history
        UNION ALL
        SELECT kind, area_id, at, lag(to_color) OVER (PARTITION BY kind, target ORDER BY at, id), 1
        FROM history WHERE NOT is_new
    ), appended AS (
        INSERT INTO flag_tally_daily (kind, area_id, day, color, n)
        SELECT kind, area_id, (at AT TIME ZONE 'Asia/Shanghai')::date, color, sum(n)
        FROM terms WHERE color IS NOT NULL
        GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
        RETURNING day
    )
    SELECT min(day) INTO since FROM appended;
    PERFORM fugong_tally_compact(false, since);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION fugong_tally_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'flag_change' THEN
        DELETE FROM flag_tally_daily;
    ELSE
        DELETE FROM flag_tally WHERE kind = TG_TABLE_NAME;
        DELETE FROM flag_tally_daily WHERE kind = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$;

-- Both tallies recomputed from the tables: for the migration, and to check the triggers.
CREATE OR REPLACE FUNCTION fugong_tally_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target record;
BEGIN
    DELETE FROM flag_tally;
    DELETE FROM flag_tally_daily;
    FOR target IN SELECT * FROM (VALUES ('enterprise', 'enterprise_id'),
                                        ('construction_site', 'construction_site_id')) AS t(kind, fk)
    LOOP
        EXECUTE format(
            'INSERT INTO flag_tally (kind, area_id, color, n)'
            ' SELECT %1$L, area_id, flag_color, count(*) FROM %1$I WHERE area_id IS NOT NULL'
            ' GROUP BY area_id, flag_color', target.kind);
        EXECUTE fugong_tally_append(fugong_tally_terms(
            target.kind, target.fk,
            format('SELECT id, area_id, 1 AS sign FROM %I', target.kind), 'flag_change'));
    END LOOP;
END
$$;

DO $$
DECLARE
    target record;
BEGIN
    FOR target IN SELECT * FROM (VALUES ('enterprise', 'enterprise_id'),
                                        ('construction_site', 'construction_site_id')) AS t(kind, fk)
    LOOP
        EXECUTE format('CREATE TRIGGER %1$s_tally_insert AFTER INSERT ON %1$I'
                       ' REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT'
                       ' EXECUTE FUNCTION fugong_tally_targets(%2$L)', target.kind, target.fk);
        EXECUTE format('CREATE TRIGGER %1$s_tally_update AFTER UPDATE ON %1$I'
                       ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION fugong_tally_targets(%2$L)',
                       target.kind, target.fk);
        EXECUTE format('CREATE TRIGGER %1$s_tally_delete AFTER DELETE ON %1$I'
                       ' REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT'
                       ' EXECUTE FUNCTION fugong_tally_targets(%2$L)', target.kind, target.fk);
        EXECUTE format('CREATE TRIGGER %1$s_tally_truncate AFTER TRUNCATE ON %1$I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION fugong_tally_truncated()',
                       target.kind);
    END LOOP;
END
$$;

CREATE TRIGGER flag_change_tally AFTER INSERT ON flag_change
    REFERENCING NEW TABLE AS new_changes FOR EACH STATEMENT
    EXECUTE FUNCTION fugong_tally_history();
CREATE TRIGGER flag_change_tally_truncate AFTER TRUNCATE ON flag_change
    FOR EACH STATEMENT EXECUTE FUNCTION fugong_tally_truncated();

SELECT fugong_tally_rebuild();
