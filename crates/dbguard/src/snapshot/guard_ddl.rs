//! The in-database guard (`dbguard protect`) is not part of a snapshot: its schema is left
//! out of dumps and copies (`pg_dump --exclude-schema`, the table lists), and its triggers,
//! event triggers and its dblink extension are taken out of pg_dump's DDL (a script at
//! snapshot time, a TOC list at restore time). They call functions of the dbguard schema,
//! so restoring them elsewhere would fail; a restored database is guarded again with
//! `dbguard protect`.

/// The guard's schema.
pub const SCHEMA: &str = "dbguard";
const TABLE_TRIGGERS: [&str; 3] = ["dbguard_truncate", "dbguard_delete", "dbguard_update"];
const EVENT_TRIGGERS: [&str; 2] = ["dbguard_sql_drop", "dbguard_ddl_end"];

/// pg_dump's plain script without the guard's objects (sections split at `-- Name:` headers).
pub fn strip_script(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut section = String::new();
    let mut header: Option<String> = None;
    let mut dropped_dblink = false;
    let mut flush = |header: &Option<String>, section: &mut String, out: &mut String| {
        let drop = header
            .as_deref()
            .is_some_and(|h| is_guard_section(h, section, &mut dropped_dblink));
        if !drop {
            out.push_str(section);
        }
        section.clear();
    };
    for line in sql.split_inclusive('\n') {
        if line.starts_with("-- Name: ") {
            flush(&header, &mut section, &mut out);
            header = Some(line.trim_end().to_string());
        }
        section.push_str(line);
    }
    flush(&header, &mut section, &mut out);
    out
}

