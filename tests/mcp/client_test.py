#!/usr/bin/env python3
"""End-to-end test of `dbguard mcp` with the official MCP Python SDK as the client.

Usage: client_test.py DBGUARD_BINARY DATABASE_URL PROJECT_DIR

Starts `dbguard mcp --cwd PROJECT_DIR` over stdio (the URL is passed in the server's
environment as DATABASE_URL, as a project's .env would; CLAUDECODE=1 as an agent's client
would set it), against a database holding `users` (3 rows) and `orders` (2 rows), and checks:
- tools listed, db_status, db_query (row limit; refuses DELETE and a second statement),
  db_plan, db_check, db_execute of a safe INSERT;
- db_execute answers `DROP TABLE users` with an approval code and runs nothing;
- db_snapshot takes a verified snapshot that db_snapshots lists;
- a person approves the code with `dbguard approve CODE`, typing the database name in a
  pseudo-terminal (as at a real terminal; this process has no agent variables); then the
  code does not run another statement, a wrong code does not run the approved statement,
  the approved statement runs once after a snapshot, the audit log records it (door mcp,
  started + ran, code, snapshot), and the code cannot be used a second time;
- db_restore restores into a NEW database only (the original's name is refused) and leaves
  the original untouched;
- once dbguard.toml marks the database production, db_execute refuses it with no code and
  also with a code a person had approved before;
- no answer, log line or approval screen ever contains the password.

Writes what the Rust side checks in the database (the restored databases' names) as JSON to
$MCP_TEST_RESULTS when set. Exit status 0 when every check passes.
"""
import asyncio
import json
import os
import pty
import select
import subprocess
import sys
import time
from urllib.parse import urlsplit

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

EXPECTED_TOOLS = {
    "db_status", "db_query", "db_check", "db_plan", "db_snapshot", "db_snapshots", "db_restore", "db_execute",
}


def is_error(result):
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def json_of(result):
    try:
        return json.loads(text_of(result))
    except ValueError:
        return {}


