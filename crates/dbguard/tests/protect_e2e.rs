//! The guard under real tools (tests/e2e: Prisma 6.19.3 and drizzle-kit 0.31.11 from npm,
//! offline), as the NOSUPERUSER application role on a guarded database:
//! - the incident, reproduced: the Prisma client's `$executeRawUnsafe('DROP TABLE "Product"')`
//!   (and a raw DELETE, and the ORM's own deleteMany) are refused; every row stays;
//! - `prisma migrate deploy` and `drizzle-kit migrate` of non-destructive migrations work
//!   unchanged, before and after the guard is installed.

mod e2e_support;
mod protect_support;

use std::process::Stdio;

use e2e_support::{clean, describe, Project};
use protect_support::{app_db, install, scalar};

const PRODUCTS: &str = "-- CreateTable
CREATE TABLE \"Product\" (
    \"id\" SERIAL NOT NULL,
    \"name\" TEXT NOT NULL,
    \"price\" INTEGER NOT NULL,

    CONSTRAINT \"Product_pkey\" PRIMARY KEY (\"id\")
);
";

const SKU: &str = "-- AlterTable
ALTER TABLE \"Product\" ADD COLUMN \"sku\" TEXT;

-- CreateIndex
CREATE INDEX \"Product_sku_idx\" ON \"Product\"(\"sku\");
";

const MODEL: &str = "
model Product {
  id    Int     @id @default(autoincrement())
  name  String
  price Int
  sku   String?

  @@index([sku])
}
";

/// What the Prisma client script prints: one JSON line per statement.
const CLIENT: &str = "const { PrismaClient } = require('./generated/client')
const { PrismaPg } = require('@prisma/adapter-pg')
async function main() {
  const u = new URL(process.env.DATABASE_URL)
  const adapter = new PrismaPg({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password), database: u.pathname.slice(1) })
  const prisma = new PrismaClient({ adapter })
  const attempts = [
    ['raw DROP', () => prisma.$executeRawUnsafe('DROP TABLE \"Product\"')],
    ['raw DELETE', () => prisma.$executeRawUnsafe('DELETE FROM \"Product\"')],
    ['deleteMany', () => prisma.product.deleteMany({})],
    ['updateMany', () => prisma.product.updateMany({ data: { price: 0 } })],
    ['bounded delete', () => prisma.product.deleteMany({ where: { id: { lte: 5 } } })],
  ]
  for (const [name, f] of attempts) {
    try {
      await f()
      console.log(JSON.stringify({ name, ok: true }))
    } catch (e) {
      const cause = e.meta && e.meta.driverAdapterError && e.meta.driverAdapterError.cause
      console.log(JSON.stringify({ name, ok: false, code: cause ? cause.code : e.code, message: cause ? cause.message : String(e.message).slice(-300) }))
    }
  }
  await prisma.$disconnect()
}
main()
";