/// One script section (`-- Name: N; Type: T; ...` and its statements): is it the guard's?
fn is_guard_section(header: &str, body: &str, dropped_dblink: &mut bool) -> bool {
    let name = header
        .trim_start_matches("-- Name: ")
        .split("; Type: ")
        .next()
        .unwrap_or("");
    let kind = header
        .split("; Type: ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap_or("");
    match kind {
        "TRIGGER" => {
            TABLE_TRIGGERS.iter().any(|t| name.ends_with(&format!(" {t}"))) && body.contains("FUNCTION dbguard.")
        }
        "EVENT TRIGGER" => EVENT_TRIGGERS.contains(&name),
        "COMMENT" => {
            EVENT_TRIGGERS.iter().any(|t| name == format!("EVENT TRIGGER {t}"))
                || (name == "EXTENSION dblink" && *dropped_dblink)
        }
        "EXTENSION" if name == "dblink" && body.contains("WITH SCHEMA dbguard;") => {
            *dropped_dblink = true;
            true
        }
        "SCHEMA" => name == SCHEMA,
        _ => false,
    }
}

/// Is this line of `pg_restore -l` one of the guard's (the dblink extension only when
/// `dblink_is_guards`: the archive's extension lives in the dbguard schema)?
pub fn is_guard_toc_line(line: &str, dblink_is_guards: bool) -> bool {
    // "3387; 2620 17101 TRIGGER public big dbguard_delete -"
    let Some((_, rest)) = line.split_once(' ') else {
        return false;
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    let after = |kind: &[&str]| -> Option<Vec<&str>> {
        let i = words.windows(kind.len()).position(|w| w == kind)?;
        Some(words[i + kind.len()..].to_vec())
    };
    if let Some(w) = after(&["COMMENT", "-", "EVENT", "TRIGGER"]) {
        return w.first().is_some_and(|n| EVENT_TRIGGERS.contains(n));
    }
    if let Some(w) = after(&["COMMENT", "-", "EXTENSION"]) {
        return dblink_is_guards && w.first() == Some(&"dblink");
    }
    if let Some(w) = after(&["EVENT", "TRIGGER", "-"]) {
        return w.first().is_some_and(|n| EVENT_TRIGGERS.contains(n));
    }
    if let Some(w) = after(&["EXTENSION", "-"]) {
        return dblink_is_guards && w.first() == Some(&"dblink");
    }
    if let Some(w) = after(&["TRIGGER"]) {
        // schema table name owner
        return w.get(2).is_some_and(|n| TABLE_TRIGGERS.contains(n));
    }
    if let Some(w) = after(&["SCHEMA", "-"]) {
        return w.first() == Some(&SCHEMA);
    }
    false
}

/// Does the TOC hold any of the guard's objects?
pub fn toc_has_guard(list: &str) -> bool {
    list.lines().any(|l| is_guard_toc_line(l, false))
}

/// The TOC without the guard's lines.
pub fn strip_toc(list: &str, dblink_is_guards: bool) -> String {
    list.lines()
        .filter(|l| !is_guard_toc_line(l, dblink_is_guards))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "SET x = 1;\n\n--\n-- Name: dblink; Type: EXTENSION; Schema: -; Owner: -\n--\n\nCREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA dbguard;\n\n--\n-- Name: EXTENSION dblink; Type: COMMENT; Schema: -; Owner: -\n--\n\nCOMMENT ON EXTENSION dblink IS 'x';\n\n--\n-- Name: items; Type: TABLE; Schema: public; Owner: -\n--\n\nCREATE TABLE public.items (id int);\n\n--\n-- Name: items dbguard_delete; Type: TRIGGER; Schema: public; Owner: -\n--\n\nCREATE TRIGGER dbguard_delete AFTER DELETE ON public.items REFERENCING OLD TABLE AS dbguard_old FOR EACH STATEMENT EXECUTE FUNCTION dbguard.on_mass_change('1000', '0.5', '10000');\n\n--\n-- Name: items audit; Type: TRIGGER; Schema: public; Owner: -\n--\n\nCREATE TRIGGER audit AFTER INSERT ON public.items FOR EACH ROW EXECUTE FUNCTION public.audit();\n\n--\n-- Name: dbguard_ddl_end; Type: EVENT TRIGGER; Schema: -; Owner: -\n--\n\nCREATE EVENT TRIGGER dbguard_ddl_end ON ddl_command_end\n   EXECUTE FUNCTION dbguard.on_ddl_end();\n\n--\n-- Name: EVENT TRIGGER dbguard_ddl_end; Type: COMMENT; Schema: -; Owner: -\n--\n\nCOMMENT ON EVENT TRIGGER dbguard_ddl_end IS 'x';\n";

    #[test]
    fn script_loses_only_the_guard() {
        let s = strip_script(SCRIPT);
        assert!(s.contains("SET x = 1;"));
        assert!(s.contains("CREATE TABLE public.items"));
        assert!(s.contains("CREATE TRIGGER audit"));
        assert!(!s.contains("dbguard"), "{s}");
        // A dblink of the user's own (another schema) stays.
        let own = SCRIPT.replace("WITH SCHEMA dbguard;", "WITH SCHEMA public;");
        assert!(strip_script(&own).contains("CREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public;"));
        assert!(strip_script(&own).contains("COMMENT ON EXTENSION dblink"));
        assert_eq!(strip_script("no sections\n"), "no sections\n");
    }

    #[test]
    fn toc_lines() {
        let list = "; Archive created at x\n3378; 3079 16385 EXTENSION - dblink \n3379; 0 0 COMMENT - EXTENSION dblink \n215; 1259 16390 TABLE public items postgres\n3387; 2620 17101 TRIGGER public items dbguard_delete postgres\n3388; 2620 17102 TRIGGER public items audit postgres\n3390; 3466 17110 EVENT TRIGGER - dbguard_ddl_end postgres\n3391; 0 0 COMMENT - EVENT TRIGGER dbguard_ddl_end postgres\n";
        assert!(toc_has_guard(list));
        let kept = strip_toc(list, true);
        assert!(kept.contains("TABLE public items"));
        assert!(kept.contains("TRIGGER public items audit"));
        assert!(!kept.contains("dbguard"), "{kept}");
        assert!(!kept.contains("dblink"));
        assert!(strip_toc(list, false).contains("EXTENSION - dblink"));
        assert!(!toc_has_guard("215; 1259 16390 TABLE public items postgres\n"));
    }

    proptest::proptest! {
        /// Stripping only ever removes whole lines, and a second pass changes nothing.
        #[test]
        fn strip_removes_lines_only(text in "((-- Name: [a-z_ ]{0,20}; Type: (TRIGGER|EVENT TRIGGER|COMMENT|TABLE|EXTENSION|SCHEMA); Schema: -\n)|([A-Za-z .;()'_]{0,40}\n)){0,12}") {
            let out = strip_script(&text);
            let lines: Vec<&str> = text.lines().collect();
            let mut at = 0;
            for l in out.lines() {
                let found = lines[at..].iter().position(|x| *x == l);
                proptest::prop_assert!(found.is_some());
                at += found.unwrap() + 1;
            }
            proptest::prop_assert_eq!(strip_script(&out), out.clone());
            let _ = strip_toc(&text, true);
        }
    }
}
