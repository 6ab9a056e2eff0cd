-- dbguard in-database guard, version 1: remove everything install.sql added.
--
-- Run it in ONE transaction: `dbguard protect --uninstall` does, or by hand:
--   psql -X -1 -v ON_ERROR_STOP=1 -f uninstall.sql "postgres://owner@host/db"
-- Order matters: the event triggers go first, so that nothing below is refused by them.
-- Removed: the event triggers, the guard's triggers on every table, the dblink extension
-- when install.sql created it, this database's use of dbguard_reader (the role itself, with
-- its memberships, when no other guarded database uses it and dbguard created it), the
-- dbguard schema.
-- Fails (and changes nothing) when no guard is installed.

DO $uninstall$
DECLARE
    inst record;
    t record;
    m record;
BEGIN
    IF to_regclass('dbguard.installation') IS NULL THEN
        RAISE EXCEPTION 'no dbguard guard is installed in database %', current_database()
            USING ERRCODE = 'DG020';
    END IF;
    SELECT * INTO inst FROM dbguard.installation;

    DROP EVENT TRIGGER IF EXISTS dbguard_sql_drop;
    DROP EVENT TRIGGER IF EXISTS dbguard_ddl_end;

    FOR t IN SELECT tg.tgname, tg.tgrelid FROM pg_trigger tg
             JOIN pg_proc p ON p.oid = tg.tgfoid
             WHERE p.pronamespace = 'dbguard'::regnamespace AND tg.tgrelid <> 'dbguard.created_objects'::regclass
             ORDER BY tg.tgrelid, tg.tgname LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass);
    END LOOP;

    IF inst.created_dblink AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'dblink') THEN
        DROP EXTENSION dblink;
    END IF;

    -- dbguard_reader belongs to the cluster: this database stops using it; the last database
    -- that used it drops it when dbguard created it (its memberships go with it), else only
    -- the grants this database made are taken back.
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbguard_reader') THEN
        EXECUTE format('ALTER ROLE dbguard_reader IN DATABASE %I RESET dbguard.reader_used', current_database());
        IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s
                       WHERE s.setrole = 'dbguard_reader'::regrole
                         AND EXISTS (SELECT 1 FROM unnest(s.setconfig) c WHERE c LIKE 'dbguard.reader\_used=%')) THEN
            IF coalesce(shobj_description('dbguard_reader'::regrole, 'pg_authid'), '') LIKE 'dbguard:%created by dbguard protect' THEN
                BEGIN
                    DROP ROLE dbguard_reader;
                EXCEPTION WHEN dependent_objects_still_exist THEN
                    RAISE NOTICE 'dbguard: role dbguard_reader is kept: something else depends on it (%)', SQLERRM;
                END;
            ELSE
                FOR m IN SELECT x AS app FROM unnest(inst.reader_grants) x
                         WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = x) LOOP
                    EXECUTE format('REVOKE dbguard_reader FROM %I', m.app);
                END LOOP;
            END IF;
        END IF;
    END IF;
END
$uninstall$;

DROP SCHEMA dbguard CASCADE;
