//! Real clients through the real `dbguard proxy`: node `pg` (extended protocol, named
//! statements, LISTEN/NOTIFY), the Prisma 6.19.3 client running the incident
//! (`$executeRawUnsafe('DROP TABLE "Product"')`) and `dbguard undrop Product`, tokio-postgres
//! pipelining, and a hand-written client that checks the exact extended-protocol replies
//! around a refused Parse (the server's own error-then-skip-to-Sync, ReadyForQuery status).

mod e2e_support;
mod proxy_support;

use std::sync::OnceLock;

use e2e_support::{describe, rows, Project, World};
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

fn items_db(prefix: &str) -> String {
    let db = app_db(cluster(), prefix);
    direct(
        &db,
        "CREATE TABLE items (id serial PRIMARY KEY, name text); INSERT INTO items (name) SELECT 'i' || g FROM generate_series(1, 100) g; \
         CREATE TABLE scratch (a int); INSERT INTO scratch VALUES (1)",
    );
    db
}

#[test]
fn node_pg_extended_protocol_named_statements_refusals_and_soft_drop() {
    let db = items_db("px_node");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let e2e = e2e_support::e2e_dir();
    let v = node(&e2e, "pg_client.mjs", &proxy.app_url(&db), &["extended"]);
    assert!(v.get("fatal").is_none(), "{v}");
    assert_eq!(v["count_before"], 103, "{v}");
    assert_eq!(v["truncate"]["error"]["code"], "DGP01", "{v}");
    assert!(
        v["truncate"]["error"]["hint"]
            .as_str()
            .unwrap_or("")
            .contains("dbguard approve"),
        "{v}"
    );
    assert_eq!(v["delete_all"]["error"]["code"], "DGP01", "{v}");
    assert_eq!(v["delete_plain"]["error"]["code"], "DGP01", "{v}");
    assert_eq!(v["drop_schema"]["error"]["code"], "DGP01", "{v}");
    assert_eq!(v["count_after_refusals"], 103, "{v}");
    assert_eq!(v["tx_truncate"]["error"]["code"], "DGP01", "{v}");
    assert_eq!(
        v["tx_next"]["error"]["code"], "25P02",
        "the refusal aborts the transaction: {v}"
    );
    assert_eq!(v["count_after_rollback"], 103, "{v}");
    assert_eq!(v["drop_command"], "DROP", "{v}");
    assert_eq!(v["scratch_gone"], true, "{v}");
    assert_eq!(
        direct(
            &db,
            "SELECT count(*) FROM dbguard_trash.dropped WHERE table_name = 'scratch'"
        ),
        "1"
    );

    // A person approves the refused TRUNCATE: node's named statement passes once.
    let code = {
        let hint = v["truncate"]["error"]["hint"].as_str().unwrap_or("");
        let at = hint.find("dbguard approve ").expect("code");
        hint[at + 16..at + 23].to_string()
    };
    let (status, screen) = world.dbguard_pty(world.dir.path(), &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0, "{screen}");
    let v = node(&e2e, "pg_client.mjs", &proxy.app_url(&db), &["approved"]);
    assert!(v["truncate"].get("ok").is_some(), "{v}");
    assert_eq!(v["count"], 0, "{v}");
}

#[test]
fn node_pg_listen_notify_through_the_proxy() {
    let db = items_db("px_listen");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let v = node(
        &e2e_support::e2e_dir(),
        "pg_client.mjs",
        &proxy.app_url(&db),
        &["listen"],
    );
    assert_eq!(v["notification"]["channel"], "dbguard_channel", "{v}");
    assert_eq!(v["notification"]["payload"], "hello through the proxy", "{v}");
}

