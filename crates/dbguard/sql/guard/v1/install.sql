-- dbguard in-database guard, version 1: install, repair, or upgrade in place.
--
-- Run it in ONE transaction: `dbguard protect` does (BEGIN ... COMMIT), or by hand:
--   psql -X -1 -v ON_ERROR_STOP=1 -f install.sql "postgres://owner@host/db"
-- Re-running it is safe: tables are created if missing, functions replaced, the table
-- triggers re-created on every guarded table, the event triggers re-created. Nothing is
-- dropped and no row of the application is read or written.
--
-- Settings read here (SET LOCAL before running; all optional):
--   dbguard.install_upgrade   = 'on'   allow replacing an older guard version (--upgrade)
--   dbguard.install_reader    = 'off'  do not create/grant the dbguard_reader role
--   dbguard.install_app_roles = 'a,b'  roles to grant dbguard_reader to (default: the
--                                      non-superuser login roles owning guarded tables)
--
-- What it rests on (docs/protect.md): event triggers need a superuser (or a managed
-- service's equivalent); without one, only the table triggers are installed and
-- dbguard.installation.event_triggers says false. Everything the guard runs is SECURITY
-- DEFINER with search_path fixed to pg_catalog, pg_temp, and EXECUTE is revoked from PUBLIC:
-- triggers fire without EXECUTE rights, so the application role can call none of it.

-- 1. Refuse what must not be replaced: a foreign schema named dbguard, a newer guard, or
--    an older one without the upgrade flag.
DO $check$
DECLARE
    installed int;
BEGIN
    IF to_regnamespace('dbguard') IS NULL THEN
        RETURN;
    END IF;
    IF to_regclass('dbguard.installation') IS NULL THEN
        RAISE EXCEPTION 'a schema named dbguard exists and was not created by dbguard protect'
            USING ERRCODE = 'DG010',
                  HINT = 'rename or drop that schema first; dbguard keeps its guard in a schema of that name';
    END IF;
    SELECT version INTO installed FROM dbguard.installation;
    IF installed > 1 THEN
        RAISE EXCEPTION 'the installed guard is version %, newer than this dbguard (version 1)', installed
            USING ERRCODE = 'DG011', HINT = 'use the dbguard release that installed it';
    END IF;
    IF installed < 1 AND coalesce(current_setting('dbguard.install_upgrade', true), '') <> 'on' THEN
        RAISE EXCEPTION 'an older guard (version %) is installed', installed
            USING ERRCODE = 'DG012', HINT = 'replace it in place with: dbguard protect --upgrade';
    END IF;
END
$check$;

-- 2. The schema and its tables.
CREATE SCHEMA IF NOT EXISTS dbguard;
COMMENT ON SCHEMA dbguard IS 'dbguard in-database guard (dbguard protect). Remove it with: dbguard protect --uninstall';

-- The version marker and what this install could do. One row.
CREATE TABLE IF NOT EXISTS dbguard.installation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version int NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    owner name NOT NULL DEFAULT current_user,
    event_triggers boolean NOT NULL DEFAULT false,
    event_triggers_missing text,
    -- 'table': blocked attempts are written to dbguard.attempts over a loopback connection
    -- (dblink), which survives the rollback; 'server_log': only the server log has them.
    record_mode text NOT NULL DEFAULT 'server_log',
    record_missing text,
    loopback text,
    dblink_schema name,
    created_dblink boolean NOT NULL DEFAULT false,
    reader_grants name[] NOT NULL DEFAULT '{}',
    reader_missing text,
    -- Defaults for tables without a row in dbguard.table_rules.
    all_rows_over bigint NOT NULL DEFAULT 1000,
    share numeric NOT NULL DEFAULT 0.5 CHECK (share > 0 AND share <= 1),
    share_rows_over bigint NOT NULL DEFAULT 10000
);

-- Per-table thresholds, and tables taken out of the guard (dbguard.configure).
CREATE TABLE IF NOT EXISTS dbguard.table_rules (
    relid oid PRIMARY KEY,
    guarded boolean NOT NULL DEFAULT true,
    all_rows_over bigint,
    share numeric CHECK (share > 0 AND share <= 1),
    share_rows_over bigint,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by name NOT NULL DEFAULT session_user
);

