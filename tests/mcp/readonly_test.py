#!/usr/bin/env python3
"""`dbguard mcp`'s db_query is read-only for real, through the official MCP Python SDK.

Usage: readonly_test.py DBGUARD_BINARY DATABASE_URL PROJECT_DIR MODE

MODE says how db_query must run for this URL's session user:
- reader:      as dbguard_reader (the session user is a member);
- configured:  as the role named by `[mcp] read_role` (the script writes dbguard.toml);
- allowlist:   no read-only role: side-effect-free built-in functions only;
- misconfigured: dbguard.toml names a read_role that cannot be used: every query is refused.

The database (set up by crates/dbguard/tests/mcp_readonly.rs) holds users (3 rows, serial id),
orders (2 rows), the dblink extension, and the functions app_wipe() (deletes every user),
app_count() (reads) and app_terminate_all() (SECURITY DEFINER, owned by a superuser: ends every
other session). Every statement below that reaches another connection, the server's files, other
sessions, settings, replication, notifications, locks, sequences or transaction ids is refused;
ordinary SELECTs with joins, aggregates, now(), string and JSON functions work. The Rust side
then checks the database: data intact, no session ended, no large object, slot, lock or setting
left behind.
"""
import asyncio
import json
import os
import sys
from urllib.parse import urlsplit

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def is_error(result):
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def escapes(db, port):
    """Statements a read-only query must never run, in every mode."""
    conn = f"dbname={db} user=postgres host=127.0.0.1 port={port}"
    return [
        f"SELECT dblink_exec('{conn}', 'DROP TABLE users')",
        f"SELECT * FROM dblink('{conn}', 'DELETE FROM users RETURNING id') AS t(id int)",
        f"SELECT dblink_connect('c', '{conn}')",
        f"SELECT dblink_exec('{conn}', name) FROM users",
        f"SELECT public.dblink_exec('{conn}', 'TRUNCATE orders')",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity",
        "SELECT pg_reload_conf()",
        "SELECT pg_rotate_logfile()",
        "SELECT set_config('work_mem', '1GB', false)",
        "SELECT set_config('role', 'postgres', true), count(*) FROM users",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT * FROM pg_ls_dir('.')",
        "SELECT pg_stat_file('postgresql.conf')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_create(0)",
        "SELECT lo_from_bytea(0, 'x'::bytea)",
        "SELECT pg_create_logical_replication_slot('dbguard_test', 'pgoutput')",
        "SELECT pg_create_physical_replication_slot('dbguard_test')",
        "SELECT pg_notify('events', 'hello')",
        "SELECT pg_advisory_lock(42)",
        "SELECT pg_try_advisory_lock(42)",
        "SELECT nextval('users_id_seq')",
        "SELECT setval('users_id_seq', 1000)",
        "SELECT txid_current()",
        "SELECT pg_current_xact_id()",
        "SELECT query_to_xml('DELETE FROM users RETURNING 1', true, false, '')",
        "SELECT pg_sleep(30)",
        "SELECT 1 FROM users WHERE id = (SELECT pg_terminate_backend(pid)::int FROM pg_stat_activity LIMIT 1)",
        "WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
        "SELECT app_terminate_all()",
    ]


# (query, check on the rows)
ORDINARY = [
    ("SELECT u.name, count(o.id) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.name ORDER BY u.name",
     lambda rows: [(r["name"], r["n"]) for r in rows] == [("alice", 1), ("bob", 1), ("carol", 0)]),
    ("SELECT now() IS NOT NULL AS t, lower('ABC') AS l, length('abcd') AS n, concat_ws('-', 'a', 'b') AS c",
     lambda rows: rows == [{"t": True, "l": "abc", "n": 4, "c": "a-b"}]),
    ("SELECT jsonb_build_object('k', 1)->>'k' AS v, json_agg(name ORDER BY name) AS names FROM users",
     lambda rows: rows == [{"v": "1", "names": ["alice", "bob", "carol"]}]),
    ("SELECT date_trunc('day', now()) <= now() AS ok, to_char(1234.5, 'FM9999.0') AS s, upper(substr('hello', 1, 2)) AS h",
     lambda rows: rows == [{"ok": True, "s": "1234.5", "h": "HE"}]),
    ("SELECT string_agg(name, ',' ORDER BY id) AS all_names, max(id) AS top, avg(id)::int AS mid FROM users",
     lambda rows: rows == [{"all_names": "alice,bob,carol", "top": 3, "mid": 2}]),
    ("SELECT count(*) > 0 AS any FROM pg_stat_activity",
     lambda rows: rows == [{"any": True}]),
]