#[test]
fn prisma_client_drops_product_the_app_keeps_working_and_undrop_brings_back_identical_rows() {
    let db = app_db(cluster(), "px_prisma");
    let project = Project::new("proxy_prisma", &["prisma.config.ts", "proxy"]);
    std::fs::create_dir_all(project.dir.join("prisma")).expect("mkdir prisma");
    std::fs::copy(
        project.dir.join("proxy/prisma/schema.prisma"),
        project.dir.join("prisma/schema.prisma"),
    )
    .expect("schema");
    let direct_url = format!("postgres://{APP}:{APP_PW}@127.0.0.1:{}/{db}", cluster().port);
    project.npx(&direct_url, &["prisma", "generate"]);
    project.npx(&direct_url, &["prisma", "db", "push", "--skip-generate"]);
    direct(
        &db,
        "INSERT INTO \"Category\" (name) VALUES ('tools'), ('toys'); \
         INSERT INTO \"Product\" (sku, name, price, \"categoryId\") SELECT 'sku-' || g, 'Product ' || g, g * 1.25, 1 + g % 2 FROM generate_series(1, 250) g; \
         INSERT INTO \"Customer\" (email) VALUES ('ada@example.com'), ('grace@example.com')",
    );
    let before = rows(cluster(), &db, "Product");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let script = |mode: &str| node(&project.dir, "prisma_incident.cjs", &proxy.app_url(&db), &[mode]);

    let v = script("drop");
    assert!(v.get("fatal").is_none(), "{v}");
    assert_eq!(v["products_before"], 250, "{v}");
    assert_eq!(v["product_after"]["code"], "P2021", "Product is gone for the app: {v}");
    assert_eq!(v["categories"], 2, "{v}");
    assert_eq!(v["customer_created"], true, "{v}");
    assert_eq!(v["customers"], 3, "{v}");

    // Refused through Prisma too, the session and rows intact.
    let v = script("truncate");
    assert!(
        v["truncate_error"]["message"].as_str().unwrap_or("").contains("DGP01"),
        "{v}"
    );
    for key in ["delete_error", "drop_schema_error"] {
        assert!(v[key]["message"].as_str().unwrap_or("").contains("DGP01"), "{key}: {v}");
    }
    assert_eq!(v["customers"], 3, "{v}");

    let out = world.dbguard(world.dir.path(), &["undrop", "Product", "--url", &direct_url]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_rows_same(&[rows(cluster(), &db, "Product")], &[before]);
    let v = script("check");
    assert_eq!(
        v["products"].as_array().map(|a| a.len()),
        Some(250),
        "{}",
        &v.to_string()[..200.min(v.to_string().len())]
    );
}

#[test]
fn tokio_postgres_pipelines_through_a_refusal_and_cancels_a_sleep() {
    let db = items_db("px_tokio");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&proxy.app_url(&db), tokio_postgres::NoTls)
            .await
            .expect("connect through the proxy");
        tokio::spawn(conn);
        // Sent without waiting for each other: the refusal in the middle fails alone.
        let (a, b, c) = tokio::join!(
            client.query("SELECT $1::int + 1", &[&41i32]),
            client.execute("TRUNCATE items", &[]),
            client.query("SELECT count(*) FROM items", &[]),
        );
        assert_eq!(a.expect("first")[0].get::<_, i32>(0), 42);
        let e = b.expect_err("TRUNCATE is refused");
        assert_eq!(e.code().map(|c| c.code()), Some("DGP01"), "{e:?}");
        assert_eq!(c.expect("third")[0].get::<_, i64>(0), 100);

        // A cancel request reaches the right backend: pg_sleep(10) ends with 57014 at once.
        let token = client.cancel_token();
        let sleeper = tokio::spawn(async move {
            let start = std::time::Instant::now();
            let r = client.simple_query("SELECT pg_sleep(10)").await;
            (r, start.elapsed(), client)
        });
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let asked = std::time::Instant::now();
        token.cancel_query(tokio_postgres::NoTls).await.expect("cancel");
        let (r, total, client) = sleeper.await.unwrap();
        let e = r.expect_err("cancelled");
        assert_eq!(e.code().map(|c| c.code()), Some("57014"), "{e:?}");
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(1),
            "cancel took {:?}",
            asked.elapsed()
        );
        assert!(total < std::time::Duration::from_secs(3), "{total:?}");
        // The session is still usable.
        assert_eq!(client.query_one("SELECT 7", &[]).await.unwrap().get::<_, i32>(0), 7);
    });
}