-- What the guard stopped (and what an approved session did). Blocked rows arrive over the
-- loopback connection, so they stay when the statement is rolled back.
CREATE TABLE IF NOT EXISTS dbguard.attempts (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    outcome text NOT NULL CHECK (outcome IN ('blocked', 'approved')),
    kind text NOT NULL,
    database name NOT NULL DEFAULT current_database(),
    role name NOT NULL,
    application_name text,
    client_addr inet,
    backend_pid int,
    objects text[] NOT NULL DEFAULT '{}',
    rows_affected bigint,
    rows_total bigint,
    detail text,
    statement text
);

-- Approvals written by `dbguard approve` with the guard owner's credentials: the SHA-256
-- of a one-time token, bound to a role, a database and an expiry; the first session that
-- presents the token (PGOPTIONS='-c dbguard.approval=<token>') is bound to it.
CREATE TABLE IF NOT EXISTS dbguard.approvals (
    id bigserial PRIMARY KEY,
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    role name NOT NULL,
    database name NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    granted_by name NOT NULL DEFAULT session_user,
    code text,
    command text,
    used_at timestamptz,
    bound_pid int,
    bound_backend_start timestamptz
);
-- No policy: nobody but the owner and superusers sees a row, even with pg_read_all_data.
ALTER TABLE dbguard.approvals ENABLE ROW LEVEL SECURITY;

-- Tables, materialized views and schemas created by the running transaction (exempt from
-- the DROP rule). Rows never outlive their transaction: a deferred trigger deletes each one
-- at commit, so nothing accumulates and no other session ever sees them.
CREATE TABLE IF NOT EXISTS dbguard.created_objects (
    xid xid8 NOT NULL,
    classid oid NOT NULL,
    objid oid NOT NULL,
    PRIMARY KEY (xid, classid, objid)
);

-- 3. The version marker.
INSERT INTO dbguard.installation (version) VALUES (1)
ON CONFLICT (singleton) DO UPDATE SET version = 1, updated_at = now();

-- 4. Functions. Helpers first.

