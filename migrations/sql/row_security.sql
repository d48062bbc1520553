-- Row-level security: the area scope that geo/scope.py writes into every statement, enforced
-- again by PostgreSQL for the serving role (the owner, running migrations and the seed, is not
-- subject to it). The caller is set per transaction by geo/row_security.py:
--   fugong.role        DISTRICT_OFFICER, TOWN_OFFICER, INSPECTOR; empty: anonymous
--   fugong.account_id  the account;  fugong.town_id  a town officer's town
-- Public rows (areas, enterprises, sites, flags) stay readable by all; private rows (rentals,
-- patrol zones, quarantine sites, inspections, the audit log) and every write are walled.

CREATE FUNCTION fugong_caller_role() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('fugong.role', true), '')
$$;

CREATE FUNCTION fugong_caller_account() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('fugong.account_id', true), '')::integer
$$;

-- A town officer's town and every area below it.
CREATE FUNCTION fugong_caller_areas() RETURNS integer[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH RECURSIVE tree AS (
        SELECT id FROM area WHERE id = nullif(current_setting('fugong.town_id', true), '')::integer
        UNION ALL
        SELECT area.id FROM area JOIN tree ON area.parent_id = tree.id
    )
    SELECT coalesce(array_agg(id), '{}') FROM tree
$$;

-- An inspector's zones, as their ids and as one geometry.
CREATE FUNCTION fugong_caller_zone_ids() RETURNS integer[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(array_agg(zone_id), '{}') FROM account_zone
    WHERE account_id = fugong_caller_account()
$$;

CREATE FUNCTION fugong_caller_zones() RETURNS geometry
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT ST_Union(boundary) FROM patrol_zone WHERE id = ANY (fugong_caller_zone_ids())
$$;

-- Each policy spells the scope out rather than calling a function for it: a function holding
-- sub-selects is not inlined, and would run them once a row; here each (SELECT …) is an
-- init plan, run once a statement.
ALTER TABLE rental_property ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON rental_property USING (
    CASE (SELECT fugong_caller_role())
        WHEN 'DISTRICT_OFFICER' THEN true
        WHEN 'TOWN_OFFICER' THEN area_id IN (SELECT unnest(fugong_caller_areas()))
        WHEN 'INSPECTOR' THEN ST_Intersects(geom, (SELECT fugong_caller_zones()))
        ELSE false
    END
);

ALTER TABLE quarantine_site ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON quarantine_site USING (
    CASE (SELECT fugong_caller_role())
        WHEN 'DISTRICT_OFFICER' THEN true
        WHEN 'TOWN_OFFICER' THEN area_id IN (SELECT unnest(fugong_caller_areas()))
        WHEN 'INSPECTOR' THEN ST_Intersects(geom, (SELECT fugong_caller_zones()))
        ELSE false
    END
);

ALTER TABLE patrol_zone ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON patrol_zone USING (
    CASE (SELECT fugong_caller_role())
        WHEN 'DISTRICT_OFFICER' THEN true
        WHEN 'TOWN_OFFICER' THEN area_id IN (SELECT unnest(fugong_caller_areas()))
        WHEN 'INSPECTOR' THEN id IN (SELECT unnest(fugong_caller_zone_ids()))
        ELSE false
    END
);

-- Recorded a few metres off, over a zone's edge, a visit is still its inspector's.
ALTER TABLE inspection ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON inspection USING (
    account_id = (SELECT fugong_caller_account()) OR CASE (SELECT fugong_caller_role())
        WHEN 'DISTRICT_OFFICER' THEN true
        WHEN 'TOWN_OFFICER' THEN area_id IN (SELECT unnest(fugong_caller_areas()))
        WHEN 'INSPECTOR' THEN ST_Intersects(geom, (SELECT fugong_caller_zones()))
        ELSE false
    END
);

-- Public to read; changed only inside the caller's scope.
ALTER TABLE enterprise ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_read ON enterprise FOR SELECT USING (true);
CREATE POLICY scoped_change ON enterprise FOR UPDATE USING (
    CASE (SELECT fugong_caller_role())
        WHEN 'DISTRICT_OFFICER' THEN true
        WHEN 'TOWN_OFFICER' THEN area_id IN (SELECT unnest(fugong_caller_areas()))
        WHEN 'INSPECTOR' THEN ST_Intersects(geom, (SELECT fugong_caller_zones()))
        ELSE false
    END
);

ALTER TABLE construction_site ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_read ON construction_site FOR SELECT USING (true);
CREATE POLICY scoped_change ON construction_site FOR UPDATE USING (
    CASE (SELECT fugong_caller_role())
        WHEN 'DISTRICT_OFFICER' THEN true
        WHEN 'TOWN_OFFICER' THEN area_id IN (SELECT unnest(fugong_caller_areas()))
        WHEN 'INSPECTOR' THEN ST_Intersects(footprint, (SELECT fugong_caller_zones()))
        ELSE false
    END
);

-- Flag history is public; only a logged-in caller appends to it.
ALTER TABLE flag_change ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_read ON flag_change FOR SELECT USING (true);
CREATE POLICY logged_in_append ON flag_change FOR INSERT
    WITH CHECK ((SELECT fugong_caller_role()) IS NOT NULL);

-- Who read what: appended as oneself; read by district officers, and each their own (which
-- INSERT … RETURNING needs).
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY district_read ON audit_log FOR SELECT
    USING ((SELECT fugong_caller_role()) = 'DISTRICT_OFFICER'
        OR account_id = (SELECT fugong_caller_account()));
CREATE POLICY own_append ON audit_log FOR INSERT
    WITH CHECK (account_id = (SELECT fugong_caller_account()));
