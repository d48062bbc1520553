-- Live flag changes: a notification on channel flag_changed for one flag_change row.

-- The payload names the target as the API does ("Enterprise:42"), and the codes of its area
-- and of every area above it, district first, so that a subscriber to any of them hears it.
-- NOTIFY is delivered when the transaction commits, and never if it rolls back. The payload
-- stays far below PostgreSQL's 8000 bytes: the reason (up to 20 problems) is not in it, and a
-- listener reads it from flag_change by id.
CREATE OR REPLACE FUNCTION fugong_notify_flag_change(change_id bigint) RETURNS void
LANGUAGE sql VOLATILE AS $$
    WITH RECURSIVE
    change AS (
        SELECT c.*,
               CASE WHEN c.enterprise_id IS NOT NULL THEN 'Enterprise:' || c.enterprise_id
                    ELSE 'ConstructionSite:' || c.construction_site_id END AS target,
               coalesce((SELECT area_id FROM enterprise WHERE id = c.enterprise_id),
                        (SELECT area_id FROM construction_site WHERE id = c.construction_site_id))
                   AS area_id
        FROM flag_change c WHERE c.id = change_id
    ),
    up(id, parent_id, code, depth) AS (
        SELECT a.id, a.parent_id, a.code, 0 FROM area a JOIN change ON a.id = change.area_id
        UNION ALL
        SELECT a.id, a.parent_id, a.code, up.depth + 1 FROM area a JOIN up ON a.id = up.parent_id
    )
    SELECT pg_notify('flag_changed', json_build_object(
        'id', change.id,
        'target', change.target,
        'areas', coalesce((SELECT json_agg(code ORDER BY depth DESC) FROM up), '[]'::json),
        'from', change.from_color,
        'to', change.to_color,
        'at', change.at,
        'source', change.source
    )::text)
    FROM change
$$;
