-- The z13 tile of a point, y * 2^13 + x: a tile at zoom 13 or less is a list (or a range) of
-- these, so that an index on it, holding the columns scopes and filters read, gives a tile's
-- points without touching the table (geo.tiles thins them below zoom 14). Inlined by the
-- planner, so cheap to compute; the same arithmetic as geo.tiles' cells.
CREATE OR REPLACE FUNCTION fugong_tile_key(g geometry) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT least(greatest(floor((1 - asinh(tan(radians(ST_Y(g)))) / pi()) / 2 * 8192), 0), 8191)::bigint
           * 8192
         + least(greatest(floor((ST_X(g) + 180) / 360 * 8192), 0), 8191)::bigint
$$;

-- Vector tiles kept once built, shared by every fugong process and host, and dropped when a
-- write touches what they show.
--
-- A tile is kept per layer, z/x/y, the caller's scope (anonymous, district, town:<area id>,
-- inspector:<account id>) and the filters asked for. Statement-level triggers on the tables
-- drop every kept tile whose bounds meet the old or the new geometry of a changed row (of the
-- layers the table can change), from the transition tables; a statement that changes more
-- than a thousand rows drops by the extent of them all.
--
-- A tile built from a snapshot that misses a write, and kept after that write dropped the
-- tiles, would be stale until the next write there. So the builder holds tile_cache_guard in
-- SHARE mode from before its snapshot until it has kept the tile (and does not wait for it:
-- NOWAIT, and the tile is served but not kept), and every dropping trigger takes ROW
-- EXCLUSIVE first: a write either committed before the builder's snapshot, or drops after the
-- builder committed. Writers do not block each other.

CREATE TABLE tile_cache (
    layer text NOT NULL,
    z smallint NOT NULL,
    x integer NOT NULL,
    y integer NOT NULL,
    scope text NOT NULL,
    filters text NOT NULL,
    mvt bytea NOT NULL,
    etag text NOT NULL,
    bounds geometry(Polygon, 4326) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, z, x, y, scope, filters)
);
CREATE INDEX idx_tile_cache_bounds ON tile_cache USING gist (bounds);
CREATE INDEX ix_tile_cache_scope ON tile_cache (scope);

CREATE TABLE tile_cache_guard ();

-- TG_ARGV: the geometry columns of the table, then the layers its rows change ('*': all,
-- for areas and patrol zones, whose boundaries decide town and inspector scopes).
CREATE OR REPLACE FUNCTION fugong_tile_cache_drop() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    layers text[] := string_to_array(TG_ARGV[1], ',');
    geometries text[] := string_to_array(TG_ARGV[0], ',');
    transition text;
    touched text;
    changed bigint;
BEGIN
    LOCK TABLE tile_cache_guard IN ROW EXCLUSIVE MODE;
    IF NOT EXISTS (SELECT FROM tile_cache) THEN
        RETURN NULL;
    END IF;
    FOREACH transition IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new_rows']
                                           WHEN 'DELETE' THEN ARRAY['old_rows']
                                           ELSE ARRAY['old_rows', 'new_rows'] END
    LOOP
        SELECT string_agg(format('SELECT %I AS g FROM %I', g, transition), ' UNION ALL ')
        INTO touched FROM unnest(geometries) AS g;
        EXECUTE format('SELECT count(*) FROM %I', transition) INTO changed;
        IF changed > 1000 THEN
            touched := format('SELECT ST_SetSRID(ST_Extent(g)::geometry, 4326) AS g FROM (%s) AS t',
                              touched);
        END IF;
        EXECUTE format(
            'DELETE FROM tile_cache c USING (%s) AS t'
            ' WHERE c.bounds && t.g AND ($1 = ''{*}'' OR c.layer = ANY ($1))', touched)
        USING layers;
    END LOOP;
    RETURN NULL;
END
$$;

-- An inspector's tiles follow their zones.
CREATE OR REPLACE FUNCTION fugong_tile_cache_drop_inspector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE tile_cache_guard IN ROW EXCLUSIVE MODE;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM tile_cache WHERE scope IN (SELECT 'inspector:' || account_id FROM old_rows);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        DELETE FROM tile_cache WHERE scope IN (SELECT 'inspector:' || account_id FROM new_rows);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION fugong_tile_cache_clear() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE tile_cache_guard IN ROW EXCLUSIVE MODE;
    DELETE FROM tile_cache;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('area', 'boundary', '*'),
        ('patrol_zone', 'boundary', '*'),
        ('enterprise', 'geom', 'enterprises'),
        ('rental_property', 'geom', 'rental_properties'),
        ('construction_site', 'footprint', 'construction_sites'),
        ('quarantine_site', 'geom', 'quarantine_sites'),
        ('account_zone', NULL, NULL)) AS t(tab, geometries, layers)
    LOOP
        IF t.geometries IS NULL THEN
            EXECUTE format('CREATE TRIGGER %1$s_tile_cache_insert AFTER INSERT ON %1$I'
                           ' REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT'
                           ' EXECUTE FUNCTION fugong_tile_cache_drop_inspector()', t.tab);
            EXECUTE format('CREATE TRIGGER %1$s_tile_cache_update AFTER UPDATE ON %1$I'
                           ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                           ' FOR EACH STATEMENT EXECUTE FUNCTION fugong_tile_cache_drop_inspector()',
                           t.tab);
            EXECUTE format('CREATE TRIGGER %1$s_tile_cache_delete AFTER DELETE ON %1$I'
                           ' REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT'
                           ' EXECUTE FUNCTION fugong_tile_cache_drop_inspector()', t.tab);
        ELSE
            EXECUTE format('CREATE TRIGGER %1$s_tile_cache_insert AFTER INSERT ON %1$I'
                           ' REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT'
                           ' EXECUTE FUNCTION fugong_tile_cache_drop(%2$L, %3$L)',
                           t.tab, t.geometries, t.layers);
            EXECUTE format('CREATE TRIGGER %1$s_tile_cache_update AFTER UPDATE ON %1$I'
                           ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                           ' FOR EACH STATEMENT EXECUTE FUNCTION fugong_tile_cache_drop(%2$L, %3$L)',
                           t.tab, t.geometries, t.layers);
            EXECUTE format('CREATE TRIGGER %1$s_tile_cache_delete AFTER DELETE ON %1$I'
                           ' REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT'
                           ' EXECUTE FUNCTION fugong_tile_cache_drop(%2$L, %3$L)',
                           t.tab, t.geometries, t.layers);
        END IF;
        EXECUTE format('CREATE TRIGGER %1$s_tile_cache_truncate AFTER TRUNCATE ON %1$I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION fugong_tile_cache_clear()', t.tab);
    END LOOP;
END
$$;
