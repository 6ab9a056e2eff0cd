//! Every password position dbguard recognizes on a command line, as command builders: shared by
//! the core's property test (`redaction_props.rs`: generated secrets and wrappers, in process)
//! and the binary's output test (`crates/dbguard/tests/redaction_outputs.rs`: a sample through
//! the real binary: check, hook, run, audit log, approvals store).
#![allow(dead_code)]

use dbguard_core::shell::words::shell_quote;

/// One position: a name, and the command line with `secret` in it.
pub struct Position {
    pub name: &'static str,
    pub build: fn(&str) -> String,
}

/// `secret` percent-encoded for a URL's userinfo (every byte but ASCII letters and digits).
pub fn pct(secret: &str) -> String {
    secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `secret` as a libpq conninfo value: single-quoted, `\` and `'` escaped.
fn conninfo(secret: &str) -> String {
    format!("'{}'", secret.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn q(s: &str) -> String {
    shell_quote(s)
}

pub const POSITIONS: &[Position] = &[
    Position {
        name: "mysql -pSECRET",
        build: |s| format!("mysql -p{} -e 'DROP TABLE users'", q(s)),
    },
    Position {
        name: "mysql -uroot -pSECRET db",
        build: |s| format!("mysql -uroot -p{} shop -e 'DROP TABLE users'", q(s)),
    },
    Position {
        name: "mysql cluster -BpSECRET",
        build: |s| format!("mysql -Bp{} -e 'TRUNCATE orders'", q(s)),
    },
    Position {
        name: "mysql --password=SECRET",
        build: |s| format!("mysql --password={} -e 'DROP TABLE users'", q(s)),
    },
    Position {
        name: "mysql --password SECRET",
        build: |s| format!("mysql --password {} -e 'DROP TABLE users'", q(s)),
    },
    Position {
        name: "mysql -p SECRET",
        build: |s| format!("mysql -u root -p {} -e 'DELETE FROM users'", q(s)),
    },
    Position {
        name: "mariadb -pSECRET",
        build: |s| format!("mariadb -h db.invalid -p{} -e 'DROP DATABASE shop'", q(s)),
    },
    Position {
        name: "mysqladmin -pSECRET drop",
        build: |s| format!("mysqladmin -u root -p{} drop shop", q(s)),
    },
    Position {
        name: "MYSQL_PWD=SECRET",
        build: |s| format!("MYSQL_PWD={} mysql -e 'DROP TABLE users'", q(s)),
    },
    Position {
        name: "redis-cli -a SECRET",
        build: |s| format!("redis-cli -h cache.invalid -a {} FLUSHALL", q(s)),
    },
    Position {
        name: "redis-cli --pass SECRET",
        build: |s| format!("redis-cli --pass {} FLUSHDB", q(s)),
    },
    Position {
        name: "REDISCLI_AUTH=SECRET",
        build: |s| format!("REDISCLI_AUTH={} redis-cli FLUSHALL", q(s)),
    },
    Position {
        name: "redis-cli AUTH user SECRET",
        build: |s| format!("redis-cli -h cache.invalid AUTH default {}; redis-cli FLUSHALL", q(s)),
    },
    Position {
        name: "redis-cli URL",
        build: |s| format!("redis-cli -u redis://default:{}@cache.invalid:6379 FLUSHALL", pct(s)),
    },
    Position {
        name: "mongosh URL",
        build: |s| {
            format!(
                "mongosh mongodb://app:{}@mongo.invalid/app --eval 'db.dropDatabase()'",
                pct(s)
            )
        },
    },
    Position {
        name: "mongosh -p SECRET",
        build: |s| format!("mongosh -u app -p {} --eval 'db.dropDatabase()'", q(s)),
    },
    Position {
        name: "mongosh --password SECRET",
        build: |s| format!("mongosh --username app --password {} --eval 'db.users.drop()'", q(s)),
    },
    Position {
        name: "PGPASSWORD=SECRET",
        build: |s| format!("PGPASSWORD={} psql -h db.invalid -c 'DROP TABLE users'", q(s)),
    },
    Position {
        name: "export PGPASSWORD",
        build: |s| format!("export PGPASSWORD={}; dropdb -h db.invalid app", q(s)),
    },
    Position {
        name: "env PGPASSWORD",
        build: |s| format!("env PGPASSWORD={} dropdb -h db.invalid app", q(s)),
    },
    Position {
        name: "psql URL",
        build: |s| format!("psql postgresql://app:{}@db.invalid/app -c 'TRUNCATE users'", pct(s)),
    },
    Position {
        name: "psql conninfo password=",
        build: |s| {
            format!(
                "psql {} -c 'DROP TABLE users'",
                q(&format!("host=db.invalid dbname=app password={}", conninfo(s)))
            )
        },
    },
    Position {
        name: "DATABASE_URL=... prisma",
        build: |s| {
            format!(
                "DATABASE_URL={} npx prisma migrate reset --force",
                q(&format!("postgresql://app:{}@db.invalid/app", pct(s)))
            )
        },
    },
    Position {
        name: "supabase --db-url",
        build: |s| {
            format!(
                "supabase db reset --db-url postgresql://postgres:{}@db.invalid:5432/postgres",
                pct(s)
            )
        },
    },
    Position {
        name: "supabase -p SECRET",
        build: |s| {
            format!(
                "supabase link --project-ref abc -p {} && supabase db reset --linked",
                q(s)
            )
        },
    },
    Position {
        name: "liquibase --password SECRET",
        build: |s| {
            format!(
                "liquibase --url jdbc:postgresql://db.invalid/app --username app --password {} dropAll",
                q(s)
            )
        },
    },
    Position {
        name: "flyway -password=SECRET",
        build: |s| {
            format!(
                "flyway -url=jdbc:postgresql://db.invalid/app -user=app -password={} clean",
                q(s)
            )
        },
    },
    Position {
        name: "sqlcmd -P SECRET",
        build: |s| {
            format!(
                "sqlcmd -S db.invalid -U sa -P {} -Q 'DROP TABLE users'; dropdb app",
                q(s)
            )
        },
    },
    Position {
        name: "docker login -p SECRET",
        build: |s| {
            format!(
                "docker login -u me -p {} registry.invalid && docker compose down -v",
                q(s)
            )
        },
    },
    Position {
        name: "curl -u user:SECRET",
        build: |s| format!("curl -u me:{} https://api.invalid && dropdb app", q(s)),
    },
    Position {
        name: "--api-key SECRET",
        build: |s| format!("neonctl --api-key {} projects list; dropdb app", q(s)),
    },
    Position {
        name: "--admin-key SECRET",
        build: |s| format!("npx convex import --replace backup.zip --admin-key {}", q(s)),
    },
    Position {
        name: "--access-key=SECRET",
        build: |s| format!("firebase firestore:delete users -r --access-key={}", q(s)),
    },
];

/// Ways the same command reaches a shell: as is, behind wrappers, inside another shell's string.
pub const WRAPPERS: &[fn(&str) -> String] = &[
    |c| c.to_string(),
    |c| format!("sudo -u postgres {c}"),
    |c| format!("bash -c {}", shell_quote(c)),
    |c| format!("ssh prod.invalid {}", shell_quote(c)),
    |c| format!("cd /tmp && {c}"),
    |c| format!("timeout 60 {c}"),
    |c| format!("sh -c {}", shell_quote(&format!("bash -c {}", shell_quote(c)))),
];

/// The parts of `secret` that survive any quoting (quoting only adds or escapes `'`, `"`, `\`,
/// `$`, backquotes and `!`), at least 4 characters long: none may appear in any output.
pub fn fragments(secret: &str) -> Vec<String> {
    secret
        .split(['\'', '"', '\\', '$', '`', '!'])
        .filter(|f| f.chars().count() >= 4)
        .map(str::to_string)
        .collect()
}

/// The first fragment of `secret` (or of its URL encoding) found in `text`.
pub fn leak(text: &str, secret: &str) -> Option<String> {
    let mut all = fragments(secret);
    all.push(pct(secret));
    all.into_iter()
        .find(|f| f.chars().count() >= 4 && text.contains(f.as_str()))
}