#[test]
fn a_refused_parse_in_a_pipeline_keeps_the_servers_protocol_state() {
    let db = items_db("px_raw");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    let mut r = Raw::connect(proxy.port, TRUST_USER, &db);

    // Implicit transaction: an INSERT, then a refused Parse, then a SELECT, one Sync.
    let mut batch = Vec::new();
    batch.extend(parse_msg("ins", "INSERT INTO items (name) VALUES ($1)"));
    batch.extend(bind_msg("ins", &["pipelined"]));
    batch.extend(execute_msg());
    batch.extend(parse_msg("", "TRUNCATE items"));
    batch.extend(bind_msg("", &[]));
    batch.extend(execute_msg());
    batch.extend(parse_msg("", "SELECT 1"));
    batch.extend(bind_msg("", &[]));
    batch.extend(execute_msg());
    batch.extend(sync_msg());
    r.send(&batch);
    let reply = r.until_ready();
    // ParseComplete, BindComplete, CommandComplete, dbguard's error, then nothing until
    // ReadyForQuery: what the server does after any failed Parse. The INSERT is rolled back.
    assert_eq!(shape(&reply), ("12CEZ".to_string(), Some('I')));
    assert_eq!(field(&reply[3].1, b'C').as_deref(), Some("DGP01"));
    assert!(field(&reply[3].1, b'M')
        .unwrap_or_default()
        .contains("Removes every row of items"));
    assert_eq!(direct(&db, "SELECT count(*) FROM items"), "100");

    // Inside a transaction block: the refusal leaves it failed ('E'), as an error does.
    r.send(&query_msg("BEGIN"));
    assert_eq!(shape(&r.until_ready()), ("CZ".to_string(), Some('T')));
    let mut batch = Vec::new();
    batch.extend(bind_msg("ins", &["in-tx"]));
    batch.extend(execute_msg());
    batch.extend(parse_msg("", "DELETE FROM items"));
    batch.extend(bind_msg("", &[]));
    batch.extend(execute_msg());
    batch.extend(sync_msg());
    r.send(&batch);
    assert_eq!(shape(&r.until_ready()), ("2CEZ".to_string(), Some('E')));
    r.send(&query_msg("SELECT 1"));
    let reply = r.until_ready();
    assert_eq!(field(&reply[0].1, b'C').as_deref(), Some("25P02"));
    r.send(&query_msg("ROLLBACK"));
    assert_eq!(shape(&r.until_ready()), ("CZ".to_string(), Some('I')));

    // A named soft-drop statement: described like DROP TABLE, completes as DROP TABLE.
    let mut batch = Vec::new();
    batch.extend(parse_msg("dropper", "DROP TABLE scratch"));
    batch.extend(describe_msg(b'S', "dropper"));
    batch.extend(bind_msg("dropper", &[]));
    batch.extend(execute_msg());
    batch.extend(sync_msg());
    r.send(&batch);
    let reply = r.until_ready();
    assert_eq!(shape(&reply), ("1tn2CZ".to_string(), Some('I')));
    assert_eq!(&reply[4].1[..], b"DROP TABLE\0");
    // Executing it again: the server's answer for a table that is gone.
    r.send(&[bind_msg("dropper", &[]), execute_msg(), sync_msg()].concat());
    let reply = r.until_ready();
    assert_eq!(shape(&reply).0, "2EZ");
    assert_eq!(field(&reply[1].1, b'C').as_deref(), Some("42P01"));
    assert!(
        field(&reply[1].1, b'W').is_none(),
        "no PL/pgSQL context in the client's error"
    );

    // Still one session, still usable.
    r.send(&query_msg("SELECT count(*) FROM items"));
    let reply = r.until_ready();
    assert_eq!(shape(&reply).0, "TDCZ");
}
