//! The protocol as real clients use it, through the real `dbguard proxy`: COPY of 100k rows
//! both ways, SCRAM and MD5 logins and wrong passwords (the server's answer relayed), a client
//! that leaves mid-query, an upstream that goes away while another keeps serving, TLS to the
//! upstream, a Unix socket, a clean stop on SIGTERM, and bad input (malformed messages, a
//! 1 GB startup packet, garbage after authentication, a statement over the size limit).

mod e2e_support;
mod proxy_support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use e2e_support::{describe, World};
use proxy_support::*;

fn cluster() -> &'static testpg::Cluster {
    static C: OnceLock<testpg::Cluster> = OnceLock::new();
    C.get_or_init(scram_cluster)
}

fn direct(db: &str, sql: &str) -> String {
    let out = psql(cluster().port, APP, APP_PW, db, &["-c", sql], None);
    assert!(out.status.success(), "direct SQL failed: {}\n{sql}", stderr(&out));
    stdout(&out)
}

fn upstream(db: &str) -> String {
    format!("postgres://127.0.0.1:{}/{db}", cluster().port)
}

#[test]
fn copy_of_100k_rows_in_and_out() {
    let db = app_db(cluster(), "px_copy");
    direct(&db, "CREATE TABLE big (id int PRIMARY KEY, payload text)");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let mut input = String::with_capacity(4 << 20);
    for i in 0..100_000 {
        input.push_str(&format!("{i}\tpayload number {i} {}\n", "x".repeat(i % 50)));
    }
    let out = psql(
        proxy.port,
        APP,
        APP_PW,
        &db,
        &["-c", "\\copy big FROM STDIN"],
        Some(input.as_bytes()),
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(direct(&db, "SELECT count(*) FROM big"), "100000");
    let out = psql(
        proxy.port,
        APP,
        APP_PW,
        &db,
        &["-c", "COPY (SELECT * FROM big ORDER BY id) TO STDOUT"],
        None,
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(out.stdout.len(), input.len());
    assert!(
        out.stdout == input.as_bytes(),
        "COPY TO STDOUT through the proxy differs from what went in"
    );
    // A large result through the simple protocol too.
    let out = proxy.psql(&db, "SELECT sum(length(payload)) FROM big");
    assert_eq!(stdout(&out), direct(&db, "SELECT sum(length(payload)) FROM big"));
}

#[test]
fn scram_and_md5_logins_are_relayed_and_wrong_passwords_get_the_servers_answer() {
    let db = app_db(cluster(), "px_auth");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let ok = proxy.psql_as(APP, APP_PW, &db, &["-c", "SELECT current_user"]);
    assert_eq!(stdout(&ok), APP, "{}", describe(&ok));
    let ok = proxy.psql_as(MD5_USER, MD5_PW, &db, &["-c", "SELECT current_user"]);
    assert_eq!(stdout(&ok), MD5_USER, "{}", describe(&ok));
    for user in [APP, MD5_USER] {
        let bad = proxy.psql_as(user, "wrong", &db, &["-c", "SELECT 1"]);
        assert!(!bad.status.success());
        assert!(
            stderr(&bad).contains(&format!("password authentication failed for user \"{user}\"")),
            "{}",
            describe(&bad)
        );
    }
    // A database the proxy does not serve.
    let other = proxy.psql_as(APP, APP_PW, "postgres", &["-c", "SELECT 1"]);
    assert!(
        stderr(&other).contains("serves no database \"postgres\""),
        "{}",
        describe(&other)
    );
}

#[test]
fn a_client_that_leaves_mid_query_does_not_leave_the_query_running() {
    let db = app_db(cluster(), "px_leave");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let mut r = Raw::connect(proxy.port, TRUST_USER, &db);
    r.send(&query_msg("SELECT pg_sleep(60) /* dbguard-leaver */"));
    let running = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%dbguard-leaver%' AND state = 'active' AND pid <> pg_backend_pid()";
    assert!(testpg::wait_for(Duration::from_secs(10), || cluster()
        .psql(&db, running)
        == "1"));
    drop(r);
    assert!(
        testpg::wait_for(Duration::from_secs(5), || cluster().psql(&db, running) == "0"),
        "the server kept running the query of a client that left"
    );
    // The proxy serves others as before.
    assert_eq!(stdout(&proxy.psql(&db, "SELECT 1")), "1");
}

#[test]
fn an_upstream_that_goes_away_fails_its_clients_while_the_other_keeps_serving() {
    let other = scram_cluster();
    let db_a = app_db(cluster(), "px_up_a");
    let db_b = app_db(&other, "px_up_b");
    let world = World::new();
    world.set_config(&format!(
        "[proxy]\n[[proxy.upstreams]]\nurl = \"postgres://127.0.0.1:{}/{db_a}\"\n[[proxy.upstreams]]\nurl = \"postgres://127.0.0.1:{}/{db_b}\"\n",
        cluster().port,
        other.port
    ));
    let proxy = Proxy::start_with(&world, &[]);
    let mut a = Raw::connect(proxy.port, TRUST_USER, &db_a);
    let mut b = Raw::connect(proxy.port, TRUST_USER, &db_b);
    other.stop();
    // The session on the stopped server gets an error (the server's own, or the proxy's).
    b.send(&query_msg("SELECT 1"));
    let reply = b.until_ready();
    assert!(reply.iter().any(|(t, _)| *t == b'E'), "{reply:?}");
    assert!(b.read().is_none(), "the session ends");
    // New connections to it are told why.
    let out = proxy.psql_as(APP, APP_PW, &db_b, &["-c", "SELECT 1"]);
    assert!(
        stderr(&out).contains("cannot reach the database server"),
        "{}",
        describe(&out)
    );
    // The other upstream, and its open session, are unaffected.
    a.send(&query_msg("SELECT 1"));
    assert_eq!(shape(&a.until_ready()).0, "TDCZ");
    assert_eq!(stdout(&proxy.psql(&db_a, "SELECT 2")), "2");
}

#[test]
fn tls_to_the_upstream_with_the_urls_sslmode() {
    let tls = testpg::Cluster::start_tls();
    tls.psql("postgres", &format!("CREATE ROLE {APP} LOGIN PASSWORD '{APP_PW}'"));
    let world = World::new();
    let url = format!(
        "postgres://localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        tls.port,
        tls.ca_cert().display()
    );
    let proxy = Proxy::start(&world, &url);
    let out = proxy.psql("postgres", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    assert_eq!(stdout(&out), "t", "{}", describe(&out));
    // A server without TLS and sslmode=require: clients are told the upstream is unreachable.
    let world = World::new();
    let proxy = Proxy::start(
        &world,
        &format!("postgres://127.0.0.1:{}/postgres?sslmode=require", cluster().port),
    );
    let out = proxy.psql_as(APP, APP_PW, "postgres", &["-c", "SELECT 1"]);
    assert!(stderr(&out).contains("does not support TLS"), "{}", describe(&out));
}

#[test]
fn unix_socket_listener() {
    let db = app_db(cluster(), "px_unix");
    let world = World::new();
    let dir = world.dir.path().join("sock");
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let path = dir.join(format!(".s.PGSQL.{port}"));
    let mut child = world
        .command(
            world.dir.path(),
            &[
                "proxy",
                "--listen",
                path.to_str().unwrap(),
                "--upstream",
                &upstream(&db),
            ],
        )
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(testpg::wait_for(Duration::from_secs(10), || path.exists()));
    let out = e2e_support::clean("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-h",
            dir.to_str().unwrap(),
            "-p",
            &port.to_string(),
            "-U",
            APP,
            "-d",
            &db,
            "-c",
            "SELECT 42",
        ])
        .env("PGPASSWORD", APP_PW)
        .output()
        .unwrap();
    // The client's SCRAM login crosses the socket and the proxy's TCP connection upstream.
    assert_eq!(stdout(&out), "42", "{}", describe(&out));
    // SAFETY: SIGTERM to the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!path.exists(), "the socket file is removed on exit");
    let mut log = String::new();
    use std::io::Read;
    child.stdout.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains(&format!("host={}&port={port}", dir.display())), "{log}");
}

#[test]
fn sigterm_ends_idle_sessions_lets_open_transactions_finish_and_stops() {
    let db = app_db(cluster(), "px_term");
    direct(&db, "CREATE TABLE t (a int)");
    let world = World::new();
    world.set_config("[proxy]\nshutdown_grace = \"20s\"\n");
    let mut proxy = Proxy::start(&world, &upstream(&db));
    let mut idle = Raw::connect(proxy.port, TRUST_USER, &db);
    let mut busy = Raw::connect(proxy.port, TRUST_USER, &db);
    busy.send(&query_msg("BEGIN; INSERT INTO t VALUES (1)"));
    assert_eq!(shape(&busy.until_ready()).1, Some('T'));
    // SAFETY: SIGTERM to the proxy this test started.
    unsafe {
        libc::kill(proxy.pid() as i32, libc::SIGTERM);
    }
    // The idle session is told and closed.
    let reply = idle.until_ready();
    assert_eq!(field(&reply[0].1, b'C').as_deref(), Some("57P01"), "{reply:?}");
    // New connections are refused.
    std::thread::sleep(Duration::from_millis(300));
    assert!(TcpStream::connect(("127.0.0.1", proxy.port)).is_err());
    // The open transaction finishes, then that session ends too.
    busy.send(&query_msg("INSERT INTO t VALUES (2); COMMIT"));
    assert_eq!(shape(&busy.until_ready()), ("CCZ".to_string(), Some('I')));
    let end = busy.until_ready();
    assert_eq!(field(&end[0].1, b'C').as_deref(), Some("57P01"), "{end:?}");
    assert_eq!(proxy.stop(Duration::from_secs(10)), Some(0));
    assert_eq!(direct(&db, "SELECT count(*) FROM t"), "2");
    assert!(
        proxy.log_text().contains("\"event\":\"stopped\""),
        "{}",
        proxy.log_text()
    );

    // A transaction left open past the grace period is rolled back by the server.
    world.set_config("[proxy]\nshutdown_grace = \"1s\"\n");
    let mut proxy = Proxy::start(&world, &upstream(&db));
    let mut stuck = Raw::connect(proxy.port, TRUST_USER, &db);
    stuck.send(&query_msg("BEGIN; INSERT INTO t VALUES (3)"));
    assert_eq!(shape(&stuck.until_ready()).1, Some('T'));
    let start = Instant::now();
    assert_eq!(proxy.stop(Duration::from_secs(10)), Some(0));
    assert!(start.elapsed() < Duration::from_secs(8));
    assert_eq!(direct(&db, "SELECT count(*) FROM t"), "2");
}

#[test]
fn bad_input_gets_a_clear_error_and_hurts_no_other_session() {
    let db = app_db(cluster(), "px_bad");
    let world = World::new();
    world.set_config("[proxy]\nmax_statement_bytes = 4096\n");
    let proxy = Proxy::start(&world, &upstream(&db));
    let mut keeper = Raw::connect(proxy.port, TRUST_USER, &db);
    let fatal_of = |bytes: &[u8]| -> (Option<String>, Option<String>) {
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all(bytes);
        let mut r = Raw { s };
        match r.read() {
            Some((b'E', body)) => (field(&body, b'C'), field(&body, b'M')),
            other => panic!("expected an error, got {other:?}"),
        }
    };
    // A startup packet that claims a gigabyte: refused at once, nothing allocated.
    let (code, message) = fatal_of(&1_000_000_000i32.to_be_bytes());
    assert_eq!(code.as_deref(), Some("08P01"));
    assert!(message.unwrap_or_default().contains("invalid length of startup packet"));
    // An unknown protocol version.
    let (code, _) = fatal_of(&[0, 0, 0, 8, 0, 9, 0, 0]);
    assert_eq!(code.as_deref(), Some("08P01"));
    // Parameters without their terminating NUL.
    let (code, _) = fatal_of(&[0, 0, 0, 14, 0, 3, 0, 0, b'u', b's', b'e', b'r', 0, b'x']);
    assert_eq!(code.as_deref(), Some("08P01"));

    // After authentication: a message length below 4.
    let mut r = Raw::connect(proxy.port, TRUST_USER, &db);
    r.send(&[b'Q', 0, 0, 0, 2]);
    let (t, body) = r.read().expect("an error");
    assert_eq!((t, field(&body, b'C').as_deref()), (b'E', Some("08P01")));
    assert!(r.read().is_none());
    // Garbage: whoever reads it first (the proxy or the server) says so and closes.
    let mut r = Raw::connect(proxy.port, TRUST_USER, &db);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    r.send(&garbage);
    let (t, _) = r.read().expect("an error");
    assert_eq!(t, b'E');
    // A Query larger than the proxy reads to check it.
    let mut r = Raw::connect(proxy.port, TRUST_USER, &db);
    r.send(&query_msg(&format!("SELECT '{}'", "x".repeat(8000))));
    let (t, body) = r.read().expect("an error");
    assert_eq!((t, field(&body, b'C').as_deref()), (b'E', Some("54000")));

    // The session that behaved is unaffected, and the proxy did not panic.
    keeper.send(&query_msg("SELECT 1"));
    assert_eq!(shape(&keeper.until_ready()).0, "TDCZ");
    assert!(!proxy.log_text().contains("panicked"), "{}", proxy.log_text());
}

/// The proxy's virtual memory high-water mark, in kB (a reserved buffer counts even untouched).
fn vm_peak_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmPeak:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmPeak")
}

