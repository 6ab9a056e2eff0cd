-- dbguard in-database guard, version 1: what is installed and what it covers, as one JSON
-- object (read by `dbguard protect --status` and `dbguard status`). Read-only; any role
-- may run it (it reads only what PUBLIC may read). Needs dbguard.installation to exist.
WITH inst AS (
    SELECT * FROM dbguard.installation
), fns AS (
    SELECT p.oid FROM pg_proc p
    WHERE p.pronamespace = 'dbguard'::regnamespace AND p.proname IN ('on_truncate', 'on_mass_change')
), candidates AS (
    SELECT c.oid, c.oid::regclass::text AS name, c.relowner,
           coalesce(r.guarded, true) AS wanted,
           (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgfoid IN (SELECT oid FROM fns)) AS triggers,
           (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgfoid IN (SELECT oid FROM fns)
                AND t.tgenabled IN ('O', 'A')) AS enabled
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN dbguard.table_rules r ON r.relid = c.oid
    WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbguard', 'pg_toast')
      AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
), tables AS (
    SELECT *, CASE
        WHEN NOT wanted THEN 'taken out of the guard with dbguard.configure'
        WHEN triggers = 0 THEN 'no guard triggers (created while the guard could not add them: run dbguard protect)'
        WHEN triggers < 3 THEN 'some guard triggers are missing (run dbguard protect)'
        WHEN enabled < 3 THEN 'guard triggers disabled'
    END AS problem
    FROM candidates
), events AS (
    SELECT e.evtname, e.evtevent, e.evtenabled
    FROM pg_event_trigger e
    WHERE e.evtfoid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'dbguard'::regnamespace)
)
SELECT json_build_object(
    'version', i.version,
    'installed_at', i.installed_at,
    'updated_at', i.updated_at,
    'owner', i.owner,
    'owner_is_superuser', coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = i.owner), false),
    'event_triggers', json_build_object(
        'installed', i.event_triggers AND (SELECT count(*) FROM events WHERE evtenabled IN ('O', 'A')) = 2,
        'missing_reason', i.event_triggers_missing,
        'triggers', coalesce((SELECT json_agg(json_build_object('name', evtname, 'event', evtevent,
                         'enabled', evtenabled IN ('O', 'A')) ORDER BY evtname) FROM events), '[]'::json)),
    'recording', json_build_object('mode', i.record_mode, 'missing_reason', i.record_missing),
    'reader', json_build_object(
        'role_exists', EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbguard_reader'),
        'granted_to', coalesce((SELECT json_agg(m.member::regrole::text ORDER BY 1) FROM pg_auth_members m
                                WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = 'dbguard_reader')), '[]'::json),
        'missing_reason', i.reader_missing),
    'defaults', json_build_object('all_rows_over', i.all_rows_over, 'share', i.share, 'share_rows_over', i.share_rows_over),
    'tables', json_build_object(
        'total', (SELECT count(*) FROM tables),
        'guarded', (SELECT count(*) FROM tables WHERE problem IS NULL),
        'unguarded', coalesce((SELECT json_agg(json_build_object('table', name, 'reason', problem) ORDER BY name)
                               FROM tables WHERE problem IS NOT NULL), '[]'::json)),
    'custom_rules', coalesce((SELECT json_agg(json_build_object('table', r.relid::regclass::text, 'guarded', r.guarded,
                                  'all_rows_over', r.all_rows_over, 'share', r.share, 'share_rows_over', r.share_rows_over)
                                  ORDER BY r.relid::regclass::text)
                              FROM dbguard.table_rules r WHERE EXISTS (SELECT 1 FROM pg_class WHERE oid = r.relid)), '[]'::json),
    'bypass', json_build_object(
        'superusers', coalesce((SELECT json_agg(rolname ORDER BY rolname) FROM pg_roles WHERE rolsuper), '[]'::json),
        'replication_roles', coalesce((SELECT json_agg(rolname ORDER BY rolname) FROM pg_roles
                                       WHERE rolreplication AND NOT rolsuper), '[]'::json),
        'approval_writers', coalesce((SELECT json_agg(r.rolname ORDER BY r.rolname) FROM pg_roles r
                                      WHERE NOT r.rolsuper AND pg_has_role(r.oid, i.owner, 'MEMBER')), '[]'::json),
        'table_owners', coalesce((SELECT json_agg(DISTINCT pg_get_userbyid(t.relowner)) FROM tables t
                                  WHERE NOT coalesce((SELECT rolsuper FROM pg_roles WHERE oid = t.relowner), false)), '[]'::json),
        'subscriptions', (SELECT count(*) FROM pg_subscription s WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()))),
    'attempts', json_build_object(
        'blocked', (SELECT count(*) FROM dbguard.attempts WHERE outcome = 'blocked'),
        'blocked_last_day', (SELECT count(*) FROM dbguard.attempts WHERE outcome = 'blocked' AND at > now() - interval '1 day'),
        'approved', (SELECT count(*) FROM dbguard.attempts WHERE outcome = 'approved'))
)::text
FROM inst i;