def approve_in_pty(binary, code, typed, cwd):
    """`dbguard approve CODE` in a pseudo-terminal, as a person at a terminal: answers the
    "Type the database name" prompt with `typed` once it appears. Returns (exit code, screen)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execv(binary, [binary, "approve", code])
    out = b""
    sent = False
    deadline = time.time() + 120
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if fd not in r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        if not sent and b"Type " in out:
            time.sleep(0.2)
            os.write(fd, typed.encode() + b"\r")
            sent = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


async def main(binary, url, project):
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1] if "@" in url else None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["DATABASE_URL"] = url
    # The server runs where an agent's client starts it; only `dbguard approve` (below, from
    # this process) runs as the person.
    server_env = dict(env, CLAUDECODE="1")
    dbname = urlsplit(url).path.lstrip("/")
    results = {}
    params = StdioServerParameters(command=binary, args=["mcp", "--cwd", project], env=server_env, cwd=project)
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

            async def count(table):
                r = await session.call_tool("db_query", {"sql": f"SELECT count(*) AS n FROM {table}"})
                return json_of(r)["rows"][0]["n"] if not is_error(r) else None

            # --- db_snapshot / db_snapshots ------------------------------------------------
            sn = await session.call_tool("db_snapshot", {"label": "mcp test"})
            snt = text_of(sn)
            no_secret(snt, "db_snapshot")
            snv = json_of(sn) if not is_error(sn) else {}
            manual_id = snv.get("id")
            check(bool(manual_id) and snv.get("verified") is True, f"db_snapshot takes a verified snapshot: {snt[:300]}")
            check(snv.get("label") == "mcp test", "db_snapshot keeps the label")
            ls = await session.call_tool("db_snapshots", {})
            lst = text_of(ls)
            no_secret(lst, "db_snapshots")
            listed = [x.get("id") for x in json_of(ls).get("snapshots", [])]
            check(manual_id in listed, f"db_snapshots lists it ({listed})")

            # --- approval: a person approves at a terminal ---------------------------------
            code = ev.get("approval_code", "")
            # Before any approval, the code runs nothing.
            early = await session.call_tool("db_execute", {"sql": "DROP TABLE users", "approval_code": code})
            check(is_error(early) and "NOT executed" in text_of(early), f"an unapproved code runs nothing: {text_of(early)[:200]}")
            check(await count("users") == 4, "users intact after the unapproved code")

            st, screen = approve_in_pty(binary, code, dbname, project)
            check(st == 0, f"`dbguard approve {code}` typed at a terminal approves it (exit {st}): {screen[-400:]}")
            check("DROP TABLE users" in screen, "the person sees the plan being approved")
            no_secret(screen, "dbguard approve")

            # The approval is for exactly that statement: another one is refused.
            other = await session.call_tool("db_execute", {"sql": "DROP TABLE orders", "approval_code": code})
            check(is_error(other) and "NOT executed" in text_of(other), f"the code does not run another statement: {text_of(other)[:200]}")
            check(await count("orders") == 2, "orders intact")
            # A code the person did not approve does not run the approved statement either.
            wrong = "ZZZ-ZZZ" if code != "ZZZ-ZZZ" else "YYY-YYY"
            bad = await session.call_tool("db_execute", {"sql": "DROP TABLE users", "approval_code": wrong})
            check(is_error(bad) and "NOT executed" in text_of(bad), f"a wrong code is refused: {text_of(bad)[:200]}")
            check(await count("users") == 4, "users intact after the wrong code")

            ok = await session.call_tool("db_execute", {"sql": "DROP TABLE users", "approval_code": code})
            okt = text_of(ok)
            no_secret(okt, "db_execute (approved)")
            okv = json_of(ok) if not is_error(ok) else {}
            pre_id = okv.get("snapshot")
            check(okv.get("executed") is True and bool(pre_id), f"the approved DROP TABLE runs after a snapshot: {okt[:300]}")
            check(okv.get("restore") == f"dbguard restore {pre_id}", "the answer says how to restore")
            gone = await session.call_tool("db_query", {"sql": "SELECT count(*) FROM users"})
            check(is_error(gone), "users is gone")
            ls2 = json_of(await session.call_tool("db_snapshots", {}))
            check(pre_id in [x.get("id") for x in ls2.get("snapshots", [])], "the pre-execution snapshot is listed")

            # Single use: a new users table is not dropped with the same code.
            await session.call_tool("db_execute", {"sql": "CREATE TABLE users (id int PRIMARY KEY, name text)"})
            await session.call_tool("db_execute", {"sql": "INSERT INTO users VALUES (9, 'zed')"})
            again = await session.call_tool("db_execute", {"sql": "DROP TABLE users", "approval_code": code})
            check(is_error(again) and "NOT executed" in text_of(again), f"the code is used once: {text_of(again)[:200]}")
            check(await count("users") == 1, "the new users table is intact")

            # The audit log records it.
            log = subprocess.run([binary, "log", "--json"], cwd=project, env=env, capture_output=True, text=True)
            no_secret(log.stdout + log.stderr, "dbguard log")
            entries = json.loads(log.stdout or "[]")
            mine = [e for e in entries if e.get("door") == "mcp" and e.get("approval") == code]
            outcomes = [e.get("outcome") for e in mine]
            check("needs_approval" in outcomes and "started" in outcomes and "ran" in outcomes,
                  f"the audit log has needs_approval, started and ran for {code}: {outcomes}")
            check(outcomes.count("refused") >= 3,
                  f"the refused uses of {code} (before approval, another statement, second use) are logged: {outcomes}")
            check(any(e.get("door") == "mcp" and e.get("approval") == wrong and e.get("outcome") == "refused" for e in entries),
                  f"the made-up code {wrong} is logged as refused")
            ran = [e for e in mine if e.get("outcome") == "ran"]
            check(bool(ran) and ran[0].get("snapshot") == pre_id and ran[0].get("exit_code") == 0,
                  "the log's `ran` entry names the snapshot and exit code 0")
            check(bool(ran) and ran[0].get("agent") == "Claude Code", "the log names the agent")

            # --- db_restore: into a new database only --------------------------------------
            same = await session.call_tool("db_restore", {"snapshot": pre_id, "new_database": dbname})
            check(is_error(same) and "already exists" in text_of(same),
                  f"db_restore refuses the original database as the target: {text_of(same)[:200]}")
            check(await count("users") == 1, "the original is untouched by the refused restore")
            rs = await session.call_tool("db_restore", {"snapshot": pre_id})
            rst = text_of(rs)
            no_secret(rst, "db_restore")
            rsv = json_of(rs) if not is_error(rs) else {}
            check(bool(rsv.get("database")) and rsv.get("database") != dbname and rsv.get("in_place") is False,
                  f"db_restore restores into a new database: {rst[:300]}")
            check(any(t.split(".")[-1] == "users" for t in rsv.get("tables", [])), f"the restored copy holds users: {rsv.get('tables')}")
            results["restored_pre_execute"] = rsv.get("database")
            named = f"{dbname}_mcp_named"
            rn = await session.call_tool("db_restore", {"snapshot": manual_id, "new_database": named})
            no_secret(text_of(rn), "db_restore (named)")
            check(not is_error(rn) and json_of(rn).get("database") == named, f"db_restore into a named new database: {text_of(rn)[:300]}")
            results["restored_manual"] = named
            check(await count("users") == 1 and await count("orders") == 2, "the original is untouched by the restores")

            # --- production (by dbguard.toml) is refused, even with an approved code -------
            o = json_of(await session.call_tool("db_execute", {"sql": "DROP TABLE orders"}))
            code2 = o.get("approval_code", "")
            st2, screen2 = approve_in_pty(binary, code2, dbname, project)
            check(bool(code2) and st2 == 0, f"a second code is approved (exit {st2}): {screen2[-300:]}")
            with open(os.path.join(project, "dbguard.toml"), "w") as f:
                f.write(f'[[databases]]\nmatch = "{dbname}"\nenvironment = "production"\n')
            pst = json_of(await session.call_tool("db_status", {}))
            check(pst.get("target", {}).get("environment") == "production", "db_status now says production")
            pb = await session.call_tool("db_execute", {"sql": "DROP TABLE orders"})
            pbv = json_of(pb)
            check(pbv.get("executed") is False and not pbv.get("approval_code") and "NOT executed" in pbv.get("message", ""),
                  f"production: no approval code is handed out: {text_of(pb)[:300]}")
            pc = await session.call_tool("db_execute", {"sql": "DROP TABLE orders", "approval_code": code2})
            check(is_error(pc) and "NOT executed" in text_of(pc), f"production: refused even with an approved code: {text_of(pc)[:300]}")
            check(await count("orders") == 2, "orders intact on production")
            plog = json.loads(subprocess.run([binary, "log", "--json"], cwd=project, env=env, capture_output=True, text=True).stdout or "[]")
            check(any(e.get("approval") == code2 and e.get("outcome") == "blocked" for e in plog),
                  "production: the refused code is logged as blocked")
            os.remove(os.path.join(project, "dbguard.toml"))

    if os.environ.get("MCP_TEST_RESULTS"):
        with open(os.environ["MCP_TEST_RESULTS"], "w") as f:
            json.dump(results, f)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3])))
