#!/usr/bin/env python3
"""End-to-end test of `dbguard mcp` with the official MCP Python SDK as the client.

Usage: client_test.py DBGUARD_BINARY DATABASE_URL PROJECT_DIR

Starts `dbguard mcp --cwd PROJECT_DIR` over stdio (the URL is passed in the server's
environment as DATABASE_URL, as a project's .env would), lists the tools, runs db_status
and a db_query, checks that db_query refuses `DELETE FROM users` and that db_execute
answers `DROP TABLE users` with an approval code instead of running it, and that no
answer ever contains the password. Exit status 0 when every check passes.
"""
import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

EXPECTED_TOOLS = {
    "db_status", "db_query", "db_check", "db_plan", "db_snapshot", "db_snapshots", "db_restore", "db_execute",
}


def is_error(result):
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def main(binary, url, project):
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1] if "@" in url else None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["DATABASE_URL"] = url
    params = StdioServerParameters(command=binary, args=["mcp", "--cwd", project], env=env, cwd=project)
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    def no_secret(text, what):
        if password:
            check(password not in text, f"{what}: password never shown")

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            names = {t.name for t in tools.tools}
            check(EXPECTED_TOOLS <= names, f"tools listed: {sorted(names)}")

            status = await session.call_tool("db_status", {})
            st = text_of(status)
            check(not is_error(status), "db_status succeeds")
            no_secret(st, "db_status")
            sv = json.loads(st)
            tables = {t["table"] for t in sv.get("tables", [])}
            check("users" in tables, f"db_status lists the users table ({sorted(tables)})")

            q = await session.call_tool("db_query", {"sql": "SELECT id, name FROM users ORDER BY id", "limit": 2})
            qt = text_of(q)
            check(not is_error(q), f"db_query runs a SELECT: {qt[:200]}")
            qv = json.loads(qt)
            check(qv["rows"][0]["name"] == "alice" and qv["truncated"] is True, "db_query returns rows with a limit")
            no_secret(qt, "db_query")

            d = await session.call_tool("db_query", {"sql": "DELETE FROM users"})
            check(is_error(d) and "refused" in text_of(d), f"db_query refuses DELETE FROM users: {text_of(d)[:200]}")
            w = await session.call_tool("db_query", {"sql": "SELECT 1; DELETE FROM users WHERE id = 1"})
            check(is_error(w), "db_query refuses a second statement")

            e = await session.call_tool("db_execute", {"sql": "DROP TABLE users"})
            et = text_of(e)
            no_secret(et, "db_execute")
            ev = json.loads(et) if not is_error(e) else {}
            check(ev.get("executed") is False, f"db_execute does not run DROP TABLE users: {et[:300]}")
            check(bool(ev.get("approval_code")), "db_execute answers with an approval code")
            check("dbguard approve" in ev.get("message", ""), "the answer says how the user approves")

            c = await session.call_tool("db_query", {"sql": "SELECT count(*) AS n FROM users"})
            cv = json.loads(text_of(c))
            check(cv["rows"][0]["n"] == 3, "the users table is intact (3 rows)")

            p = await session.call_tool("db_plan", {"sql": "TRUNCATE users"})
            pv = json.loads(text_of(p))
            check(pv["destructive"] is True and pv["findings"][0]["kind"] == "truncate", "db_plan finds TRUNCATE")

            k = await session.call_tool("db_check", {"text": "npx prisma migrate reset --force"})
            kv = json.loads(text_of(k))
            check(kv["destructive"] is True, "db_check flags prisma migrate reset")

            i = await session.call_tool("db_execute", {"sql": "INSERT INTO users (id, name) VALUES (4, 'dave')"})
            iv = json.loads(text_of(i)) if not is_error(i) else {}
            check(iv.get("executed") is True and iv.get("rows_affected") == 1, f"db_execute runs a safe INSERT: {text_of(i)[:200]}")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3])))