-- Is this relation one the guard covers: an ordinary or partitioned table, not temporary,
-- outside the system schemas and dbguard's own, not part of an extension?
CREATE OR REPLACE FUNCTION dbguard._is_guardable(rel oid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = rel AND c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbguard', 'pg_toast')
          AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
$$;

-- The effective thresholds of a table (its dbguard.table_rules row over the defaults).
CREATE OR REPLACE FUNCTION dbguard._rules(rel oid,
    OUT guarded boolean, OUT all_rows_over bigint, OUT share numeric, OUT share_rows_over bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(r.guarded, true),
           coalesce(r.all_rows_over, i.all_rows_over),
           coalesce(r.share, i.share),
           coalesce(r.share_rows_over, i.share_rows_over)
    FROM dbguard.installation i LEFT JOIN dbguard.table_rules r ON r.relid = rel
$$;

-- The guard's trigger functions, by OID (how its triggers are recognized, whatever their names).
CREATE OR REPLACE FUNCTION dbguard._trigger_functions() RETURNS oid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT array[to_regprocedure('dbguard.on_truncate()')::oid, to_regprocedure('dbguard.on_mass_change()')::oid]
$$;

CREATE OR REPLACE FUNCTION dbguard._session_is_superuser() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
$$;

-- Rows in a dropped table, for the message: its live tuples in the cumulative statistics
-- (the catalog row is gone by now; the statistics lag the last second or so of changes).
CREATE OR REPLACE FUNCTION dbguard._rows_estimate(rel oid) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT greatest(pg_stat_get_live_tuples(rel), 0)
$$;

-- Rows in a table before this statement, as the statistics estimate them: the smaller of
-- the planner's reltuples and the cumulative statistics' live tuples (0 when neither is
-- known). Used only to skip an exact count that could not change the decision.
CREATE OR REPLACE FUNCTION dbguard._rows_before_estimate(rel oid) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN c.reltuples < 0 THEN 0
                ELSE least(c.reltuples::bigint, greatest(pg_stat_get_live_tuples(rel), 0)) END
    FROM pg_class c WHERE c.oid = rel
$$;

CREATE OR REPLACE FUNCTION dbguard._created_in_tx(cls oid, obj oid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM dbguard.created_objects
                   WHERE xid = pg_current_xact_id() AND classid = cls AND objid = obj)
$$;

CREATE OR REPLACE FUNCTION dbguard._forget_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM dbguard.created_objects
    WHERE xid = NEW.xid AND classid = NEW.classid AND objid = NEW.objid;
    RETURN NULL;
END
$$;

-- Does this session carry an approval? Either it is already bound to one (same backend pid
-- and start time, same role and database, not expired), or dbguard.approval holds a token
-- whose SHA-256 matches an unused, unexpired approval for this role and database: then this
-- backend is bound to it (the binding commits with the statement it let through).
CREATE OR REPLACE FUNCTION dbguard._approved() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    token text := current_setting('dbguard.approval', true);
    started timestamptz;
BEGIN
    SELECT backend_start INTO started FROM pg_stat_activity WHERE pid = pg_backend_pid();
    IF EXISTS (SELECT 1 FROM dbguard.approvals
               WHERE bound_pid = pg_backend_pid() AND bound_backend_start = started
                 AND role = session_user AND database = current_database()
                 AND expires_at > clock_timestamp()) THEN
        RETURN true;
    END IF;
    IF token IS NULL OR token = '' THEN
        RETURN false;
    END IF;
    UPDATE dbguard.approvals
    SET used_at = clock_timestamp(), bound_pid = pg_backend_pid(), bound_backend_start = started
    WHERE token_sha256 = encode(sha256(convert_to(token, 'UTF8')), 'hex')
      AND role = session_user AND database = current_database()
      AND expires_at > clock_timestamp() AND used_at IS NULL;
    RETURN FOUND;
END
$$;

-- Write one row to dbguard.attempts. Blocked attempts go over the loopback connection, so
-- the row survives the rollback that follows; approved ones commit with their statement.
-- The server log always gets a line.
CREATE OR REPLACE FUNCTION dbguard._record(blocked boolean, kind text, objects text[],
    rows_affected bigint, rows_total bigint, detail text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    inst dbguard.installation;
    outcome text := CASE WHEN blocked THEN 'blocked' ELSE 'approved' END;
    stmt text := current_query();
    ins text;
BEGIN
    SELECT * INTO inst FROM dbguard.installation;
    ins := format(
        'INSERT INTO dbguard.attempts (outcome, kind, database, role, application_name, client_addr, backend_pid, objects, rows_affected, rows_total, detail, statement) '
        'VALUES (%L, %L, %L, %L, %L, %L, %s, %L, %s, %s, %L, %L)',
        outcome, kind, current_database(), session_user, current_setting('application_name', true),
        inet_client_addr(), pg_backend_pid(), objects,
        coalesce(rows_affected::text, 'NULL'), coalesce(rows_total::text, 'NULL'), detail, stmt);
    RAISE LOG 'dbguard: % % by % (application %): % [%]', outcome, kind, session_user,
        current_setting('application_name', true), array_to_string(objects, ', '), stmt;
    IF NOT blocked THEN
        EXECUTE ins;
    ELSIF inst.record_mode = 'table' AND inst.loopback IS NOT NULL THEN
        BEGIN
            EXECUTE format('SELECT %I.dblink_exec($1, $2)', inst.dblink_schema) USING inst.loopback, ins;
        EXCEPTION WHEN OTHERS THEN
            RAISE LOG 'dbguard: could not record the blocked attempt in dbguard.attempts: %', SQLERRM;
        END;
    END IF;
END
$$;

-- The one place a destructive change is refused: let it through for an approved session
-- (and note it), else record the attempt and raise.
CREATE OR REPLACE FUNCTION dbguard._stop(code text, kind text, objects text[],
    rows_affected bigint, rows_total bigint, message text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF dbguard._approved() THEN
        PERFORM dbguard._record(false, kind, objects, rows_affected, rows_total, message);
        RETURN;
    END IF;
    PERFORM dbguard._record(true, kind, objects, rows_affected, rows_total, message);
    RAISE EXCEPTION USING
        ERRCODE = code,
        MESSAGE = 'dbguard: ' || message,
        DETAIL = 'This database is guarded by dbguard (dbguard protect). The statement was refused and rolled back; nothing was changed.',
        HINT = 'If this is intended, have a person approve it: run the command through `dbguard run -- <command>` and let the person run `dbguard approve CODE` (it asks for the guard owner''s password). '
            || 'Tables created in the same transaction, temporary tables and bounded statements are not affected.';
END
$$;

-- Put the guard's three statement triggers on one table (idempotent). DELETE and UPDATE use
-- a transition table for the exact row count of the statement; on plain tables a WHEN
-- clause skips the trigger function entirely unless the backend's not-yet-reported counter
-- of rows deleted (updated) in the table exceeds the smallest threshold. That counter
-- includes this statement's rows (and may include earlier ones: the backend reports them
-- about once a second, and at once after the function ran for a small statement), so no
-- statement that could break a rule is ever skipped. The table is named in the WHEN clause (a regclass constant:
-- it follows renames, and a dump restored elsewhere points at the same table by name).
CREATE OR REPLACE FUNCTION dbguard._guard_table(rel oid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    gate boolean;
    floor_rows bigint;
    args text;
    op text;
    foreign_trigger name;
BEGIN
    IF NOT dbguard._is_guardable(rel) THEN
        RETURN 'not a guardable table';
    END IF;
    SELECT * INTO r FROM dbguard._rules(rel);
    IF NOT r.guarded THEN
        RETURN 'taken out of the guard (dbguard.configure)';
    END IF;
    SELECT tgname INTO foreign_trigger FROM pg_trigger
    WHERE tgrelid = rel AND tgname IN ('dbguard_truncate', 'dbguard_delete', 'dbguard_update')
      AND NOT (tgfoid = ANY (dbguard._trigger_functions()));
    IF foreign_trigger IS NOT NULL THEN
        RAISE EXCEPTION 'table % has a trigger named % that is not dbguard''s', rel::regclass, foreign_trigger
            USING ERRCODE = 'DG013', HINT = 'rename that trigger, then run dbguard protect again';
    END IF;
    -- Partitioned tables and inheritance parents count their changes under the children:
    -- no gate for them.
    gate := EXISTS (SELECT 1 FROM pg_class WHERE oid = rel AND relkind = 'r' AND NOT relhassubclass);
    floor_rows := CASE WHEN r.share < 1 THEN least(r.all_rows_over, r.share_rows_over) ELSE r.all_rows_over END;
    args := format('%L, %L, %L', r.all_rows_over, r.share, r.share_rows_over);
    EXECUTE format('CREATE OR REPLACE TRIGGER dbguard_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION dbguard.on_truncate()', rel::regclass);
    FOREACH op IN ARRAY ARRAY['delete', 'update'] LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER dbguard_%s AFTER %s ON %s '
                       'REFERENCING OLD TABLE AS dbguard_old FOR EACH STATEMENT %s '
                       'EXECUTE FUNCTION dbguard.on_mass_change(%s)',
                       op, upper(op), rel::regclass,
                       CASE WHEN gate THEN format('WHEN (pg_catalog.pg_stat_get_xact_tuples_%s(%L::pg_catalog.regclass) > %s)',
                                                  CASE op WHEN 'delete' THEN 'deleted' ELSE 'updated' END,
                                                  rel::regclass::text, floor_rows) ELSE '' END,
                       args);
    END LOOP;
    RETURN 'guarded';
END
$$;

CREATE OR REPLACE FUNCTION dbguard._unguard_table(rel oid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tgname FROM pg_trigger
             WHERE tgrelid = rel AND tgfoid = ANY (dbguard._trigger_functions()) LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, rel::regclass);
    END LOOP;
END
$$;

-- Are the guard's triggers on this table still as installed? Disabled (also ENABLE REPLICA,
-- which skips them in normal sessions), renamed, or replaced by another function: refused
-- for everyone but superusers. Missing triggers (a table from before the guard) are left to
-- `dbguard protect`, which adds them.
CREATE OR REPLACE FUNCTION dbguard._check_intact(rel oid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t record;
    problems text[] := '{}';
BEGIN
    IF rel IS NULL OR NOT dbguard._is_guardable(rel) OR NOT (SELECT guarded FROM dbguard._rules(rel)) THEN
        RETURN;
    END IF;
    FOR t IN SELECT tgname, tgenabled, tgfoid, tgtype FROM pg_trigger
             WHERE tgrelid = rel AND (tgfoid = ANY (dbguard._trigger_functions()) OR tgname LIKE 'dbguard\_%') LOOP
        IF NOT (t.tgfoid = ANY (dbguard._trigger_functions())) THEN
            problems := problems || format('trigger %s runs a function that is not the guard''s', t.tgname);
        ELSIF t.tgenabled NOT IN ('O', 'A') THEN
            problems := problems || format('trigger %s is disabled', t.tgname);
        ELSIF t.tgname NOT IN ('dbguard_truncate', 'dbguard_delete', 'dbguard_update') THEN
            problems := problems || format('guard trigger renamed to %s', t.tgname);
        END IF;
    END LOOP;
    IF cardinality(problems) > 0 AND NOT dbguard._session_is_superuser() THEN
        PERFORM dbguard._record(true, 'tamper', ARRAY[rel::regclass::text], NULL, NULL, array_to_string(problems, '; '));
        RAISE EXCEPTION USING
            ERRCODE = 'DG005',
            MESSAGE = format('dbguard: refused on table %s: %s', rel::regclass, array_to_string(problems, '; ')),
            DETAIL = 'The guard''s triggers can be disabled, renamed, replaced or dropped only by a superuser.',
            HINT = 'To change what the guard does on this table, the guard owner calls dbguard.configure(); to remove the guard: dbguard protect --uninstall.';
    END IF;
END
$$;

-- TRUNCATE of a table that holds rows.
CREATE OR REPLACE FUNCTION dbguard.on_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    IF dbguard._created_in_tx('pg_class'::regclass, TG_RELID) THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM ONLY %s LIMIT 1000001) s', TG_RELID::regclass) INTO n;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM dbguard._stop('DG002', 'truncate', ARRAY[TG_RELID::regclass::text], n, n,
        format('TRUNCATE refused: it would destroy all %s rows of table %s',
               CASE WHEN n > 1000000 THEN 'of the more than 1,000,000' ELSE to_char(n, 'FM999,999,999,999') END,
               TG_RELID::regclass));
    RETURN NULL;
END
$$;

-- DELETE / UPDATE touching too much of a table (TG_ARGV: all_rows_over, share, share_rows_over):
-- every row of a table with more than all_rows_over rows, or more than share of its rows and
-- more than share_rows_over rows. The statement's rows are counted exactly (its transition
-- table). The table's rows are counted exactly too, never further than the rule needs
-- (LIMIT: at most about k/share rows read), and only when it can matter: when the
-- statistics' estimate of the table (the smaller of reltuples and the live tuples) is under
-- 1.25 times the size at which the statement would break the share rule. Whether a DELETE
-- emptied the table is always checked exactly (one row read).
CREATE OR REPLACE FUNCTION dbguard.on_mass_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    all_over bigint := TG_ARGV[0]::bigint;
    share numeric := TG_ARGV[1]::numeric;
    share_over bigint := TG_ARGV[2]::bigint;
    share_rule boolean;
    k bigint;
    est bigint;
    lim bigint;
    c bigint;
    total bigint;
    verb text := CASE WHEN TG_OP = 'DELETE' THEN 'delete' ELSE 'update' END;
    why text;
