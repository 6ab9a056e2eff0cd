//! Property tests for the configuration readers (`dbguard_core::config`): connection
//! strings split into exactly their non-TLS part and their TLS settings, YAML documents
//! with anchors and merges read as a direct construction of the same tree, and ERB
//! expressions outside the supported shapes unknown, never guessed.

use dbguard_core::config::conninfo::{split, split_pairs, Mode, TLS_KEYS};
use dbguard_core::config::erb::{eval, render, unknown_exprs, Unsupported, UNKNOWN};
use dbguard_core::config::yaml::{parse, Node, MAX_DEPTH, NODE_BUDGET};
use proptest::prelude::*;

// ---------------------------------------------------------------- conninfo

const PLAIN_KEYS: &[&str] = &[
    "application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "host",
    "port",
    "user",
    "dbname",
    "keepalives",
];
const MODES: &[&str] = &["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/// A key and a value; `sslmode` gets valid modes or an empty value (an error).
fn pair() -> impl Strategy<Value = (String, String)> {
    let value = "[ -~\u{e9}\u{4e2d}]{0,12}";
    prop_oneof![
        (prop::sample::select(PLAIN_KEYS), value).prop_map(|(k, v)| (k.to_string(), v)),
        (prop::sample::select(TLS_KEYS), value)
            .prop_filter("sslmode is generated valid", |(k, _)| *k != "sslmode")
            .prop_map(|(k, v)| (k.to_string(), v)),
        prop::sample::select(MODES).prop_map(|m| ("sslmode".to_string(), m.to_string())),
        Just(("sslmode".to_string(), String::new())),
    ]
}

/// Every byte but ASCII letters and digits as `%XX`: decodes to exactly the input.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// libpq's quoting of a keyword value: `'...'` with `\'` and `\\`.
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// An unquoted keyword value: whitespace, backslashes and a leading quote escaped.
fn unquoted(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        if c.is_whitespace() || c == '\\' || (i == 0 && c == '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn is_tls(k: &str) -> bool {
    TLS_KEYS.contains(&k)
}

/// What `split` should make of `pairs`' TLS keys, written independently of it (libpq's
/// rules): the last value of each key wins; an empty sslmode is an error, other empty
/// values mean not given; sslrootcert=system makes verify-full the default and any other
/// mode an error. The environment is empty. `None`: `split` must fail.
fn expected_mode(pairs: &[(String, String)]) -> Option<Mode> {
    let raw = |key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let last = |key: &str| raw(key).filter(|v| !v.is_empty());
    let system = last("sslrootcert") == Some("system");
    let mode = match raw("sslmode") {
        Some("disable") => Mode::Disable,
        Some("allow") => Mode::Allow,
        Some("prefer") => Mode::Prefer,
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        Some(_) => return None,
        None if last("requiressl") == Some("1") => Mode::Require,
        None if system => Mode::VerifyFull,
        None => Mode::Prefer,
    };
    if system && mode != Mode::VerifyFull {
        return None;
    }
    Some(if mode == Mode::Require && last("sslrootcert").is_some() {
        Mode::VerifyCa
    } else {
        mode
    })
}

fn check_settings(conn: &str, pairs: &[(String, String)]) -> Result<(), TestCaseError> {
    let last = |key: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let Some(mode) = expected_mode(pairs) else {
        prop_assert!(split(conn, |_| None).is_err(), "{conn} should be refused");
        return Ok(());
    };
    let (_, s) = split(conn, |_| None).map_err(TestCaseError::fail)?;
    prop_assert_eq!(s.mode, mode);
    prop_assert_eq!(s.root_cert, last("sslrootcert"));
    prop_assert_eq!(s.client_cert, last("sslcert"));
    prop_assert_eq!(s.client_key, last("sslkey"));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn url_split_keeps_exactly_the_non_tls_parameters(
        pairs in prop::collection::vec(pair(), 0..8),
        scheme in prop::sample::select(&["postgres", "postgresql", "POSTGRES"][..]),
        base in prop::sample::select(&["u:p%40ss@db.example.com:5432/app", "h/db", "/db", "[::1]:5433/d%20b", "h1,h2:5433/x"][..]),
    ) {
        let rendered: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect();
        let base = format!("{scheme}://{base}");
        let conn = if rendered.is_empty() { base.clone() } else { format!("{base}?{}", rendered.join("&")) };
        let kept: Vec<&String> = rendered.iter().zip(&pairs).filter(|(_, (k, _))| !is_tls(k)).map(|(r, _)| r).collect();
        let expected_rest = if kept.is_empty() {
            base.clone()
        } else {
            format!("{base}?{}", kept.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("&"))
        };
        let tls: Vec<(String, String)> = pairs.iter().filter(|(k, _)| is_tls(k)).cloned().collect();
        let (rest, found) = split_pairs(&conn).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&rest, &expected_rest);
        prop_assert_eq!(found, tls);
        check_settings(&conn, &pairs)?;
    }

    #[test]
    fn keyword_value_split_keeps_exactly_the_non_tls_pairs(
        pairs in prop::collection::vec((pair(), any::<bool>(), "[ \t\n]{1,3}", any::<bool>()), 0..8),
        lead in "[ \t]{0,2}",
    ) {
        let mut conn = lead;
        for ((k, v), quoted, sep, spaced) in &pairs {
            // An empty value must be quoted: `key= next=1` gives `key` the value `next=1`.
            let value = if *quoted || v.is_empty() { quote(v) } else { unquoted(v) };
            let eq = if *spaced { " = " } else { "=" };
            conn.push_str(&format!("{k}{eq}{value}{sep}"));
        }
        let plain: Vec<(String, String)> = pairs.iter().map(|(p, ..)| p.clone()).collect();
        let expected_rest: Vec<String> =
            plain.iter().filter(|(k, _)| !is_tls(k)).map(|(k, v)| format!("{k}={}", quote(v))).collect();
        let tls: Vec<(String, String)> = plain.iter().filter(|(k, _)| is_tls(k)).cloned().collect();
        let (rest, found) = split_pairs(&conn).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&rest, &expected_rest.join(" "));
        prop_assert_eq!(found, tls);
        check_settings(&conn, &plain)?;
    }

    /// On any text: no panic, and what is left holds no TLS key (a second split takes
    /// nothing out and changes nothing).
    #[test]
    fn split_leaves_no_tls_key(conn in prop_oneof![
        ".{0,40}",
        "(postgres://|postgresql://)?[a-z=&?#%'\\\\ 0-9_]{0,40}",
        "[a-z_ ='\\\\]{0,30}(sslmode|sslrootcert|requiressl)[ ='\\\\a-z&?#%0-9]{0,20}",
    ]) {
        if let Ok((rest, found)) = split_pairs(&conn) {
            prop_assert!(found.iter().all(|(k, _)| is_tls(k)));
            prop_assert_eq!(split_pairs(&rest), Ok((rest.clone(), Vec::new())));
        }
    }
}