#[test]
fn a_length_claimed_by_client_or_server_is_not_allocated_before_its_bytes_arrive() {
    use std::io::Read;
    use std::net::TcpListener;
    // A stand-in upstream: logs anyone in, then answers the first query with a ReadyForQuery
    // that claims 2 GB and sends one byte of it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let read_startup = |s: &mut TcpStream| -> i32 {
            let mut len = [0u8; 4];
            s.read_exact(&mut len).unwrap();
            let mut body = vec![0u8; i32::from_be_bytes(len) as usize - 4];
            s.read_exact(&mut body).unwrap();
            i32::from_be_bytes([body[0], body[1], body[2], body[3]])
        };
        if read_startup(&mut s) == 80877103 {
            s.write_all(b"N").unwrap();
            read_startup(&mut s);
        }
        let mut hello = msg(b'R', &0i32.to_be_bytes());
        hello.extend(msg(b'K', &[0, 0, 0, 7, 0, 0, 0, 9]));
        hello.extend(msg(b'Z', b"I"));
        s.write_all(&hello).unwrap();
        let mut head = [0u8; 5];
        s.read_exact(&mut head).unwrap();
        let mut body = vec![0u8; i32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize - 4];
        s.read_exact(&mut body).unwrap();
        s.write_all(&[b'Z', 0x7f, 0xff, 0xff, 0xf0, b'I']).unwrap();
        // Hold the connection open: the proxy must give up on its own, not on end of stream.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });

    let db = app_db(cluster(), "px_claim");
    let world = World::new();
    world.set_config(&format!(
        "[proxy]\nmax_statement_bytes = 200000000\n[[proxy.upstreams]]\nurl = \"postgres://127.0.0.1:{}/{db}\"\n[[proxy.upstreams]]\nurl = \"postgres://127.0.0.1:{fake_port}/fake?sslmode=disable\"\n",
        cluster().port
    ));
    let proxy = Proxy::start_with(&world, &[]);
    let mut keeper = Raw::connect(proxy.port, TRUST_USER, &db);
    let before = vm_peak_kb(proxy.pid());

    // Clients that each claim a Query just under the limit (190 MB) and send 1 byte of it.
    let claims: Vec<Raw> = (0..4)
        .map(|_| {
            let mut q = Raw::connect(proxy.port, TRUST_USER, &db);
            let mut m = vec![b'Q'];
            m.extend(190_000_000i32.to_be_bytes());
            m.push(b'S');
            q.send(&m);
            q
        })
        .collect();

    // The server's claimed 2 GB: the client is told the session is over, promptly.
    let mut f = Raw::connect(proxy.port, TRUST_USER, "fake");
    let t0 = Instant::now();
    f.send(&query_msg("SELECT 1"));
    let (t, body) = f.read().expect("an error");
    assert_eq!(
        (t, field(&body, b'C').as_deref()),
        (b'E', Some("08006")),
        "{}",
        proxy.log_text()
    );
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(f.read().is_none(), "the session ends");
    assert!(
        proxy.log_text().contains("larger than the proxy reads whole"),
        "{}",
        proxy.log_text()
    );
    fake.join().unwrap();

    std::thread::sleep(Duration::from_millis(300));
    let after = vm_peak_kb(proxy.pid());
    eprintln!("proxy VmPeak: {before} kB before the claims, {after} kB after");
    assert!(
        after.saturating_sub(before) < 256 * 1024,
        "virtual memory grew from {before} kB to {after} kB"
    );
    // Everyone else is served.
    keeper.send(&query_msg("SELECT 1"));
    assert_eq!(shape(&keeper.until_ready()).0, "TDCZ");
    drop(claims);
    assert!(!proxy.log_text().contains("panicked"), "{}", proxy.log_text());
}