BEGIN
    SELECT count(*) INTO k FROM dbguard_old;
    share_rule := share < 1 AND k > share_over;
    IF k <= all_over AND NOT share_rule THEN
        -- The WHEN gate opened on changes of earlier statements that the backend has not
        -- reported yet: report them when it is next idle, so the gate closes again.
        PERFORM pg_stat_force_next_flush();
        RETURN NULL;
    END IF;
    IF dbguard._created_in_tx('pg_class'::regclass, TG_RELID) THEN
        RETURN NULL;
    END IF;
    est := dbguard._rows_before_estimate(TG_RELID);
    IF TG_OP = 'DELETE' THEN
        -- Rows left: none breaks the first rule; fewer than k(1-share)/share the second.
        lim := CASE WHEN share_rule AND est < 1.25 * k / share THEN floor(k * (1 - share) / share)::bigint + 1 ELSE 1 END;
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %s) s', TG_RELID::regclass, lim) INTO c;
        IF c < lim THEN
            total := c + k;
        END IF;
        IF k > all_over AND c = 0 THEN
            why := format('all %s rows', to_char(k, 'FM999,999,999,999'));
        ELSIF share_rule AND total IS NOT NULL AND k > share * total THEN
            why := format('%s of its %s rows (%s%%)', to_char(k, 'FM999,999,999,999'),
                          to_char(total, 'FM999,999,999,999'), round(100.0 * k / total));
        END IF;
    ELSE
        -- Rows in the table: k of them means every row; fewer than k/share breaks the share rule.
        lim := greatest(k + 1, CASE WHEN share_rule THEN floor(k / share)::bigint + 1 ELSE 0 END);
        IF est >= 1.25 * lim THEN
            RETURN NULL;
        END IF;
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %s) s', TG_RELID::regclass, lim) INTO c;
        IF c < lim THEN
            total := c;
        END IF;
        IF k > all_over AND c <= k THEN
            why := format('all %s rows', to_char(k, 'FM999,999,999,999'));
        ELSIF share_rule AND total IS NOT NULL AND k > share * total THEN
            why := format('%s of its %s rows (%s%%)', to_char(k, 'FM999,999,999,999'),
                          to_char(total, 'FM999,999,999,999'), round(100.0 * k / total));
        END IF;
    END IF;
    IF why IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM dbguard._stop(CASE WHEN TG_OP = 'DELETE' THEN 'DG003' ELSE 'DG004' END,
        'mass_' || verb, ARRAY[TG_RELID::regclass::text], k, total,
        format('%s refused: it would %s %s of table %s (limits: every row of a table with more than %s rows, or more than %s%% of its rows and more than %s rows)',
               upper(TG_OP), verb, why, TG_RELID::regclass, all_over, round(share * 100), share_over));
    RETURN NULL;
