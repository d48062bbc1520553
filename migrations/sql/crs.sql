-- Coordinate systems in SQL: WGS84, in which everything is stored, to and from GCJ02, BD09,
-- CGCS2000 and Web Mercator. The public pair is fugong_to_wgs84 and fugong_from_wgs84.
--
-- GCJ02 and BD09 follow the published formulas (eviltransform, prcoords 1.0.2) and prcoords'
-- China box; their inverses are solved by fixed-point iteration of the forward formulas.
-- Coordinates travel as the built-in point type, x = longitude and y = latitude.
--
-- The migration runs this file verbatim through SQLAlchemy text(): it holds no percent sign
-- and no colon directly followed by a word, either of which would be taken for a parameter.
--
-- SQL helpers are left without STRICT on purpose: a STRICT SQL function whose body is not
-- strict is never inlined, and inlining is what keeps the per-vertex formulas fast. They
-- return NULL for NULL input all the same.


-- Per coordinate: the published formulas -----------------------------------------------------

-- prcoords' sanity_in_china_p: GCJ02 is shifted inside this box, bounds included.
CREATE OR REPLACE FUNCTION fugong_in_china(q point) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT q[0] BETWEEN 72.004 AND 137.8347 AND q[1] BETWEEN 0.8293 AND 55.8271
$$;

