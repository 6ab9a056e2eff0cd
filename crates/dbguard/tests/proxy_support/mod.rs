//! Shared by the `proxy_*.rs` tests: a PostgreSQL 15 cluster with `scram-sha-256` for TCP
//! logins and a NOSUPERUSER application role, the real `dbguard proxy` binary on a free port
//! (stopped with SIGTERM by its pid), and psql through it.
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::e2e_support::{clean, World};

/// The application role and its password.
pub const APP: &str = "app";
pub const APP_PW: &str = "app-secret";
/// A role that logs in without a password (for the raw protocol tests, which do not
/// implement SCRAM themselves).
pub const TRUST_USER: &str = "rawclient";
/// A role that logs in with MD5.
pub const MD5_USER: &str = "md5user";
pub const MD5_PW: &str = "md5-secret";

/// A cluster where TCP logins (except the test harness's own `postgres`) use SCRAM-SHA-256
/// (and MD5 for `md5user`), with the roles created.
pub fn scram_cluster() -> testpg::Cluster {
    let c = testpg::Cluster::start();
    std::fs::write(
        c.data_dir.join("pg_hba.conf"),
        "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all rawclient 127.0.0.1/32 trust\nhost all md5user 127.0.0.1/32 md5\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .expect("write pg_hba.conf");
    c.psql("postgres", "SELECT pg_reload_conf()");
    c.psql(
        "postgres",
        &format!("CREATE ROLE {APP} LOGIN PASSWORD '{APP_PW}' NOSUPERUSER NOCREATEDB NOCREATEROLE"),
    );
    c.psql(
        "postgres",
        &format!("SET password_encryption = 'md5'; CREATE ROLE {MD5_USER} LOGIN PASSWORD '{MD5_PW}' NOSUPERUSER"),
    );
    c.psql(
        "postgres",
        &format!("CREATE ROLE {TRUST_USER} LOGIN NOSUPERUSER IN ROLE {APP}"),
    );
    c
}

/// A new database owned by the application role.
pub fn app_db(c: &testpg::Cluster, prefix: &str) -> String {
    let db = c.create_db(prefix);
    c.psql("postgres", &format!("ALTER DATABASE \"{db}\" OWNER TO {APP}"));
    c.psql(&db, &format!("ALTER SCHEMA public OWNER TO {APP}"));
    db
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running `dbguard proxy`.
pub struct Proxy {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
}

impl Proxy {
    /// `dbguard proxy --listen 127.0.0.1:PORT --upstream URL --json-log` in `world`.
    pub fn start(world: &World, upstream: &str) -> Proxy {
        Proxy::start_with(world, &["--upstream", upstream])
    }

    /// With other arguments (`--upstream` or a dbguard.toml [proxy] section).
    pub fn start_with(world: &World, args: &[&str]) -> Proxy {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut all = vec!["proxy", "--listen", &listen, "--json-log"];
        all.extend_from_slice(args);
        Proxy::spawn(world, &all, port)
    }

    pub fn spawn(world: &World, args: &[&str], port: u16) -> Proxy {
        let log = world.dir.path().join(format!("proxy-{port}.log"));
        let out = std::fs::File::create(&log).expect("proxy log");
        let err = out.try_clone().expect("proxy log");
        let child = world
            .command(world.dir.path(), args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start dbguard proxy");
        let p = Proxy {
            child: Some(child),
            port,
            log,
        };
        let up = testpg::wait_for(Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "dbguard proxy did not listen on {port}:\n{}", p.log_text());
        p
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// A URL through the proxy.
    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    pub fn app_url(&self, db: &str) -> String {
        self.url(APP, APP_PW, db)
    }

    /// psql through the proxy as the application role: `-c SQL`, unaligned, tuples only,
    /// stopping at the first error.
    pub fn psql(&self, db: &str, sql: &str) -> Output {
        self.psql_as(APP, APP_PW, db, &["-c", sql])
    }

    pub fn psql_as(&self, user: &str, password: &str, db: &str, args: &[&str]) -> Output {
        psql(self.port, user, password, db, args, None)
    }

    /// Everything the proxy logged.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The JSON decision lines of the log.
    pub fn decisions(&self) -> Vec<serde_json::Value> {
        self.log_text()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "decision")
            .collect()
    }

    /// SIGTERM, then wait (at most `within`); returns the exit code.
    pub fn stop(&mut self, within: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        // SAFETY: kill(2) on the pid of the child this test started.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// psql on a port as a role, with its password, no ~/.psqlrc; `stdin` fed when given.
pub fn psql(port: u16, user: &str, password: &str, db: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = clean("psql");
    c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .args(["-U", user, "-d", db])
        .args(args)
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10");
    match stdin {
        None => c.stdin(Stdio::null()).output().expect("run psql"),
        Some(input) => {
            use std::io::Write;
            let mut child = c
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run psql");
            let mut sin = child.stdin.take().expect("stdin");
            let data = input.to_vec();
            let feeder = std::thread::spawn(move || {
                let _ = sin.write_all(&data);
            });
            let out = child.wait_with_output().expect("psql output");
            let _ = feeder.join();
            out
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A node script from tests/e2e/proxy, run in `dir` with DATABASE_URL; its one JSON line.
pub fn node(dir: &Path, script: &str, url: &str, args: &[&str]) -> serde_json::Value {
    let out = clean("node")
        .arg(crate::e2e_support::e2e_dir().join("proxy").join(script))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "{script} {args:?}: no JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Everything that describes the tables of schema `public` of `db`, as sorted lines: tables,
/// columns with types, defaults and nullability, indexes, constraints, views and their
/// definitions, sequences with their state, triggers, owners and grants.
pub fn catalog(c: &testpg::Cluster, db: &str) -> Vec<String> {
    let sql = r#"
WITH rels AS (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace)
SELECT x FROM (
  SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner) || ' acl=' || coalesce(c.relacl::text, '') AS x
    FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' notnull=' || a.attnotnull || ' identity=' || a.attidentity::text || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid IN (SELECT oid FROM rels) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT 'constraint ' || con.conrelid::regclass || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) || ' validated=' || con.convalidated
    FROM pg_constraint con WHERE con.connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels) AND c.relkind IN ('v', 'm')
  UNION ALL
  SELECT 'sequence ' || s.sequencename || ' last=' || coalesce(s.last_value::text, 'null') || ' inc=' || s.increment_by
    FROM pg_sequences s WHERE s.schemaname = 'public'
  UNION ALL
  SELECT 'owned ' || d.objid::regclass || ' by ' || d.refobjid::regclass || '.' || d.refobjsubid
    FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     AND d.objid IN (SELECT oid FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace)
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal
  UNION ALL
  SELECT 'comment ' || c.relname || ' ' || obj_description(c.oid, 'pg_class') FROM pg_class c
   WHERE c.oid IN (SELECT oid FROM rels) AND obj_description(c.oid, 'pg_class') IS NOT NULL
) s ORDER BY x"#;
    c.psql(db, sql).lines().map(str::to_string).collect()
}

/// Two catalogs are the same; else the lines that differ.
pub fn assert_same(now: &[String], before: &[String]) {
    let gone: Vec<&String> = before.iter().filter(|l| !now.contains(l)).collect();
    let new: Vec<&String> = now.iter().filter(|l| !before.contains(l)).collect();
    assert!(
        gone.is_empty() && new.is_empty() && now.len() == before.len(),
        "catalog differs:\n  missing now: {gone:#?}\n  new: {new:#?}"
    );
}

/// The same rows, relation by relation; else a short account of the first difference.
pub fn assert_rows_same(now: &[Vec<String>], before: &[Vec<String>]) {
    assert_eq!(now.len(), before.len(), "not the same relations");
    for (i, (n, b)) in now.iter().zip(before).enumerate() {
        if n != b {
            let first = n
                .iter()
                .zip(b)
                .position(|(x, y)| x != y)
                .unwrap_or(n.len().min(b.len()));
            panic!(
                "relation #{i}: {} rows now, {} before; first difference at row {first}: now {:?}, before {:?}",
                n.len(),
                b.len(),
                n.get(first),
                b.get(first)
            );
        }
    }
}

/// Read a server reply to a raw startup packet: its first byte, or None at EOF.
pub fn first_byte(s: &mut TcpStream) -> Option<u8> {
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(1) => Some(b[0]),
        _ => None,
    }
}

/// A hand-written protocol client: exact control of what is pipelined, exact view of every
/// message that comes back (for the tests of the proxy's extended-protocol state).
pub struct Raw {
    pub s: TcpStream,
}

/// One frontend message: type byte, length, body.
pub fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

pub fn parse_msg(name: &str, sql: &str) -> Vec<u8> {
    let mut b = cstr(name);
    b.extend(cstr(sql));
    b.extend_from_slice(&0i16.to_be_bytes());
    msg(b'P', &b)
}

/// Bind of `stmt` to the unnamed portal, text parameters.
pub fn bind_msg(stmt: &str, params: &[&str]) -> Vec<u8> {
    let mut b = cstr("");
    b.extend(cstr(stmt));
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&(params.len() as i16).to_be_bytes());
    for p in params {
        b.extend_from_slice(&(p.len() as i32).to_be_bytes());
        b.extend_from_slice(p.as_bytes());
    }
    b.extend_from_slice(&0i16.to_be_bytes());
    msg(b'B', &b)
}

pub fn execute_msg() -> Vec<u8> {
    let mut b = cstr("");
    b.extend_from_slice(&0i32.to_be_bytes());
    msg(b'E', &b)
}

pub fn describe_msg(kind: u8, name: &str) -> Vec<u8> {
    let mut b = vec![kind];
    b.extend(cstr(name));
    msg(b'D', &b)
}

pub fn sync_msg() -> Vec<u8> {
    msg(b'S', &[])
}

pub fn query_msg(sql: &str) -> Vec<u8> {
    msg(b'Q', &cstr(sql))
}

impl Raw {
    /// Connect and log in (trust) as `user` to `db`; ready for queries.
    pub fn connect(port: u16, user: &str, db: &str) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let mut r = Raw { s };
        let mut body = 196608i32.to_be_bytes().to_vec();
        for (k, v) in [("user", user), ("database", db), ("application_name", "raw")] {
            body.extend(cstr(k));
            body.extend(cstr(v));
        }
        body.push(0);
        let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        packet.extend(body);
        r.send(&packet);
        let got = r.until_ready();
        assert!(got.iter().any(|(t, _)| *t == b'K'), "no BackendKeyData: {got:?}");
        r
    }

    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.s.write_all(bytes).expect("write");
    }

    /// One message, or None at end of stream.
    pub fn read(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut head = [0u8; 5];
        self.s.read_exact(&mut head).ok()?;
        let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len.saturating_sub(4)];
        self.s.read_exact(&mut body).ok()?;
        Some((head[0], body))
    }

    /// Messages up to and including the next ReadyForQuery.
    pub fn until_ready(&mut self) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(m) = self.read() {
            let done = m.0 == b'Z';
            out.push(m);
            if done {
                break;
            }
        }
        out
    }
}

/// The message types of a reply, as a string (`12CEZ`), and the status of its ReadyForQuery.
pub fn shape(reply: &[(u8, Vec<u8>)]) -> (String, Option<char>) {
    let tags: String = reply.iter().map(|(t, _)| *t as char).collect();
    let status = reply
        .iter()
        .rev()
        .find(|(t, _)| *t == b'Z')
        .and_then(|(_, b)| b.first().map(|c| *c as char));
    (tags, status)
}

/// A field of an ErrorResponse body (`C` for the SQLSTATE, `M` for the message).
pub fn field(body: &[u8], code: u8) -> Option<String> {
    let mut rest = body;
    while let Some((&c, after)) = rest.split_first() {
        if c == 0 {
            return None;
        }
        let nul = after.iter().position(|&b| b == 0)?;
        if c == code {
            return Some(String::from_utf8_lossy(&after[..nul]).into_owned());
        }
        rest = &after[nul + 1..];
    }
    None
}