END
$$;

-- sql_drop: the dropped objects are known here, and raising rolls the whole statement back.
CREATE OR REPLACE FUNCTION dbguard.on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    lost text[] := '{}';
    rows_lost bigint := 0;
    est bigint;
    tampered text[] := '{}';
    dropped_tables oid[] := '{}';
BEGIN
    FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF r.is_temporary THEN
            CONTINUE;
        END IF;
        IF r.object_type IN ('table', 'materialized view') THEN
            dropped_tables := dropped_tables || r.objid;
            IF dbguard._created_in_tx(r.classid, r.objid) THEN
                CONTINUE;
            END IF;
            est := dbguard._rows_estimate(r.objid);
            rows_lost := rows_lost + est;
            lost := lost || format('%s %s (about %s rows)', r.object_type, r.object_identity, to_char(est, 'FM999,999,999,999'));
        ELSIF r.object_type = 'schema' THEN
            IF NOT dbguard._created_in_tx(r.classid, r.objid) THEN
                lost := lost || format('schema %s', r.object_identity);
            END IF;
        ELSIF r.object_type = 'table column' THEN
            IF NOT dbguard._created_in_tx('pg_class'::regclass, r.objid) THEN
                lost := lost || format('column %s', r.object_identity);
            END IF;
        ELSIF r.object_type = 'trigger' AND r.original AND r.address_names[3] IN ('dbguard_truncate', 'dbguard_delete', 'dbguard_update') THEN
            tampered := tampered || r.object_identity;
        END IF;
    END LOOP;
    IF cardinality(tampered) > 0 AND NOT dbguard._session_is_superuser() THEN
        PERFORM dbguard._record(true, 'tamper', tampered, NULL, NULL, 'DROP TRIGGER of the guard''s triggers');
        RAISE EXCEPTION USING
            ERRCODE = 'DG005',
            MESSAGE = format('dbguard: refused to drop the guard''s trigger(s): %s', array_to_string(tampered, ', ')),
            DETAIL = 'The guard''s triggers can be disabled, renamed, replaced or dropped only by a superuser.',
            HINT = 'To change what the guard does on a table, the guard owner calls dbguard.configure(); to remove the guard: dbguard protect --uninstall.';
    END IF;
    IF cardinality(lost) > 0 THEN
        PERFORM dbguard._stop('DG001', 'drop', lost, rows_lost, NULL,
            format('DROP refused: it would destroy %s', array_to_string(lost, ', ')));
    END IF;
    IF cardinality(dropped_tables) > 0 THEN
        DELETE FROM dbguard.table_rules WHERE relid = ANY (dropped_tables);
    END IF;