// ---------------------------------------------------------------- yaml

/// A generated tree: a value a database.yml could hold.
#[derive(Debug, Clone)]
enum Tree {
    Null,
    Str(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&["adapter", "host", "port", "database", "url", "<<", "a b", "it's", "", "null"][..])
            .prop_map(str::to_string),
        "[a-z_]{1,6}",
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        Just(Tree::Null),
        "[ -~\u{e9}]{0,10}".prop_map(Tree::Str),
        prop::sample::select(&["null", "~", "<<", "5432", "true", "#x", "a: b"][..]).prop_map(|s| Tree::Str(s.into())),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::Seq),
            prop::collection::vec((key(), inner), 0..5).prop_map(Tree::Map),
        ]
    })
}

/// YAML single quotes: only `'` is escaped (doubled), and nothing is a null or a merge.
fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Flow style (used inside sequences and for empty collections).
fn flow(t: &Tree) -> String {
    match t {
        Tree::Null => "~".into(),
        Tree::Str(s) => sq(s),
        Tree::Seq(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Tree::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", sq(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Block style for mappings, as database.yml is written.
fn block(entries: &[(String, Tree)], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (k, v) in entries {
        match v {
            Tree::Map(inner) if !inner.is_empty() => {
                out.push_str(&format!("{pad}{}:\n", sq(k)));
                block(inner, indent + 2, out);
            }
            other => out.push_str(&format!("{pad}{}: {}\n", sq(k), flow(other))),
        }
    }
}

/// The node the reader should build, constructed directly: a repeated key replaces the
/// earlier value in place, as a Ruby Hash does.
fn insert(entries: &mut Vec<(String, Node)>, k: &str, v: Node) {
    match entries.iter_mut().find(|(ek, _)| ek == k) {
        Some(slot) => slot.1 = v,
        None => entries.push((k.to_string(), v)),
    }
}

fn node(t: &Tree) -> Node {
    match t {
        Tree::Null => Node::Null,
        Tree::Str(s) => Node::Scalar(s.clone()),
        Tree::Seq(items) => Node::Seq(items.iter().map(node).collect()),
        Tree::Map(entries) => {
            let mut m = Vec::new();
            for (k, v) in entries {
                insert(&mut m, k, node(v));
            }
            Node::Map(m)
        }
    }
}

fn map_entries() -> impl Strategy<Value = Vec<(String, Tree)>> {
    prop::collection::vec((key(), tree()), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn yaml_documents_read_as_their_direct_construction(entries in prop::collection::vec((key(), tree()), 1..6)) {
        let mut doc = String::new();
        block(&entries, 0, &mut doc);
        let parsed = parse(&doc).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        prop_assert_eq!(parsed, node(&Tree::Map(entries)), "{}", doc);
    }

    /// `default: &default {...}` and blocks `<<: *default` between their own keys: keys
    /// after `<<` win over the merged ones, keys before it lose (Psych's order); a sequence
    /// of aliases merges with the earlier ones winning among themselves.
    #[test]
    fn anchors_and_merges_read_as_their_direct_construction(
        default in map_entries(),
        other in map_entries(),
        blocks in prop::collection::vec(("[a-z]{1,8}", map_entries(), map_entries(), 0u8..3), 1..4),
    ) {
        let mut doc = String::from("default: &default\n");
        block(&default, 2, &mut doc);
        if default.is_empty() {
            doc = "default: &default {}\n".into();
        }
        doc.push_str(&format!("other: &other {}\n", flow(&Tree::Map(other.clone()))));
        let default_node = node(&Tree::Map(default.clone()));
        let other_node = node(&Tree::Map(other.clone()));
        let mut expected = vec![("default".to_string(), default_node.clone()), ("other".to_string(), other_node.clone())];
        for (name, before, after, how) in &blocks {
            let name = format!("env_{name}");
            doc.push_str(&format!("{}:\n", sq(&name)));
            block(before, 2, &mut doc);
            let merged: Vec<(String, Node)> = match how {
                0 => {
                    doc.push_str("  <<: *default\n");
                    default_node.as_map().unwrap_or_default().to_vec()
                }
                1 => {
                    doc.push_str("  <<: [*default, *other]\n");
                    // The earlier alias wins: `other` first, `default` over it.
                    let mut m = other_node.as_map().unwrap_or_default().to_vec();
                    for (k, v) in default_node.as_map().unwrap_or_default() {
                        insert(&mut m, k, v.clone());
                    }
                    m
                }
                _ => {
                    doc.push_str("  <<: *other\n");
                    other_node.as_map().unwrap_or_default().to_vec()
                }
            };
            block(after, 2, &mut doc);
            let mut m = Vec::new();
            for (k, v) in before {
                insert(&mut m, k, node(v));
            }
            for (k, v) in merged {
                insert(&mut m, &k, v);
            }
            for (k, v) in after {
                insert(&mut m, k, node(v));
            }
            insert(&mut expected, &name, Node::Map(m));
        }
        let parsed = parse(&doc).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        prop_assert_eq!(parsed, Node::Map(expected), "{}", doc);
    }

    /// Nested aliases of any fan-out: a tree within the limits, or an error, never more.
    #[test]
    fn alias_fan_out_stays_within_the_limits(fan in 1usize..12, levels in 1usize..14, nest in 0usize..6) {
        let open = "[".repeat(nest);
        let close = "]".repeat(nest);
        let mut doc = format!("a0: &a0 {open}x{close}\n");
        for i in 1..levels {
            let refs = vec![format!("*a{}", i - 1); fan].join(", ");
            doc.push_str(&format!("a{i}: &a{i} {open}[{refs}]{close}\n"));
        }
        match parse(&doc) {
            Ok(n) => {
                prop_assert!(n.count() <= NODE_BUDGET);
                prop_assert!(n.height() <= MAX_DEPTH);
            }
            Err(e) => prop_assert!(e.contains("too large") || e.contains("too deeply"), "{}", e),
        }
    }

    #[test]
    fn any_text_stays_within_the_limits(text in prop_oneof![
        ".{0,80}",
        "([a-z]{1,3}|&[a-c]|\\*[a-c]|<<|: |- |\\[|\\]|\\{|\\}|, |\n  |\n|'|\"|~|\\? ){0,60}",
    ]) {
        if let Ok(n) = parse(&text) {
            prop_assert!(n.count() <= NODE_BUDGET);
            prop_assert!(n.height() <= MAX_DEPTH);
        }
    }
}

// ---------------------------------------------------------------- erb

/// A supported expression and the value it must evaluate to, given `vars`.
fn vars(name: &str) -> Option<String> {
    match name {
        "SET" => Some("set-value".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn literal() -> impl Strategy<Value = (String, Option<String>)> {
    prop_oneof![
        "[a-z0-9 ./:-]{0,8}".prop_map(|s| (format!("\"{s}\""), Some(s))),
        "[a-z0-9 ./:-]{0,8}".prop_map(|s| (format!("'{s}'"), Some(s))),
        "[1-9][0-9]{0,4}".prop_map(|s| (s.clone(), Some(s))),
        Just(("nil".to_string(), None)),
    ]
}

/// One term: its text and its value (`Err` when `ENV.fetch` raises).
fn term() -> impl Strategy<Value = (String, Result<Option<String>, Unsupported>)> {
    let name = prop::sample::select(&["SET", "EMPTY", "UNSET"][..]);
    prop_oneof![
        (name.clone(), any::<bool>()).prop_map(|(n, dq)| {
            let q = if dq { '"' } else { '\'' };
            (format!("ENV[{q}{n}{q}]"), Ok(vars(n)))
        }),
        name.clone()
            .prop_map(|n| (format!("ENV.fetch(\"{n}\")"), vars(n).map(Some).ok_or(Unsupported))),
        (name.clone(), literal()).prop_map(|(n, (l, lv))| { (format!("ENV.fetch('{n}', {l})"), Ok(vars(n).or(lv))) }),
        (name.clone(), literal())
            .prop_map(|(n, (l, lv))| { (format!("ENV.fetch(\"{n}\") {{ {l} }}"), Ok(vars(n).or(lv))) }),
        name.prop_map(|n| (format!("ENV.fetch(\"{n}\") {{}}"), Ok(vars(n)))),
        literal().prop_map(|(l, v)| (l, Ok(v))),
    ]
}

/// `a || b || ...`: the first non-nil value. Every term is read, so a term that raises
/// (`ENV.fetch` of an unset variable without a default) makes the whole unknown even where
/// Ruby would not reach it: unknown is the safe side, a value would be a guess.
fn expr() -> impl Strategy<Value = (String, Result<Option<String>, Unsupported>)> {
    prop::collection::vec((term(), "[ ]{0,2}"), 1..4).prop_map(|terms| {
        let text = terms
            .iter()
            .map(|((t, _), ws)| format!("{ws}{t}{ws}"))
            .collect::<Vec<_>>()
            .join("||");
        let value = if terms.iter().any(|((_, v), _)| v.is_err()) {
            Err(Unsupported)
        } else {
            Ok(terms.iter().find_map(|((_, v), _)| v.clone().ok().flatten()))
        };
        (text, value)
    })
}

/// Ruby the reader does not evaluate, appended, prepended or substituted.
fn unsupported() -> impl Strategy<Value = String> {
    let suffix = prop::sample::select(
        &[
            ".presence",
            ".to_i",
            " + \"x\"",
            ")",
            "[0]",
            " && \"x\"",
            ".to_s",
            " or 1",
            " if true",
            ";",
            " ||",
        ][..],
    );
    let prefix = prop::sample::select(&["!", "-", "(", "Integer(", "x = ", "defined? ", "@", "::"][..]);
    prop_oneof![
        (expr(), suffix).prop_map(|((e, _), s)| format!("{e}{s}")),
        (prefix, expr()).prop_map(|(p, (e, _))| format!("{p}{e}")),
        prop::sample::select(
            &[
                "Rails.application.credentials.db",
                "Env['SET']",
                "ENV2['SET']",
                "ENV.fetch 'SET'",
                "ENV.fetch('SET') { |k| k }",
                "ENV['SET'].presence",
                "ENV[\"S#{1}ET\"]",
                "\"a#{ENV['SET']}\"",
                "`echo hi`",
                "%w[a b]",
                "1.5",
                "true",
                "ENV.fetch('SET', 'a', 'b')",
                "ENV.fetch('UNSET') { 'a' } { 'b' }",
                "\"\\u0041\"",
                "\"unterminated",
                "",
            ][..]
        )
        .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn supported_shapes_evaluate_as_ruby_would((text, value) in expr()) {
        prop_assert_eq!(eval(&text, &mut vars), value, "{}", text);
    }

    /// Outside the supported shapes: unknown, never a guessed value, and the template
    /// renders a marker naming the expression.
    #[test]
    fn unsupported_expressions_are_unknown(e in unsupported()) {
        prop_assert_eq!(eval(&e, &mut vars), Err(Unsupported), "{}", e);
        prop_assume!(!e.contains("%>") && !e.is_empty());
        let r = render(&format!("host: <%= {e} %>\n"), &mut vars).map_err(TestCaseError::fail)?;
        prop_assert!(r.text.contains(UNKNOWN), "{}", r.text);
        prop_assert!(!r.text.contains("set-value"), "{}", r.text);
        prop_assert_eq!(unknown_exprs(&r.text, &r.exprs), vec![e.trim()]);
    }

    #[test]
    fn templates_render_values_in_place(parts in prop::collection::vec(("[a-z: \n]{0,8}", expr()), 0..5)) {
        let mut template = String::new();
        let mut expected = String::new();
        let mut unknown = 0;
        for (lit, (e, v)) in &parts {
            template.push_str(&format!("{lit}<%= {e} %>"));
            expected.push_str(lit);
            match v {
                Ok(v) => expected.push_str(v.as_deref().unwrap_or("")),
                Err(Unsupported) => {
                    expected.push_str(&format!("{UNKNOWN}{unknown}__"));
                    unknown += 1;
                }
            }
        }
        let r = render(&template, &mut vars).map_err(TestCaseError::fail)?;
        prop_assert_eq!(r.text, expected);
        prop_assert_eq!(r.exprs.len(), unknown);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Redaction never panics (byte offsets on any UTF-8), and a password written in any of
    /// libpq's keyword shapes never survives it.
    #[test]
    fn redaction_hides_keyword_passwords(
        before in "[ -~\u{e9}\u{4e2d}]{0,20}",
        secret in "[a-zA-Z0-9]{6,12}",
        spaces in prop::sample::select(&["", " ", "  "][..]),
        quoted in any::<bool>(),
        noise in "[ -~\u{e9}\u{4e2d}\\\\']{0,20}",
    ) {
        let value = if quoted { format!("'x\\'{secret}'") } else { secret.clone() };
        let text = format!("{before} password{spaces}={spaces}{value} {noise}");
        let out = dbguard_core::redact::redact_text(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
        let _ = dbguard_core::redact::redact_text(&noise);
    }
}