async def main(binary, url, project, mode):
    parts = urlsplit(url)
    db = parts.path.lstrip("/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["DATABASE_URL"] = url
    server_env = dict(env, CLAUDECODE="1")
    params = StdioServerParameters(command=binary, args=["mcp", "--cwd", project], env=server_env, cwd=project)
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + f"[{mode}] " + what)
        if not cond:
            failures.append(what)

    expected_ran = {
        "reader": "as role dbguard_reader",
        "configured": "as role reporting_ro",
        "allowlist": "side-effect-free built-in functions",
    }.get(mode)

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()

            async def query(sql):
                r = await session.call_tool("db_query", {"sql": sql})
                return r, text_of(r)

            if mode == "misconfigured":
                r, t = await query("SELECT 1 AS one")
                check(is_error(r) and "refused" in t and ("read_role" in t or "only read" in t),
                      f"a read_role that cannot be used refuses every query: {t[:300]}")
                return failures

            for sql in escapes(db, parts.port):
                r, t = await query(sql)
                check(is_error(r) and "refused" in t, f"refused: {sql[:90]} -> {t[:160]}")

            for sql, ok in ORDINARY:
                r, t = await query(sql)
                v = json.loads(t) if not is_error(r) else {}
                check(not is_error(r) and ok(v.get("rows")), f"runs: {sql[:80]} -> {t[:200]}")
                check(expected_ran in v.get("ran", ""), f"says how it ran ({v.get('ran')})")

            # A user function that writes: the reader role cannot (the server says no); the
            # allowlist does not know it (refused before it runs). Either way nothing is deleted.
            r, t = await query("SELECT app_wipe()")
            check(is_error(r), f"app_wipe() does not run: {t[:200]}")
            if mode == "allowlist":
                check("refused" in t, "the allowlist refuses a function it does not know")
            # A user function that only reads: fine as the reader role, unknown to the allowlist.
            r, t = await query("SELECT app_count() AS n")
            if mode == "allowlist":
                check(is_error(r) and "refused" in t, f"the allowlist refuses app_count(): {t[:200]}")
            else:
                check(not is_error(r) and json.loads(t)["rows"] == [{"n": 3}], f"the reader role may call app_count(): {t[:200]}")

            # db_execute is no way around it: what acts beyond the database is refused there too,
            # and SQL sent over dblink is analyzed as SQL (a DROP needs the user's approval).
            conn = f"dbname={db} user=postgres host=127.0.0.1 port={parts.port}"
            for sql in [
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
                "SELECT pg_read_file('/etc/passwd')",
                f"SELECT dblink_exec('{conn}', 'INSERT INTO orders VALUES (3, 3)')",
            ]:
                r = await session.call_tool("db_execute", {"sql": sql})
                t = text_of(r)
                check(is_error(r) and "refused" in t, f"db_execute refuses: {sql[:80]} -> {t[:160]}")
            r = await session.call_tool("db_execute", {"sql": f"SELECT dblink_exec('{conn}', 'DROP TABLE users')"})
            t = text_of(r)
            v = json.loads(t) if not is_error(r) else {}
            check(v.get("executed") is False or (is_error(r) and "refused" in t),
                  f"db_execute does not run a DROP sent over dblink: {t[:200]}")

            r, t = await query("SELECT count(*) AS n FROM users")
            check(not is_error(r) and json.loads(t)["rows"] == [{"n": 3}], "users still has its 3 rows")
    return failures


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    failed = asyncio.run(main(*sys.argv[1:5]))
    if failed:
        print(f"{len(failed)} check(s) failed", file=sys.stderr)
        sys.exit(1)
