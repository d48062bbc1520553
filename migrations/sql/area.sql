-- The area of every feature is derived here, from its geometry, and never taken from input.

-- The smallest administrative area that covers g (none, outside every area): the finest level
-- first, then the smallest. A one-SELECT SQL set function, so the planner inlines it into a
-- LATERAL join; bulk loads place millions of rows with it as one set-based statement.
CREATE OR REPLACE FUNCTION fugong_area_of(g geometry) RETURNS SETOF integer
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1 AS $$
    SELECT a.id
    FROM area a
    WHERE ST_Covers(a.boundary, g)
    ORDER BY a.level DESC, ST_Area(a.boundary), a.id
    LIMIT 1
$$;

CREATE OR REPLACE FUNCTION fugong_derive_area() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Each table names the geometry that places it; construction sites are placed by footprint.
    CASE TG_TABLE_NAME
        WHEN 'construction_site' THEN NEW.area_id := (SELECT fugong_area_of(NEW.footprint));
        WHEN 'patrol_zone' THEN NEW.area_id := (SELECT fugong_area_of(NEW.boundary));
        ELSE NEW.area_id := (SELECT fugong_area_of(NEW.geom));
    END CASE;
    RETURN NEW;
END
$$;

-- When boundaries change, every feature is placed again.
CREATE OR REPLACE FUNCTION fugong_rederive_areas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enterprise SET area_id = NULL;
    UPDATE rental_property SET area_id = NULL;
    UPDATE construction_site SET area_id = NULL;
    UPDATE patrol_zone SET area_id = NULL;
    UPDATE quarantine_site SET area_id = NULL;
    UPDATE inspection SET area_id = NULL;
    RETURN NULL;
END
$$;
