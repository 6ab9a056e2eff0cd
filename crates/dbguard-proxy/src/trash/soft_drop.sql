-- The soft-drop: what the proxy runs, in the client's own session and transaction, in place of
-- a DROP TABLE statement (crates/dbguard-proxy/src/trash/mod.rs fills the {{...}} slots with
-- quoted literals and sends it as one DO statement, so it succeeds or fails as one statement:
-- a ROLLBACK undoes it like the DROP it stands for).
--
-- Per table named by the statement, as DROP TABLE would resolve it (the session's search_path):
--   * missing: NOTICE with IF EXISTS, else the server's own error (42P01); not a table: 42809;
--   * temporary, created earlier in the same statement text, or created by this session:
--     really dropped (nothing that existed before is lost);
--   * otherwise: what CASCADE would drop (foreign keys of other tables, views and materialized
--     views, recursively) is recorded with its definition and dropped (without CASCADE any of
--     them makes the statement fail as the server would, 2BP01); other dependents (functions,
--     inheritance children, columns of its row type...) make it fail (DGP03), since undrop
--     could not put them back; its indexes and owned sequences are renamed, the table (and
--     the partitions of a partitioned table) renamed and moved into dbguard_trash, and a row
--     goes into dbguard_trash.dropped.
DECLARE
  v_names text[] := {{names}};
  v_shown text[] := {{shown}};
  v_here boolean[] := {{created_here}};
  v_session text[] := {{session_created}};
  v_if_exists boolean := {{if_exists}};
  v_cascade boolean := {{cascade}};
  v_statement text := {{statement}};
  v_client text := {{client}};
  v_path text := pg_catalog.current_setting('search_path');
  v_trash oid;
  v_rel oid;
  v_kind "char";
  v_persist "char";
  v_ns oid;
  v_session_oids oid[];
  v_all oid[] := '{}';
  v_real oid[] := '{}';
  v_soft oid[] := '{}';
  v_soft_shown text[] := '{}';
  v_tree oid[] := '{}';
  v_frontier oid[];
  v_next oid[];
  v_views oid[] := '{}';
  v_fks oid[] := '{}';
  v_my_views oid[];
  v_my_fks oid[];
  v_my_out oid[];
  v_out oid[] := '{}';
  v_con oid;
  v_deps jsonb;
  v_defs jsonb;
  v_others text[] := '{}';
  v_lines text[] := '{}';
  v_hint text;
  v_cmm text;
  d record;
  r record;
  v_id bigint;
  v_n int;
  v_parts oid[];
  v_renamed jsonb;
  v_partitions jsonb;
  v_fk_json jsonb;
  v_view_json jsonb;
  v_parent jsonb;
  v_trash_name text;
  v_rows bigint;
  v_size bigint;
  i int;
BEGIN
  -- 1. Resolve every name as DROP TABLE would, before anything changes.
  SELECT pg_catalog.array_agg(pg_catalog.to_regclass(n)::oid) INTO v_session_oids
    FROM pg_catalog.unnest(v_session) AS n WHERE pg_catalog.to_regclass(n) IS NOT NULL;
  v_trash := pg_catalog.to_regnamespace('dbguard_trash')::oid;
  FOR i IN 1 .. coalesce(pg_catalog.array_length(v_names, 1), 0) LOOP
    v_rel := pg_catalog.to_regclass(v_names[i])::oid;
    IF v_rel IS NULL THEN
      IF v_if_exists THEN
        RAISE NOTICE 'table "%" does not exist, skipping', v_shown[i];
        CONTINUE;
      END IF;
      RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = pg_catalog.format('table "%s" does not exist', v_shown[i]);
    END IF;
    SELECT c.relkind, c.relpersistence, c.relnamespace INTO v_kind, v_persist, v_ns
      FROM pg_catalog.pg_class c WHERE c.oid = v_rel;
    IF v_kind NOT IN ('r', 'p') THEN
      v_hint := CASE v_kind
        WHEN 'v' THEN 'Use DROP VIEW to remove a view.'
        WHEN 'm' THEN 'Use DROP MATERIALIZED VIEW to remove a materialized view.'
        WHEN 'S' THEN 'Use DROP SEQUENCE to remove a sequence.'
        WHEN 'i' THEN 'Use DROP INDEX to remove an index.'
        WHEN 'I' THEN 'Use DROP INDEX to remove an index.'
        WHEN 'f' THEN 'Use DROP FOREIGN TABLE to remove a foreign table.'
        WHEN 'c' THEN 'Use DROP TYPE to remove a composite type.'
        ELSE NULL END;
      RAISE EXCEPTION USING ERRCODE = '42809', MESSAGE = pg_catalog.format('"%s" is not a table', v_shown[i]), HINT = coalesce(v_hint, '');
    END IF;
    IF v_ns = v_trash THEN
      RAISE EXCEPTION USING ERRCODE = 'DGP03',
        MESSAGE = pg_catalog.format('dbguard: table "%s" is already in the trash', v_shown[i]),
        HINT = 'Tables leave the trash with `dbguard undrop` or `dbguard trash purge`, not through the application.';
    END IF;
    IF v_rel = ANY (v_all) THEN
      CONTINUE;
    END IF;
    v_all := v_all || v_rel;
    IF v_here[i] OR v_persist = 't' OR v_rel = ANY (coalesce(v_session_oids, '{}')) THEN
      v_real := v_real || v_rel;
    ELSE
      v_soft := v_soft || v_rel;
      v_soft_shown := v_soft_shown || v_shown[i];
    END IF;
  END LOOP;

  -- From here on every name is written qualified: an empty search path (pg_catalog only)
  -- makes regclass print schema.name, and keeps the session's objects out of our way.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog', true);

  IF pg_catalog.array_length(v_soft, 1) IS NOT NULL THEN
    -- 2. The set that goes: the tables and every partition of the partitioned ones.
    v_tree := v_all;
    FOR r IN SELECT t.relid FROM pg_catalog.unnest(v_all) AS a(oid), pg_catalog.pg_partition_tree(a.oid) t
             WHERE t.relid <> a.oid LOOP
      IF NOT r.relid = ANY (v_tree) THEN
        v_tree := v_tree || r.relid::oid;
      END IF;
    END LOOP;

    -- 3. Dependents outside the set, per table, level by level: foreign keys of other tables,
    --    views, materialized views (and the views on those), and anything else.
    v_deps := '[]';
    FOR i IN 1 .. pg_catalog.array_length(v_soft, 1) LOOP
      v_frontier := ARRAY[v_soft[i]] || ARRAY(SELECT t.relid::oid FROM pg_catalog.pg_partition_tree(v_soft[i]) t
                                              WHERE t.relid <> v_soft[i]);
      v_my_views := '{}';
      v_my_fks := '{}';
      WHILE pg_catalog.array_length(v_frontier, 1) IS NOT NULL LOOP
        v_next := '{}';
        FOR d IN
          SELECT DISTINCT dep.classid, dep.objid, dep.objsubid
            FROM pg_catalog.pg_depend dep
           WHERE dep.deptype = 'n'
             AND ((dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.refobjid = ANY (v_frontier))
               OR (dep.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND dep.refobjid IN (
                     SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typrelid = ANY (v_frontier)
                     UNION ALL
                     SELECT t.typarray FROM pg_catalog.pg_type t WHERE t.typrelid = ANY (v_frontier))))
        LOOP
          IF d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN
            SELECT rw.ev_class AS vrel, c.relkind INTO r
              FROM pg_catalog.pg_rewrite rw JOIN pg_catalog.pg_class c ON c.oid = rw.ev_class
             WHERE rw.oid = d.objid;
            IF r.vrel = ANY (v_tree) OR r.vrel = ANY (v_my_views) THEN
              CONTINUE;
            END IF;
            IF r.relkind IN ('v', 'm') THEN
              v_my_views := v_my_views || r.vrel::oid;
              v_next := v_next || r.vrel::oid;
              IF NOT r.vrel = ANY (v_views) THEN
                v_views := v_views || r.vrel::oid;
              END IF;
              CONTINUE;
            END IF;
          ELSIF d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN
            -- A key inherited by a partition stands for the partitioned table's own key.
            v_con := d.objid;
            SELECT con.contype, con.conrelid, con.conparentid INTO r FROM pg_catalog.pg_constraint con WHERE con.oid = v_con;
            WHILE r.conparentid <> 0 LOOP
              v_con := r.conparentid;
              SELECT con.contype, con.conrelid, con.conparentid INTO r FROM pg_catalog.pg_constraint con WHERE con.oid = v_con;
            END LOOP;
            IF r.conrelid = ANY (v_tree) THEN
              CONTINUE;
            END IF;
            IF r.contype = 'f' THEN
              IF NOT v_con = ANY (v_my_fks) THEN
                v_my_fks := v_my_fks || v_con;
              END IF;
              IF NOT v_con = ANY (v_fks) THEN
                v_fks := v_fks || v_con;
              END IF;
              CONTINUE;
            END IF;
          ELSIF d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = ANY (v_tree) THEN
            CONTINUE;
          END IF;
          v_others := v_others || pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid);
        END LOOP;
        v_frontier := v_next;
      END LOOP;
      -- Its own keys to tables that stay: a real DROP removes them with it, so they are
      -- recorded and removed too (a trashed table must not hold rows of others back, nor
      -- lose rows to their ON DELETE CASCADE).
      v_my_out := ARRAY(SELECT con.oid FROM pg_catalog.pg_constraint con
                         WHERE con.contype = 'f' AND con.conparentid = 0
                           AND (con.conrelid = v_soft[i] OR con.conrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(v_soft[i]) t))
                           AND NOT con.confrelid = ANY (v_tree));
      v_out := v_out || v_my_out;
      v_deps := v_deps || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'fks', pg_catalog.to_jsonb(v_my_fks || v_my_out), 'views', pg_catalog.to_jsonb(v_my_views)));
    END LOOP;

    IF NOT v_cascade AND (pg_catalog.array_length(v_fks, 1) IS NOT NULL OR pg_catalog.array_length(v_views, 1) IS NOT NULL
                          OR pg_catalog.array_length(v_others, 1) IS NOT NULL) THEN
      -- What the server says for DROP TABLE without CASCADE.
      SELECT pg_catalog.array_agg(x || ' depends on table ' || v_soft_shown[1]) INTO v_lines FROM (
        SELECT pg_catalog.pg_describe_object('pg_catalog.pg_constraint'::pg_catalog.regclass, f, 0) AS x FROM pg_catalog.unnest(v_fks) f
        UNION ALL
        SELECT CASE c.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || c.oid::pg_catalog.regclass::text
          FROM pg_catalog.unnest(v_views) v JOIN pg_catalog.pg_class c ON c.oid = v
        UNION ALL
        SELECT o FROM pg_catalog.unnest(v_others) o) s;
      RAISE EXCEPTION USING ERRCODE = '2BP01',
        MESSAGE = pg_catalog.format('cannot drop table %s because other objects depend on it', v_soft_shown[1]),
        DETAIL = pg_catalog.array_to_string(v_lines, E'\n'),
        HINT = 'Use DROP ... CASCADE to drop the dependent objects too.';
    END IF;
    IF pg_catalog.array_length(v_others, 1) IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'DGP03',
        MESSAGE = pg_catalog.format('dbguard cannot move table %s to its trash: CASCADE would also drop objects that dbguard undrop could not put back', v_soft_shown[1]),
        DETAIL = pg_catalog.array_to_string(v_others, E'\n'),
        HINT = 'Drop or change those objects first (they depend on the table), then run the DROP TABLE again: it is then moved to the trash as usual.';
    END IF;

    -- 4. The trash: created on first use, by the role that first needs it.
    IF v_trash IS NULL THEN
      BEGIN
        CREATE SCHEMA dbguard_trash;
        COMMENT ON SCHEMA dbguard_trash IS 'Tables dropped through dbguard proxy: dbguard trash, dbguard undrop, dbguard trash purge.';
        GRANT USAGE, CREATE ON SCHEMA dbguard_trash TO PUBLIC;
      EXCEPTION
        WHEN duplicate_schema OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN
          RAISE EXCEPTION USING ERRCODE = 'DGP03',
            MESSAGE = pg_catalog.format('dbguard cannot move table %s to its trash: the schema dbguard_trash does not exist and role %s may not create it', v_soft_shown[1], current_user),
            HINT = pg_catalog.format('The database owner creates it once: CREATE SCHEMA dbguard_trash; GRANT USAGE, CREATE ON SCHEMA dbguard_trash TO %s;', current_user);
      END;
    END IF;
    IF pg_catalog.to_regclass('dbguard_trash.dropped') IS NULL THEN
      BEGIN
        CREATE TABLE dbguard_trash.dropped (
          id bigserial PRIMARY KEY,
          trash_name text NOT NULL,
          schema_name text NOT NULL,
          table_name text NOT NULL,
          dropped_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
          role_name text NOT NULL DEFAULT current_user,
          application_name text,
          client text,
          rows_estimate bigint,
          size_bytes bigint,
          statement text,
          cascaded boolean NOT NULL DEFAULT false,
          renamed jsonb NOT NULL DEFAULT '[]',
          partitions jsonb NOT NULL DEFAULT '[]',
          partition_of jsonb,
          foreign_keys jsonb NOT NULL DEFAULT '[]',
          views jsonb NOT NULL DEFAULT '[]'
        );
        COMMENT ON TABLE dbguard_trash.dropped IS 'One row per table in the trash (dbguard proxy soft-drop).';
        GRANT SELECT, INSERT ON dbguard_trash.dropped TO PUBLIC;
        GRANT USAGE ON SEQUENCE dbguard_trash.dropped_id_seq TO PUBLIC;
      EXCEPTION WHEN duplicate_table OR unique_violation THEN NULL;
      END;
    END IF;

    -- 5. Record, per table, then detach what CASCADE would have dropped.
    v_defs := '[]';
    FOR i IN 1 .. pg_catalog.array_length(v_soft, 1) LOOP
      SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'table', con.conrelid::pg_catalog.regclass::text,
               'name', con.conname,
               'references', con.confrelid::pg_catalog.regclass::text,
               'outgoing', con.conrelid = v_soft[i] OR con.conrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(v_soft[i]) t),
               'definition', pg_catalog.pg_get_constraintdef(con.oid))), '[]')
        INTO v_fk_json
        FROM pg_catalog.pg_constraint con
       WHERE con.oid IN (SELECT (e#>>'{}')::oid FROM pg_catalog.jsonb_array_elements(v_deps->(i - 1)->'fks') e);
      SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'name', pg_catalog.format('%I.%I', n.nspname, c.relname),
               'kind', c.relkind,
               'definition', pg_catalog.pg_get_viewdef(c.oid),
               'options', c.reloptions,
               'owner', pg_catalog.pg_get_userbyid(c.relowner),
               'comment', pg_catalog.obj_description(c.oid, 'pg_class'),
               'grants', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                 'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,
                                 'privilege', a.privilege_type,
                                 'grantable', a.is_grantable)), '[]')
                            FROM pg_catalog.aclexplode(c.relacl) a WHERE a.grantee <> c.relowner),
               'indexes', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.pg_get_indexdef(x.indexrelid)), '[]')
                             FROM pg_catalog.pg_index x WHERE x.indrelid = c.oid),
               'triggers', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.pg_get_triggerdef(tg.oid)), '[]')
                              FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal))
               ORDER BY u.ord), '[]')
        INTO v_view_json
        FROM pg_catalog.jsonb_array_elements(v_deps->(i - 1)->'views') WITH ORDINALITY AS u(e, ord)
        JOIN pg_catalog.pg_class c ON c.oid = (u.e#>>'{}')::oid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;
      v_defs := v_defs || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('fks', v_fk_json, 'views', v_view_json));
    END LOOP;
    -- What the server itself would say about CASCADE, then quiet while the views go (a view
    -- dropped with CASCADE would announce its dependent views a second time).
    SELECT pg_catalog.array_agg('drop cascades to ' || x) INTO v_lines FROM (
      SELECT CASE c.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || c.oid::pg_catalog.regclass::text AS x
        FROM pg_catalog.unnest(v_views) WITH ORDINALITY AS u(oid, ord) JOIN pg_catalog.pg_class c ON c.oid = u.oid
      UNION ALL
      SELECT pg_catalog.pg_describe_object('pg_catalog.pg_constraint'::pg_catalog.regclass, f, 0) FROM pg_catalog.unnest(v_fks) f) s;
    v_cmm := pg_catalog.current_setting('client_min_messages');
    PERFORM pg_catalog.set_config('client_min_messages', 'warning', true);
    FOR r IN SELECT c.oid, c.relkind FROM pg_catalog.unnest(v_views) WITH ORDINALITY AS u(oid, ord)
               JOIN pg_catalog.pg_class c ON c.oid = u.oid ORDER BY u.ord LOOP
      -- Dropped views of dropped views are gone already (CASCADE reaches only recorded views).
      IF EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = r.oid) THEN
        EXECUTE pg_catalog.format('DROP %s %s CASCADE',
          CASE r.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, r.oid::pg_catalog.regclass);
      END IF;
    END LOOP;
    FOR r IN SELECT con.conrelid, con.conname FROM pg_catalog.pg_constraint con WHERE con.oid = ANY (v_fks || v_out) LOOP
      EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', r.conrelid::pg_catalog.regclass, r.conname);
    END LOOP;
    PERFORM pg_catalog.set_config('client_min_messages', v_cmm, true);
    IF pg_catalog.array_length(v_lines, 1) = 1 THEN
      RAISE NOTICE '%', v_lines[1];
    ELSIF pg_catalog.array_length(v_lines, 1) > 1 THEN
      RAISE NOTICE 'drop cascades to % other objects', pg_catalog.array_length(v_lines, 1)
        USING DETAIL = pg_catalog.array_to_string(v_lines, E'\n');
    END IF;

    -- 6. Move each table (with its partitions) into the trash under names of its own.
    FOR i IN 1 .. pg_catalog.array_length(v_soft, 1) LOOP
      v_rel := v_soft[i];
      v_id := pg_catalog.nextval('dbguard_trash.dropped_id_seq');
      v_trash_name := pg_catalog.format('d%s_%s', v_id,
        pg_catalog.left(pg_catalog.regexp_replace((SELECT relname FROM pg_catalog.pg_class WHERE oid = v_rel), '[^A-Za-z0-9_]', '', 'g'), 40));
      SELECT coalesce(pg_catalog.array_agg(t.relid ORDER BY t.level, t.relid), '{}') INTO v_parts
        FROM pg_catalog.pg_partition_tree(v_rel) t WHERE t.relid <> v_rel;
      SELECT pg_catalog.sum(CASE WHEN c.reltuples > 0 THEN c.reltuples ELSE 0 END)::bigint,
             pg_catalog.sum(pg_catalog.pg_total_relation_size(c.oid))::bigint
        INTO v_rows, v_size
        FROM pg_catalog.pg_class c WHERE c.oid = v_rel OR c.oid = ANY (v_parts);
      -- A partition of a table that stays: detached first (DROP would detach it too).
      v_parent := NULL;
      SELECT pg_catalog.jsonb_build_object('parent', inh.inhparent::pg_catalog.regclass::text,
                                           'bound', pg_catalog.pg_get_expr(c.relpartbound, c.oid))
        INTO v_parent
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_inherits inh ON inh.inhrelid = c.oid
       WHERE c.oid = v_rel AND c.relispartition AND NOT inh.inhparent = ANY (v_tree);
      IF v_parent IS NOT NULL THEN
        EXECUTE pg_catalog.format('ALTER TABLE %s DETACH PARTITION %s', v_parent->>'parent', v_rel::pg_catalog.regclass);
      END IF;
      -- Indexes and owned sequences keep their names inside the table's schema; in the trash
      -- they get unique ones, and undrop gives the old ones back.
      v_renamed := '[]';
      v_n := 0;
      FOR r IN
        SELECT c.oid, c.relname, c.relkind FROM pg_catalog.pg_class c
         WHERE c.oid IN (SELECT x.indexrelid FROM pg_catalog.pg_index x WHERE x.indrelid = v_rel OR x.indrelid = ANY (v_parts))
            OR c.oid IN (SELECT dep.objid FROM pg_catalog.pg_depend dep
                          WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                            AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                            AND (dep.refobjid = v_rel OR dep.refobjid = ANY (v_parts))
                            AND dep.deptype IN ('a', 'i'))
           AND c.relkind IN ('i', 'I', 'S')
         ORDER BY c.oid
      LOOP
        v_n := v_n + 1;
        EXECUTE pg_catalog.format('ALTER %s %s RENAME TO %I',
          CASE WHEN r.relkind = 'S' THEN 'SEQUENCE' ELSE 'INDEX' END, r.oid::pg_catalog.regclass,
          pg_catalog.format('d%s_%s%s', v_id, CASE WHEN r.relkind = 'S' THEN 's' ELSE 'i' END, v_n));
        v_renamed := v_renamed || pg_catalog.jsonb_build_object(
          'kind', CASE WHEN r.relkind = 'S' THEN 'sequence' ELSE 'index' END,
          'trash_name', pg_catalog.format('d%s_%s%s', v_id, CASE WHEN r.relkind = 'S' THEN 's' ELSE 'i' END, v_n),
          'name', r.relname);
      END LOOP;
      v_partitions := '[]';
      v_n := 0;
      FOR r IN SELECT c.oid, n.nspname, c.relname FROM pg_catalog.unnest(v_parts) WITH ORDINALITY AS u(oid, ord)
                 JOIN pg_catalog.pg_class c ON c.oid = u.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                ORDER BY u.ord LOOP
        v_n := v_n + 1;
        EXECUTE pg_catalog.format('ALTER TABLE %s RENAME TO %I', r.oid::pg_catalog.regclass, pg_catalog.format('d%s_p%s', v_id, v_n));
        EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA dbguard_trash', r.oid::pg_catalog.regclass);
        v_partitions := v_partitions || pg_catalog.jsonb_build_object(
          'trash_name', pg_catalog.format('d%s_p%s', v_id, v_n), 'schema', r.nspname, 'name', r.relname);
      END LOOP;
      INSERT INTO dbguard_trash.dropped (id, trash_name, schema_name, table_name, application_name, client,
                                         rows_estimate, size_bytes, statement, cascaded, renamed, partitions,
                                         partition_of, foreign_keys, views)
      SELECT v_id, v_trash_name, n.nspname, c.relname, pg_catalog.current_setting('application_name'), v_client,
             v_rows, v_size, v_statement, v_cascade, v_renamed, v_partitions, v_parent,
             v_defs->(i - 1)->'fks', v_defs->(i - 1)->'views'
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = v_rel;
      EXECUTE pg_catalog.format('ALTER TABLE %s RENAME TO %I', v_rel::pg_catalog.regclass, v_trash_name);
      EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA dbguard_trash', v_rel::pg_catalog.regclass);
    END LOOP;
  END IF;

  -- 7. What is really dropped: temporary tables and tables this session created.
  IF pg_catalog.array_length(v_real, 1) IS NOT NULL THEN
    EXECUTE pg_catalog.format('DROP TABLE %s%s',
      (SELECT pg_catalog.string_agg(x::pg_catalog.regclass::text, ', ') FROM pg_catalog.unnest(v_real) x),
      CASE WHEN v_cascade THEN ' CASCADE' ELSE '' END);
  END IF;
  PERFORM pg_catalog.set_config('search_path', v_path, true);
END