-- GCJ02's distortion north, in metres, for x = lon - 105 and y = lat - 35.
CREATE OR REPLACE FUNCTION fugong_gcj02_dlat_m(x float8, y float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT -100 + 2 * x + 3 * y + 0.2::float8 * y * y + 0.1::float8 * x * y
        + 0.2::float8 * sqrt(abs(x))
        + (2 * sin(x * 6 * pi()) + 2 * sin(x * 2 * pi())
           + 2 * sin(y * pi()) + 4 * sin(y / 3 * pi())
           + 16 * sin(y / 12 * pi()) + 32 * sin(y / 30 * pi())) * 20 / 3
$$;

-- GCJ02's distortion east, in metres, for x = lon - 105 and y = lat - 35.
CREATE OR REPLACE FUNCTION fugong_gcj02_dlon_m(x float8, y float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 300 + x + 2 * y + 0.1::float8 * x * x + 0.1::float8 * x * y
        + 0.1::float8 * sqrt(abs(x))
        + (2 * sin(x * 6 * pi()) + 2 * sin(x * 2 * pi())
           + 2 * sin(x * pi()) + 4 * sin(x / 3 * pi())
           + 15 * sin(x / 12 * pi()) + 30 * sin(x / 30 * pi())) * 20 / 3
$$;

-- 1 - e^2 sin^2(lat) on the Krasovsky 1940 ellipsoid, which both arc lengths below share.
CREATE OR REPLACE FUNCTION fugong_gcj02_magic(lat float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 1 - 0.00669342162296594323::float8 * sin(radians(lat)) ^ 2
$$;

-- GCJ02's shift at q in degrees, without the China test. Metres become degrees on Krasovsky
-- although q is WGS84: that mix is the published formula, so it is kept.
CREATE OR REPLACE FUNCTION fugong_gcj02_shift(q point) RETURNS point
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT point(
        fugong_gcj02_dlon_m(q[0] - 105, q[1] - 35)
            / radians(6378245::float8 * cos(radians(q[1])) / sqrt(fugong_gcj02_magic(q[1]))),
        fugong_gcj02_dlat_m(q[0] - 105, q[1] - 35)
            / radians(6378245::float8 * (1 - 0.00669342162296594323::float8)
                      / power(fugong_gcj02_magic(q[1]), 1.5::float8)))
$$;

-- WGS84 to GCJ02: shifted inside the China box, unchanged outside. Inlined by the planner.
CREATE OR REPLACE FUNCTION fugong_wgs84_to_gcj02(q point) RETURNS point
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN fugong_in_china(q) THEN q + fugong_gcj02_shift(q) ELSE q END
$$;

-- GCJ02 to WGS84: w = gcj - shift(w), iterated from w = gcj. Like prcoords, the box is tested
-- on the GCJ02 input and the iteration uses the unchecked shift. Each step shrinks the error
-- about 200-fold, so 5 steps take the shift's 0.005 degrees below 1e-11 (a millimetre is 1e-8).
CREATE OR REPLACE FUNCTION fugong_gcj02_to_wgs84(q point) RETURNS point
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    w point := q;
BEGIN
    IF NOT fugong_in_china(q) THEN
        RETURN q;
    END IF;
    FOR i IN 1..5 LOOP
        w := q - fugong_gcj02_shift(w);
    END LOOP;
    RETURN w;
END
$$;

-- GCJ02 to BD09, Baidu's published formula. As in prcoords and eviltransform it has no China
-- test of its own: only the GCJ02 step does.
CREATE OR REPLACE FUNCTION fugong_gcj02_to_bd09(q point) RETURNS point
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    r float8 := sqrt(q[0] * q[0] + q[1] * q[1]) + 0.00002::float8 * sin(radians(q[1]) * 3000);
    theta float8 := atan2(q[1], q[0]) + 0.000003::float8 * cos(radians(q[0]) * 3000);
BEGIN
    RETURN point(r * cos(theta) + 0.0065::float8, r * sin(theta) + 0.006::float8);
END
$$;

-- BD09 to GCJ02: the published inverse, which alone is off by up to 2e-6 degrees, then
-- g = g - (bd(g) - b) until bd(g) reproduces the input; each step shrinks the error 50-fold.
CREATE OR REPLACE FUNCTION fugong_bd09_to_gcj02(b point) RETURNS point
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    u float8 := b[0] - 0.0065::float8;
    v float8 := b[1] - 0.006::float8;
    r float8 := sqrt(u * u + v * v) - 0.00002::float8 * sin(radians(v) * 3000);
    theta float8 := atan2(v, u) - 0.000003::float8 * cos(radians(u) * 3000);
    g point := point(r * cos(theta), r * sin(theta));
BEGIN
    FOR i IN 1..4 LOOP
        g := g - (fugong_gcj02_to_bd09(g) - b);
    END LOOP;
    RETURN g;
END
$$;


-- Per vertex: one direction at a time ---------------------------------------------------------

-- The four shifts by name, so that one geometry mapper serves them all. Inlined into its
-- caller, where WGS84 to GCJ02 then needs no further call; an unknown op gives NULL.
CREATE OR REPLACE FUNCTION fugong_shift(q point, op text) RETURNS point
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE op
        WHEN 'WGS84>GCJ02' THEN fugong_wgs84_to_gcj02(q)
        WHEN 'GCJ02>WGS84' THEN fugong_gcj02_to_wgs84(q)
        WHEN 'WGS84>BD09' THEN fugong_gcj02_to_bd09(fugong_wgs84_to_gcj02(q))
        WHEN 'BD09>WGS84' THEN fugong_gcj02_to_wgs84(fugong_bd09_to_gcj02(q))
    END
$$;

-- A non-empty Point moved by op, tagged SRID 0. A PL/pgSQL variable holds its coordinates:
-- inlined, the formulas would re-read them from the geometry at each of some forty uses.
-- Z and M, if any, ride along: such a point is translated rather than rebuilt.
CREATE OR REPLACE FUNCTION fugong_shift_vertex(p geometry, op text) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    q point := p::point;
    moved point := fugong_shift(q, op);
BEGIN
    IF ST_Zmflag(p) = 0 THEN
        RETURN moved::geometry;
    END IF;
    RETURN ST_SetSRID(ST_Translate(p, moved[0] - q[0], moved[1] - q[1]), 0);
END
$$;


-- Per geometry: rebuild any structure from shifted vertices -----------------------------------

-- Every vertex of g moved by op, in order. Equal vertices give equal results, so a closed
-- ring stays exactly closed.
CREATE OR REPLACE FUNCTION fugong_shift_vertices(g geometry, op text) RETURNS geometry[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    -- Ordered by ordinality: it is the dump's own order, and far cheaper to sort than path arrays.
    RETURN ARRAY(
        SELECT fugong_shift_vertex(d.geom, op)
        FROM ST_DumpPoints(g) WITH ORDINALITY AS d(path, geom, n)
        ORDER BY d.n);
END
$$;

-- A Polygon with its shell and holes shifted; ST_DumpRings numbers the shell 0.
CREATE OR REPLACE FUNCTION fugong_shift_polygon(g geometry, op text) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    rings geometry[] := ARRAY(
        SELECT ST_MakeLine(fugong_shift_vertices(ST_ExteriorRing(r.geom), op))
        FROM ST_DumpRings(g) AS r
        ORDER BY r.path[1]);
BEGIN
    RETURN ST_MakePolygon(rings[1], rings[2:]);
END
$$;

-- A collection with each member shifted. ST_Collect makes members of one type a Multi*, which
-- is right for a Multi* but not for a GeometryCollection, so that one is forced back.
CREATE OR REPLACE FUNCTION fugong_shift_collection(g geometry, op text) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    c geometry := (
        SELECT ST_Collect(fugong_shift_geometry(ST_GeometryN(g, n), op) ORDER BY n)
        FROM generate_series(1, ST_NumGeometries(g)) AS n);
BEGIN
    IF ST_GeometryType(g) = 'ST_GeometryCollection' THEN
        RETURN ST_ForceCollection(c);
    END IF;
    RETURN c;
END
$$;

-- Any geometry with every vertex shifted by op and its structure kept, tagged SRID 0.
CREATE OR REPLACE FUNCTION fugong_shift_geometry(g geometry, op text) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    -- One SRID throughout, or ST_Collect would refuse members rebuilt with SRID 0.
    g := ST_SetSRID(g, 0);
    IF ST_IsEmpty(g) THEN
        RETURN g;
    END IF;
    CASE ST_GeometryType(g)
        WHEN 'ST_Point' THEN
            RETURN fugong_shift_vertex(g, op);
        WHEN 'ST_LineString' THEN
            RETURN ST_MakeLine(fugong_shift_vertices(g, op));
        WHEN 'ST_Polygon' THEN
            RETURN fugong_shift_polygon(g, op);
        WHEN 'ST_MultiPoint' THEN
            -- ST_DumpPoints skips empty members, so only a multipoint without any is flattened.
            IF ST_NPoints(g) = ST_NumGeometries(g) THEN
                RETURN ST_Collect(fugong_shift_vertices(g, op));
            END IF;
            RETURN fugong_shift_collection(g, op);
        WHEN 'ST_MultiLineString', 'ST_MultiPolygon', 'ST_GeometryCollection' THEN
            RETURN fugong_shift_collection(g, op);
        ELSE
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = 'fugong: cannot change the coordinate system of a '
                    || ST_GeometryType(g) || ' (only points, lines, polygons and their collections)';
    END CASE;
END
$$;

-- Any geometry moved by op and tagged SRID 4326. Inlined into the caller, so that a column of
-- points, the common case, goes straight to fugong_shift_vertex.
CREATE OR REPLACE FUNCTION fugong_shift_any(g geometry, op text) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ST_SetSRID(
        CASE WHEN ST_GeometryType(g) = 'ST_Point' AND NOT ST_IsEmpty(g)
             THEN fugong_shift_vertex(g, op)
             ELSE fugong_shift_geometry(g, op) END,
        4326)
$$;


-- Public ----------------------------------------------------------------------------------------

-- Raised for a crs name outside the five; a function so that the SQL CASE below can raise.
CREATE OR REPLACE FUNCTION fugong_unknown_crs(crs text) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'invalid_parameter_value',
        MESSAGE = 'fugong: unknown coordinate system ' || coalesce(quote_literal(crs), 'NULL')
            || ' (expected WGS84, GCJ02, BD09, CGCS2000 or WEB_MERCATOR)';
END
$$;

-- g's coordinates read in crs, returned in WGS84 with SRID 4326; g's own SRID is ignored.
-- Not STRICT so that it inlines (see the top); NULL g or crs still gives NULL.
CREATE OR REPLACE FUNCTION fugong_to_wgs84(g geometry, crs text) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN g IS NULL OR crs IS NULL THEN NULL
        WHEN crs = 'WGS84' THEN ST_SetSRID(g, 4326)
        WHEN crs = 'GCJ02' THEN fugong_shift_any(g, 'GCJ02>WGS84')
        WHEN crs = 'BD09' THEN fugong_shift_any(g, 'BD09>WGS84')
        WHEN crs = 'CGCS2000' THEN ST_Transform(ST_SetSRID(g, 4490), 4326)
        WHEN crs = 'WEB_MERCATOR' THEN ST_Transform(ST_SetSRID(g, 3857), 4326)
        ELSE fugong_unknown_crs(crs)
    END
$$;

-- g's coordinates read in WGS84, returned in crs: SRID 4490 for CGCS2000, 3857 for Web
-- Mercator, and 4326 for WGS84, GCJ02 and BD09, which have no SRID of their own.
CREATE OR REPLACE FUNCTION fugong_from_wgs84(g geometry, crs text) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN g IS NULL OR crs IS NULL THEN NULL
        WHEN crs = 'WGS84' THEN ST_SetSRID(g, 4326)
        WHEN crs = 'GCJ02' THEN fugong_shift_any(g, 'WGS84>GCJ02')
        WHEN crs = 'BD09' THEN fugong_shift_any(g, 'WGS84>BD09')
        WHEN crs = 'CGCS2000' THEN ST_Transform(ST_SetSRID(g, 4326), 4490)
        WHEN crs = 'WEB_MERCATOR' THEN ST_Transform(ST_SetSRID(g, 4326), 3857)
        ELSE fugong_unknown_crs(crs)
    END
$$;
