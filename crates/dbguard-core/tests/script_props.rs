//! Property tests for the script analysis: a destructive call, wrapped in any of the ways
//! code is commonly written (functions called from the top level, IIFEs, classes, blocks,
//! try/catch, a constant holding the SQL, an array looped over, concatenation, comments and
//! odd spacing, an imported module), is never "nothing found"; the same SQL only printed is
//! never found.

use dbguard_core::lookup::MapLookup;
use dbguard_core::script::{analyze_inline, analyze_run, Lang};
use proptest::prelude::*;

/// Destructive JavaScript statements, with `{SQL}` where a destructive SQL text may go.
const JS_CALLS: &[&str] = &[
    "await client.query({SQL});",
    "await prisma.$executeRawUnsafe({SQL});",
    "await knex.raw({SQL});",
    "db.exec({SQL});",
    "await prisma.user.deleteMany();",
    "await prisma.user.deleteMany({});",
    "await knex('users').del();",
    "await knex('users').truncate();",
    "await db.delete(users);",
    "await sequelize.sync({ force: true });",
    "await User.destroy({ truncate: true });",
    "await AppDataSource.dropDatabase();",
    "await db.collection('users').drop();",
];

const SQLS: &[&str] = &[
    "TRUNCATE users CASCADE",
    "DROP TABLE users",
    "DELETE FROM users",
    "UPDATE users SET admin = true",
    "ALTER TABLE users DROP COLUMN email",
    "drop schema app cascade",
];

const PY_CALLS: &[&str] = &[
    "cur.execute({SQL})",
    "conn.executescript({SQL})",
    "session.execute(text({SQL}))",
    "User.objects.all().delete()",
    "session.query(User).delete()",
    "Base.metadata.drop_all(engine)",
    "db.users.delete_many({})",
];

fn js_literal(sql: &str, style: u8) -> (String, String) {
    // (declarations before, the expression)
    match style % 5 {
        0 => (String::new(), format!("'{sql}'")),
        1 => (String::new(), format!("\"{sql}\"")),
        2 => (String::new(), format!("`{sql}`")),
        3 => (format!("const q = '{sql}';\n"), "q".into()),
        _ => {
            let (a, b) = sql.split_at(sql.find(' ').unwrap_or(0) + 1);
            (String::new(), format!("'{a}' + '{b}'"))
        }
    }
}

fn js_wrap(body: &str, wrap: u8) -> String {
    match wrap % 8 {
        0 => body.to_string(),
        1 => format!("async function main() {{\n  {body}\n}}\nmain().catch(console.error);\n"),
        2 => format!("(async () => {{\n  {body}\n}})();\n"),
        3 => format!("const run = async () => {{ {body} }};\nrun().finally(() => process.exit(0));\n"),
        4 => format!("class Job {{ async go() {{ {body} }} }}\nnew Job().go();\n"),
        5 => format!("if (process.env.X !== 'y') {{\n  try {{\n    {body}\n  }} catch (e) {{ console.error(e) }}\n}}\n"),
        6 => format!("export async function seed() {{ {body} }}\nawait seed();\n"),
        _ => format!("/* TRUNCATE? no */ async function a() {{ await b(); }}\nasync function b() {{\n\n   {body}   // done\n}}\na();\n"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn js_destructive_is_never_nothing(call in 0..JS_CALLS.len(), sql in 0..SQLS.len(), style in 0u8..5, wrap in 0u8..8, ts in any::<bool>()) {
        let (decl, lit) = js_literal(SQLS[sql], style);
        let body = format!("{decl}{}", JS_CALLS[call].replace("{SQL}", &lit));
        let code = js_wrap(&body, wrap);
        let lang = if ts { Lang::TypeScript } else { Lang::JavaScript };
        let found = analyze_inline(&code, lang, &dbguard_core::NoLookup);
        prop_assert!(!found.is_empty(), "nothing found in:\n{code}");
    }

    #[test]
    fn js_through_an_import_is_never_nothing(call in 0..JS_CALLS.len(), wrap in 0u8..3) {
        let body = JS_CALLS[call].replace("{SQL}", "'DROP TABLE users'");
        let module = format!("export async function wipe() {{ {body} }}\n");
        let entry = match wrap {
            0 => "import { wipe } from '../lib/wipe';\nawait wipe();\n".to_string(),
            1 => "const lib = require('../lib/wipe');\nlib.wipe().then(() => process.exit(0));\n".to_string(),
            _ => "import * as lib from '../lib/wipe.js';\nasync function main() { await lib.wipe(); }\nmain();\n".to_string(),
        };
        let mut l = MapLookup::default();
        l.files.insert("lib/wipe.ts".into(), module.into_bytes());
        l.files.insert("scripts/run.ts".into(), entry.clone().into_bytes());
        let found = analyze_run("scripts/run.ts", Lang::TypeScript, &l);
        prop_assert!(!found.is_empty(), "nothing found through:\n{entry}");
    }

    #[test]
    fn js_printed_sql_is_data(sql in 0..SQLS.len(), style in 0u8..5, wrap in 0u8..8) {
        let (decl, lit) = js_literal(SQLS[sql], style);
        let body = format!("{decl}console.log({lit}); logger.info({lit}); throw new Error({lit});");
        let code = js_wrap(&body, wrap);
        let found = analyze_inline(&code, Lang::JavaScript, &dbguard_core::NoLookup);
        prop_assert!(found.is_empty(), "found {:?} in:\n{code}", found.iter().map(|f| f.kind).collect::<Vec<_>>());
    }

    #[test]
    fn python_destructive_is_never_nothing(call in 0..PY_CALLS.len(), sql in 0..SQLS.len(), quote in 0u8..4, wrap in 0u8..4) {
        let s = SQLS[sql];
        let lit = match quote {
            0 => format!("'{s}'"),
            1 => format!("\"{s}\""),
            2 => format!("\"\"\"\n{s}\n\"\"\""),
            _ => format!("f\"{s}\""),
        };
        let call = PY_CALLS[call].replace("{SQL}", &lit);
        let code = match wrap {
            0 => format!("{call}\n"),
            1 => format!("def main():\n    {call}\n\n\nif __name__ == \"__main__\":\n    main()\n"),
            2 => format!("Q = {lit}\ntry:\n    {}\nexcept Exception:\n    raise\n", PY_CALLS[0].replace("{SQL}", "Q")),
            _ => format!("class Job:\n    def run(self):\n        {call}\n\n\nJob().run()\n"),
        };
        let found = analyze_inline(&code, Lang::Python, &dbguard_core::NoLookup);
        prop_assert!(!found.is_empty(), "nothing found in:\n{code}");
    }

    #[test]
    fn python_printed_sql_is_data(sql in 0..SQLS.len()) {
        let s = SQLS[sql];
        let code = format!("print('{s}')\nlogging.info(\"{s}\")\nmsg = f'{s}'\nprint(msg)\n");
        let found = analyze_inline(&code, Lang::Python, &dbguard_core::NoLookup);
        prop_assert!(found.is_empty(), "found {:?} in:\n{code}", found.iter().map(|f| f.kind).collect::<Vec<_>>());
    }
}
