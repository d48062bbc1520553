-- Row-level security: the area scope that geo/scope.py writes into every statement, enforced
-- again by PostgreSQL for the serving role (the owner, running migrations and the seed, is not
-- subject to it). The caller is set per transaction by geo/row_security.py:
--   fugong.role        DISTRICT_OFFICER, TOWN_OFFICER, INSPECTOR, ENTERPRISE; empty: anonymous
--   fugong.account_id  the account;  fugong.town_id  a town officer's town
--   fugong.enterprise_id  an enterprise account's own enterprise
-- Public rows (areas, enterprises, sites, flags) stay readable by all; private rows (rentals,
-- patrol zones, quarantine sites, inspections, the audit log) and every write are walled.

CREATE FUNCTION fugong_caller_role() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('fugong.role', true), '')
$$;

CREATE FUNCTION fugong_caller_account() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('fugong.account_id', true), '')::integer
$$;

CREATE FUNCTION fugong_caller_enterprise() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('fugong.enterprise_id', true), '')::integer
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

-- The scoped policies (private rows, and changes of public ones) are made by the migration from
-- one template, spelled out in each policy rather than called as a function: a function
-- holding sub-selects is not inlined and would run them once a row, where in the policy each
-- (SELECT …) is an init plan, run once a statement.
ALTER TABLE rental_property ENABLE ROW LEVEL SECURITY;
ALTER TABLE quarantine_site ENABLE ROW LEVEL SECURITY;
ALTER TABLE patrol_zone ENABLE ROW LEVEL SECURITY;
ALTER TABLE inspection ENABLE ROW LEVEL SECURITY;

-- Public to read; changed only inside the caller's scope.
ALTER TABLE enterprise ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_read ON enterprise FOR SELECT USING (true);
ALTER TABLE construction_site ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_read ON construction_site FOR SELECT USING (true);

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