END
$$;

-- ddl_command_end: remember what this transaction created (exempt from the DROP rule), put
-- the triggers on new tables, and refuse changes that disable or rename the guard's triggers.
CREATE OR REPLACE FUNCTION dbguard.on_ddl_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        IF c.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE MATERIALIZED VIEW', 'CREATE SCHEMA')
           AND c.object_type IN ('table', 'materialized view', 'schema') THEN
            INSERT INTO dbguard.created_objects VALUES (pg_current_xact_id(), c.classid, c.objid)
            ON CONFLICT DO NOTHING;
            IF c.object_type = 'table' AND NOT c.in_extension THEN
                PERFORM dbguard._guard_table(c.objid);
                -- A new inheritance child: its parent's changes now land in two tables,
                -- so the parent's triggers lose their gate.
                PERFORM dbguard._guard_table(i.inhparent)
                FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                WHERE i.inhrelid = c.objid AND p.relkind = 'r'
                  AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = p.oid
                              AND t.tgfoid = ANY (dbguard._trigger_functions()));
            END IF;
        ELSIF c.classid = 'pg_class'::regclass AND c.command_tag = 'ALTER TABLE' THEN
            PERFORM dbguard._check_intact(c.objid);
        ELSIF c.classid = 'pg_trigger'::regclass THEN
            PERFORM dbguard._check_intact((SELECT tgrelid FROM pg_trigger WHERE oid = c.objid));
        END IF;
    END LOOP;
END
$$;