fn npx(project: &Project, url: &str, args: &[&str]) -> std::process::Output {
    clean("npx")
        .args(args)
        .current_dir(&project.dir)
        .env("DATABASE_URL", url)
        .stdin(Stdio::null())
        .output()
        .expect("run npx")
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn prisma_migrate_deploy_works_and_the_client_cannot_drop_product() {
    let project = Project::new("protect_prisma", &["prisma", "prisma.config.ts"]);
    let migrations = project.dir.join("prisma/migrations");
    write(&migrations.join("20260201000000_products/migration.sql"), PRODUCTS);
    let schema = project.dir.join("prisma/schema.prisma");
    let mut text = std::fs::read_to_string(&schema).unwrap();
    text.push_str(MODEL);
    std::fs::write(&schema, text).unwrap();
    let db = app_db("e2e_prisma_guard", "");
    // Guard first, then the migrations, as the application role.
    install(&db);
    let out = npx(&project, &db.app_url, &["prisma", "migrate", "deploy"]);
    assert!(out.status.success(), "{}", describe(&out));
    scalar(
        &db,
        "INSERT INTO \"Product\" (name, price) SELECT 'p' || g, g FROM generate_series(1, 1500) g",
    );
    // A later, non-destructive migration.
    write(&migrations.join("20260301000000_product_sku/migration.sql"), SKU);
    let out = npx(&project, &db.app_url, &["prisma", "migrate", "deploy"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM \"_prisma_migrations\" WHERE finished_at IS NOT NULL"
        ),
        "3"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"Product\"'::regclass AND tgname LIKE 'dbguard\\_%'"
        ),
        "3"
    );
    // The incident: the application's own client drops the table.
    let out = npx(&project, "postgres://x@127.0.0.1:1/x", &["prisma", "generate"]);
    assert!(out.status.success(), "{}", describe(&out));
    write(&project.dir.join("drop.js"), CLIENT);
    let out = clean("node")
        .arg("drop.js")
        .current_dir(&project.dir)
        .env("DATABASE_URL", &db.app_url)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    assert!(out.status.success(), "{}", describe(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let by = |name: &str| {
        lines
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {lines:?}"))
            .clone()
    };
    let drop = by("raw DROP");
    assert_eq!(drop["ok"], false, "{drop}");
    assert_eq!(drop["code"], "DG001", "{drop}");
    assert!(
        drop["message"].as_str().unwrap().contains("public.\"Product\""),
        "{drop}"
    );
    assert_eq!(by("raw DELETE")["code"], "DG003");
    // The ORM's own calls surface the guard's message (Prisma drops the code there).
    for (name, refusal) in [
        ("deleteMany", "dbguard: DELETE refused"),
        ("updateMany", "dbguard: UPDATE refused"),
    ] {
        let l = by(name);
        assert!(
            l["ok"] == false && l["message"].as_str().unwrap_or("").contains(refusal),
            "{lines:?}"
        );
    }
    assert_eq!(by("bounded delete")["ok"], true);
    assert_eq!(scalar(&db, "SELECT count(*) FROM \"Product\""), "1495");
    assert_eq!(scalar(&db, "SELECT count(*) FROM \"Product\" WHERE price = 0"), "0");
}

#[test]
fn drizzle_kit_migrate_works_with_the_guard() {
    let project = Project::new("protect_drizzle", &["drizzle.config.ts"]);
    write(
        &project.dir.join("drizzle.migrate.config.ts"),
        "import { defineConfig } from 'drizzle-kit'\nexport default defineConfig({ dialect: 'postgresql', out: './migrations', dbCredentials: { url: process.env.DATABASE_URL ?? '' } })\n",
    );
    let journal = |n: usize| {
        let entries: Vec<String> = ["0000_init", "0001_notes"][..n]
            .iter()
            .enumerate()
            .map(|(i, tag)| {
                format!(
                    "{{\"idx\": {i}, \"version\": \"7\", \"when\": {}, \"tag\": \"{tag}\", \"breakpoints\": true}}",
                    1767225600000u64 + i as u64 * 1000
                )
            })
            .collect();
        format!(
            "{{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [{}]}}",
            entries.join(", ")
        )
    };
    let m = project.dir.join("migrations");
    write(
        &m.join("0000_init.sql"),
        "CREATE TABLE \"users\" (\"id\" serial PRIMARY KEY NOT NULL, \"email\" text NOT NULL);\n--> statement-breakpoint\nCREATE UNIQUE INDEX \"users_email\" ON \"users\" (\"email\");\n",
    );
    write(&m.join("meta/_journal.json"), &journal(1));
    let db = app_db("e2e_drizzle_guard", "");
    install(&db);
    let migrate = || {
        let out = npx(
            &project,
            &db.app_url,
            &["drizzle-kit", "migrate", "--config", "drizzle.migrate.config.ts"],
        );
        assert!(out.status.success(), "{}", describe(&out));
    };
    migrate();
    scalar(
        &db,
        "INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 2000) g",
    );
    write(
        &m.join("0001_notes.sql"),
        "ALTER TABLE \"users\" ADD COLUMN \"note\" text;\n--> statement-breakpoint\nCREATE TABLE \"notes\" (\"id\" serial PRIMARY KEY NOT NULL, \"user_id\" integer REFERENCES \"users\"(\"id\"));\n",
    );
    write(&m.join("meta/_journal.json"), &journal(2));
    migrate();
    assert_eq!(scalar(&db, "SELECT count(*) FROM drizzle.__drizzle_migrations"), "2");
    assert_eq!(scalar(&db, "SELECT count(*) FROM users"), "2000");
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND tgname LIKE 'dbguard\\_%'"
        ),
        "3"
    );
}