-- The guard owner's way to tune or lift the guard on one table (and back).
CREATE OR REPLACE FUNCTION dbguard.configure(tbl regclass, all_rows_over bigint DEFAULT NULL,
    share numeric DEFAULT NULL, share_rows_over bigint DEFAULT NULL, guarded boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT dbguard._is_guardable(tbl) THEN
        RAISE EXCEPTION '% is not a table the guard covers (a permanent table outside the system schemas)', tbl;
    END IF;
    IF share IS NOT NULL AND NOT (share > 0 AND share <= 1) THEN
        RAISE EXCEPTION 'share must be more than 0 and at most 1 (1 turns the share rule off)';
    END IF;
    IF coalesce(all_rows_over, 0) < 0 OR coalesce(share_rows_over, 0) < 0 THEN
        RAISE EXCEPTION 'row thresholds cannot be negative';
    END IF;
    INSERT INTO dbguard.table_rules AS t (relid, guarded, all_rows_over, share, share_rows_over)
    VALUES (tbl, guarded, all_rows_over, share, share_rows_over)
    ON CONFLICT (relid) DO UPDATE SET guarded = EXCLUDED.guarded, all_rows_over = EXCLUDED.all_rows_over,
        share = EXCLUDED.share, share_rows_over = EXCLUDED.share_rows_over,
        changed_at = now(), changed_by = session_user;
    IF guarded THEN
        RETURN dbguard._guard_table(tbl);
    END IF;
    PERFORM dbguard._unguard_table(tbl);
    RETURN 'taken out of the guard';
END
$$;

-- 5. The cleanup trigger of created_objects (deferred: runs at commit).
DROP TRIGGER IF EXISTS forget_at_commit ON dbguard.created_objects;
CREATE CONSTRAINT TRIGGER forget_at_commit AFTER INSERT ON dbguard.created_objects
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dbguard._forget_created();

-- 6. Privileges: the application reads the version, the rules and the attempts; nothing else.
REVOKE ALL ON SCHEMA dbguard FROM PUBLIC;
GRANT USAGE ON SCHEMA dbguard TO PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA dbguard FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA dbguard FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA dbguard FROM PUBLIC;
GRANT SELECT ON dbguard.installation, dbguard.table_rules, dbguard.attempts TO PUBLIC;

-- 7. Recording blocked attempts: a loopback connection with dblink (a superuser may use it
--    without a password; pg_hba.conf must let the owner in over the local socket).
DO $rec$
DECLARE
    have_schema name;
    created boolean := false;
    conn text;
    sock text;
    why text;
BEGIN
    SELECT n.nspname INTO have_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'dblink';
    IF have_schema IS NULL THEN
        BEGIN
            CREATE EXTENSION dblink SCHEMA dbguard;
            have_schema := 'dbguard';
            created := true;
            REVOKE ALL ON ALL FUNCTIONS IN SCHEMA dbguard FROM PUBLIC;
        EXCEPTION WHEN OTHERS THEN
            why := 'the dblink extension is not available to this role: ' || SQLERRM;
        END;
    END IF;
    IF have_schema IS NOT NULL THEN
        BEGIN
            sock := split_part(coalesce(current_setting('unix_socket_directories', true), ''), ',', 1);
        EXCEPTION WHEN insufficient_privilege THEN
            sock := '';
        END;
        conn := format('host=%s port=%s dbname=%s user=%s application_name=dbguard-guard connect_timeout=3 options=%s',
            quote_literal(CASE WHEN trim(sock) = '' THEN 'localhost' ELSE trim(sock) END),
            current_setting('port'), quote_literal(current_database()), quote_literal(current_user),
            quote_literal('-c lock_timeout=2000 -c statement_timeout=5000'));
        BEGIN
            EXECUTE format('SELECT %I.dblink_exec($1, $2)', have_schema) USING conn, 'SET application_name = ''dbguard-guard''';
        EXCEPTION WHEN OTHERS THEN
            why := format('the loopback connection as %s failed (%s)', current_user, SQLERRM);
            conn := NULL;
        END;
    END IF;
    UPDATE dbguard.installation i SET
        dblink_schema = have_schema,
        created_dblink = i.created_dblink OR created,
        loopback = conn,
        record_mode = CASE WHEN conn IS NULL THEN 'server_log' ELSE 'table' END,
        record_missing = why;
END
$rec$;

-- 8. The triggers on every table there is (those this role may put triggers on).
DO $tables$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.oid FROM pg_class c
             WHERE c.relkind IN ('r', 'p') AND dbguard._is_guardable(c.oid)
               AND has_table_privilege(c.oid, 'TRIGGER')
             ORDER BY c.oid LOOP
        PERFORM dbguard._guard_table(t.oid);
    END LOOP;
END
$tables$;

-- 9. The event triggers (a superuser only, on stock PostgreSQL).
DO $events$
DECLARE
    why text;
BEGIN
    BEGIN
        DROP EVENT TRIGGER IF EXISTS dbguard_sql_drop;
        DROP EVENT TRIGGER IF EXISTS dbguard_ddl_end;
        CREATE EVENT TRIGGER dbguard_sql_drop ON sql_drop EXECUTE FUNCTION dbguard.on_sql_drop();
        CREATE EVENT TRIGGER dbguard_ddl_end ON ddl_command_end EXECUTE FUNCTION dbguard.on_ddl_end();
        COMMENT ON EVENT TRIGGER dbguard_sql_drop IS 'dbguard: refuses DROP of tables, schemas, materialized views and columns';
        COMMENT ON EVENT TRIGGER dbguard_ddl_end IS 'dbguard: guards new tables, refuses disabling the guard''s triggers';
    EXCEPTION WHEN insufficient_privilege THEN
        why := SQLERRM;
    END;
    UPDATE dbguard.installation SET event_triggers = (why IS NULL), event_triggers_missing = why;
END
$events$;

-- 10. dbguard_reader: a NOLOGIN role with pg_read_all_data for read-only tools (the MCP
--     server's db_query uses SET LOCAL ROLE dbguard_reader), granted to the application roles.
--     Roles belong to the whole cluster: each guarded database marks its use of the role
--     with a per-database setting (ALTER ROLE ... IN DATABASE), so that uninstalling one
--     database's guard leaves the role to the others; the last one removes it.
DO $reader$
DECLARE
    granted name[] := '{}';
    app name;
    apps name[];
    listed text := nullif(trim(coalesce(current_setting('dbguard.install_app_roles', true), '')), '');
BEGIN
    IF coalesce(current_setting('dbguard.install_reader', true), '') = 'off' THEN
        UPDATE dbguard.installation SET reader_missing = 'skipped (dbguard protect --no-reader)';
        RETURN;
    END IF;
    IF listed IS NOT NULL THEN
        SELECT array_agg(trim(x)::name) INTO apps FROM unnest(string_to_array(listed, ',')) x WHERE trim(x) <> '';
        FOREACH app IN ARRAY apps LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app) THEN
                RAISE EXCEPTION 'role % does not exist', app USING ERRCODE = 'DG014';
            END IF;
        END LOOP;
    ELSE
        SELECT coalesce(array_agg(DISTINCT r.rolname), '{}') INTO apps
        FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE c.relkind IN ('r', 'p') AND dbguard._is_guardable(c.oid)
          AND NOT r.rolsuper AND r.rolcanlogin AND r.rolname <> current_user;
    END IF;
    BEGIN
        -- The role belongs to the cluster: another database's install may create it, and its
        -- uninstall drop it, at the same moment ("role does not exist" from the ALTER below).
        -- Each such loss of the race is followed by a fresh look, three at most.
        FOR attempt IN 1..3 LOOP
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbguard_reader') THEN
                    CREATE ROLE dbguard_reader NOLOGIN;
                    COMMENT ON ROLE dbguard_reader IS 'dbguard: read-only role for dbguard''s tools, created by dbguard protect';
                    GRANT pg_read_all_data TO dbguard_reader;
                END IF;
                EXECUTE format('ALTER ROLE dbguard_reader IN DATABASE %I SET dbguard.reader_used = %L', current_database(), 'on');
                EXIT;
            EXCEPTION WHEN duplicate_object OR unique_violation OR undefined_object THEN
                IF attempt = 3 THEN
                    RAISE;
                END IF;
            END;
        END LOOP;
        FOREACH app IN ARRAY apps LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_auth_members m
                           WHERE m.roleid = 'dbguard_reader'::regrole AND m.member = app::regrole) THEN
                BEGIN
                    EXECUTE format('GRANT dbguard_reader TO %I', app);
                    granted := granted || app;
                EXCEPTION WHEN unique_violation THEN
                    NULL; -- granted by another database's install at the same moment
                END;
            END IF;
        END LOOP;
        UPDATE dbguard.installation i SET
            reader_grants = ARRAY(SELECT DISTINCT x FROM unnest(i.reader_grants || granted) x ORDER BY 1),
            reader_missing = NULL;
    EXCEPTION WHEN insufficient_privilege THEN
        UPDATE dbguard.installation SET reader_missing = SQLERRM;
    END;
END
$reader$;
