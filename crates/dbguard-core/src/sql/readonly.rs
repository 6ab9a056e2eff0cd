//! What a read-only query may call: the decision behind the MCP server's `db_query`, on the
//! PostgreSQL parse tree (never on text).
//!
//! A READ ONLY transaction stops writes to tables, and nothing else: `dblink_exec` opens its own
//! connection, `pg_terminate_backend` ends other sessions, `pg_read_file` reads the server's
//! files, `lo_import` writes a large object from a server file, `pg_advisory_lock` holds a lock
//! past the query, `set_config('role', ...)` switches back to the session's own role. So:
//!
//! - [`Mode::ReaderRole`]: the query runs as a role that can only read (`dbguard_reader`, made by
//!   `dbguard protect` with `pg_read_all_data`, or `[mcp] read_role`); the server refuses what
//!   that role may not do. The families below that escape the transaction or the role (another
//!   connection, session state, locks, notifications, signals, server files...) are refused
//!   here too, whatever the role's grants, so the refusal is explained before anything runs.
//! - [`Mode::Allowlist`]: no such role exists, so the query runs with the session's own rights;
//!   then every function it names must be a built-in on the [`ALLOWED`] list of side-effect-free
//!   functions (aggregates, window functions, string, number, date/time, JSON, array, range,
//!   network, text search, catalog lookups), called unqualified or as `pg_catalog.f`, and every
//!   operator a built-in one: a user-defined function or operator could do anything.
//!
//! Both modes refuse SQL that does not parse (it cannot be checked).

use super::calls::{self, Call};

/// How the query will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As a role that can only read: the server enforces privileges.
    ReaderRole,
    /// With the session's own rights: only allowlisted functions.
    Allowlist,
}

/// Why a query is refused: one line per offending call or operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reasons.join("; "))
    }
}

/// A family of functions refused in read-only queries, matched by name whatever the schema:
/// extension functions (dblink, adminpack) live wherever the extension was installed.
struct Family {
    why: &'static str,
    exact: &'static [&'static str],
    prefixes: &'static [&'static str],
    /// Refused in writing statements too (MCP `db_execute`): it acts outside the target database
    /// or on the server itself, which no write to the database needs.
    beyond_the_database: bool,
}

/// Functions whose effects escape a read-only transaction, refused in every mode.
const ESCAPES: &[Family] = &[
    Family {
        why: "sends SQL over another connection, outside this transaction",
        exact: &[],
        prefixes: &["dblink"],
        beyond_the_database: true,
    },
    Family {
        why: "reads or writes the database server's files",
        exact: &[
            "pg_read_file",
            "pg_read_binary_file",
            "pg_stat_file",
            "pg_logdir_ls",
            "pg_file_write",
            "pg_file_rename",
            "pg_file_unlink",
            "pg_file_sync",
            "lo_import",
            "lo_export",
        ],
        prefixes: &["pg_ls_"],
        beyond_the_database: true,
    },
    Family {
        why: "reads or writes large objects",
        exact: &["loread", "lowrite"],
        prefixes: &["lo_"],
        beyond_the_database: false,
    },
    Family {
        why: "signals or controls server processes",
        exact: &[
            "pg_terminate_backend",
            "pg_cancel_backend",
            "pg_reload_conf",
            "pg_rotate_logfile",
            "pg_promote",
            "pg_log_backend_memory_contexts",
            "pg_switch_wal",
            "pg_create_restore_point",
            "pg_backup_start",
            "pg_backup_stop",
            "pg_start_backup",
            "pg_stop_backup",
            "pg_wal_replay_pause",
            "pg_wal_replay_resume",
            "pg_import_system_collations",
            "pg_sleep",
            "pg_sleep_for",
            "pg_sleep_until",
        ],
        prefixes: &["pg_stat_reset", "pg_stat_statements_reset"],
        beyond_the_database: true,
    },
    Family {
        why: "changes settings (set_config('role', ...) would even leave the read-only role)",
        exact: &["set_config"],
        prefixes: &[],
        beyond_the_database: false,
    },
    Family {
        why: "creates, drops or consumes replication slots and origins",
        exact: &[
            "pg_drop_replication_slot",
            "pg_replication_slot_advance",
            "pg_logical_emit_message",
        ],
        prefixes: &[
            "pg_create_physical_replication_slot",
            "pg_create_logical_replication_slot",
            "pg_copy_",
            "pg_logical_slot_",
            "pg_replication_origin_",
        ],
        beyond_the_database: true,
    },
    Family {
        why: "sends a notification to other sessions",
        exact: &["pg_notify"],
        prefixes: &[],
        beyond_the_database: false,
    },
    Family {
        why: "takes advisory locks, which can outlive the query",
        exact: &[],
        prefixes: &["pg_advisory", "pg_try_advisory"],
        beyond_the_database: false,
    },
    Family {
        why: "advances a sequence (a write)",
        exact: &["nextval", "setval"],
        prefixes: &[],
        beyond_the_database: false,
    },
    Family {
        why: "assigns a transaction id or exports a snapshot",
        exact: &["txid_current", "pg_current_xact_id", "pg_export_snapshot"],
        prefixes: &[],
        beyond_the_database: false,
    },
    Family {
        why: "runs SQL given as text, which this check cannot see",
        exact: &["ts_stat", "ts_rewrite"],
        prefixes: &["query_to_xml", "cursor_to_xml"],
        beyond_the_database: true,
    },
];

/// Built-in functions with no side effects that a read-only query may call without a reader
/// role. Every name is a `pg_catalog` function of PostgreSQL 15 that is immutable or stable
/// (checked against a live server by `crates/dbguard/tests/mcp_readonly.rs`); the volatile ones
/// without effects are in [`ALLOWED_VOLATILE`].
#[rustfmt::skip]
pub const ALLOWED: &[&str] = &[
    // Aggregates.
    "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_and", "bool_or", "every",
    "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "stddev", "stddev_pop",
    "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp",
    "regr_avgx", "regr_avgy", "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx",
    "regr_sxy", "regr_syy", "percentile_cont", "percentile_disc", "mode", "bit_and", "bit_or",
    "bit_xor", "xmlagg", "range_agg", "range_intersect_agg",
    // Window functions.
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",
    // Strings.
    "length", "char_length", "character_length", "octet_length", "bit_length", "lower", "upper",
    "initcap", "substr", "substring", "position", "strpos", "btrim", "ltrim", "rtrim", "lpad",
    "rpad", "left", "right", "repeat", "replace", "reverse", "translate", "concat", "concat_ws",
    "format", "split_part", "string_to_array", "string_to_table", "array_to_string",
    "regexp_replace", "regexp_match", "regexp_matches", "regexp_split_to_array",
    "regexp_split_to_table", "regexp_count", "regexp_instr", "regexp_like", "regexp_substr",
    "starts_with", "ascii", "chr", "md5", "sha224", "sha256", "sha384", "sha512", "encode",
    "decode", "to_hex", "quote_ident", "quote_literal", "quote_nullable", "overlay", "textlen",
    "normalize", "is_normalized", "unistr", "to_ascii", "convert", "convert_from", "convert_to",
    "pg_client_encoding", "get_bit", "get_byte", "bit_count", "text",
    // Numbers.
    "abs", "ceil", "ceiling", "floor", "round", "trunc", "sqrt", "cbrt", "power", "pow", "exp",
    "ln", "log", "log10", "mod", "sign", "div", "gcd", "lcm", "factorial", "pi", "degrees",
    "radians", "sin", "cos", "tan", "cot", "asin", "acos", "atan", "atan2", "sind", "cosd", "tand",
    "cotd", "asind", "acosd", "atand", "atan2d", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "width_bucket", "scale", "min_scale", "trim_scale", "num_nulls", "num_nonnulls", "to_char",
    "to_number", "numeric", "int2", "int4", "int8", "float4", "float8", "bool",
    // Dates and times.
    "now", "transaction_timestamp", "statement_timestamp", "to_date", "to_timestamp", "date_part",
    "date_trunc", "date_bin", "extract", "age", "make_date", "make_time", "make_timestamp",
    "make_timestamptz", "make_interval", "justify_days", "justify_hours", "justify_interval",
    "isfinite", "timezone", "overlaps",
    // JSON.
    "to_json", "to_jsonb", "row_to_json", "array_to_json", "json_build_object",
    "jsonb_build_object", "json_build_array", "jsonb_build_array", "json_object", "jsonb_object",
    "json_array_elements", "jsonb_array_elements", "json_array_elements_text",
    "jsonb_array_elements_text", "json_array_length", "jsonb_array_length", "json_each",
    "jsonb_each", "json_each_text", "jsonb_each_text", "json_object_keys", "jsonb_object_keys",
    "json_extract_path", "jsonb_extract_path", "json_extract_path_text", "jsonb_extract_path_text",
    "json_typeof", "jsonb_typeof", "json_strip_nulls", "jsonb_strip_nulls", "jsonb_pretty",
    "jsonb_set", "jsonb_set_lax", "jsonb_insert", "jsonb_concat", "jsonb_contains", "jsonb_exists",
    "json_populate_record", "jsonb_populate_record", "json_populate_recordset",
    "jsonb_populate_recordset", "json_to_record", "jsonb_to_record", "json_to_recordset",
    "jsonb_to_recordset", "jsonb_path_exists", "jsonb_path_match", "jsonb_path_query",
    "jsonb_path_query_array", "jsonb_path_query_first",
    // Arrays.
    "array_length", "array_lower", "array_upper", "array_ndims", "array_dims", "cardinality",
    "array_append", "array_prepend", "array_cat", "array_remove", "array_replace", "array_position",
    "array_positions", "array_fill", "trim_array", "unnest", "generate_series",
    "generate_subscripts",
    // Ranges.
    "lower_inc", "upper_inc", "lower_inf", "upper_inf", "isempty", "range_merge", "int4range",
    "int8range", "numrange", "tsrange", "tstzrange", "daterange", "multirange",
    // Network addresses.
    "host", "hostmask", "masklen", "netmask", "network", "broadcast", "family", "abbrev",
    "set_masklen", "inet_merge", "inet_same_family",
    // Text search.
    "to_tsvector", "to_tsquery", "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery",
    "ts_rank", "ts_rank_cd", "ts_headline", "setweight", "strip", "numnode", "querytree",
    "tsvector_to_array", "array_to_tsvector", "ts_delete", "ts_filter", "get_current_ts_config",
    // XML (reading).
    "xpath", "xpath_exists", "xml_is_well_formed", "xml_is_well_formed_document",
    "xml_is_well_formed_content",
    // Types, sizes and catalog lookups.
    "pg_typeof", "format_type", "current_database", "current_schema", "current_schemas",
    "current_user", "session_user", "version", "current_setting", "pg_size_pretty", "pg_size_bytes",
    "pg_column_size", "obj_description", "col_description", "shobj_description",
    "has_table_privilege", "has_column_privilege", "has_schema_privilege", "has_database_privilege",
    "has_function_privilege", "has_sequence_privilege", "has_any_column_privilege", "pg_has_role",
    "pg_get_viewdef", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_triggerdef",
    "pg_get_functiondef", "pg_get_function_arguments", "pg_get_function_result", "pg_get_expr",
    "pg_get_userbyid", "pg_get_serial_sequence", "pg_get_keywords", "pg_table_is_visible",
    "pg_type_is_visible", "pg_function_is_visible", "to_regclass", "to_regtype", "to_regproc",
    "to_regprocedure", "to_regnamespace", "to_regrole", "pg_backend_pid",
    "pg_postmaster_start_time", "pg_conf_load_time", "pg_encoding_to_char", "pg_char_to_encoding",
    "pg_describe_object", "pg_identify_object", "row_security_active", "pg_column_compression",
    "pg_partition_root", "pg_relation_filenode", "pg_tablespace_location",
    "txid_current_if_assigned", "pg_current_xact_id_if_assigned", "pg_current_snapshot",
];

/// Built-in functions PostgreSQL marks volatile that still change nothing: random values, the
/// clock, sizes read from the files, session and transaction status.
#[rustfmt::skip]
pub const ALLOWED_VOLATILE: &[&str] = &[
    "random", "clock_timestamp", "timeofday", "gen_random_uuid", "currval", "lastval",
    "pg_total_relation_size", "pg_relation_size", "pg_table_size", "pg_indexes_size",
    "pg_database_size", "pg_is_in_recovery", "pg_blocking_pids", "pg_partition_tree",
    "pg_partition_ancestors", "pg_sequence_last_value", "pg_xact_status", "txid_status",
];

/// Built-in operators (PostgreSQL 15's `pg_operator` names): anything else named in allowlist
/// mode is user-defined, and a user-defined operator is a function call in disguise.
#[rustfmt::skip]
pub const BUILTIN_OPERATORS: &[&str] = &[

    "=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "^", "|/", "||/", "@", "&", "|", "#", "~", "<<",
    ">>", "||", "~~", "!~~", "~~*", "!~~*", "~*", "!~", "!~*", "@>", "<@", "&&", "->", "->>", "#>", "#>>", "?", "?|",
    "?&", "@?", "@@", "@@@", "#-", "-|-", "&<", "&>", "<<|", "|>>", "&<|", "|&>", "<->", "<#>", "<<=", ">>=", "<^",
    ">^", "?#", "?-", "?|", "?-|", "?||", "@-@", "##", "~=", "<=>", "*<", "*>", "*<=", "*>=", "*=", "*<>", "~<~",
    "~>~", "~<=~", "~>=~", "!!",
];

/// The family in [`ESCAPES`] that `call` belongs to, if any.
fn family(call: &Call) -> Option<&'static Family> {
    let n = call.name.as_str();
    ESCAPES
        .iter()
        .find(|f| f.exact.contains(&n) || f.prefixes.iter().any(|p| n.starts_with(p)))
}

fn escapes(call: &Call) -> Option<&'static str> {
    family(call).map(|f| f.why)
}

fn builtin(call: &Call) -> bool {
    call.schema.as_deref().is_none_or(|s| s == "pg_catalog")
}

/// Whether `sql` (one query) may run in `mode`; Err says which calls and why not.
pub fn check_query(sql: &str, mode: Mode) -> Result<(), Refusal> {
    let (_, named) = calls::named(sql).map_err(|e| Refusal {
        reasons: vec![format!(
            "the query does not parse as PostgreSQL ({e}), so what it calls cannot be checked"
        )],
    })?;
    let mut reasons: Vec<String> = Vec::new();
    let mut add = |r: String| {
        if !reasons.contains(&r) {
            reasons.push(r);
        }
    };
    for call in &named.calls {
        let shown = call.display();
        if let Some(why) = escapes(call) {
            add(format!("{shown}() {why}"));
            continue;
        }
        let listed = ALLOWED.contains(&call.name.as_str()) || ALLOWED_VOLATILE.contains(&call.name.as_str());
        if mode == Mode::Allowlist && !(builtin(call) && listed) {
            add(format!(
                "{shown}() is not on the list of side-effect-free built-in functions a query may call without a read-only role"
            ));
        }
    }
    if mode == Mode::Allowlist {
        for op in &named.operators {
            let builtin_op = match op.split_once('.') {
                Some(("pg_catalog", o)) => BUILTIN_OPERATORS.contains(&o),
                Some(_) => false,
                None => BUILTIN_OPERATORS.contains(&op.as_str()),
            };
            if !builtin_op {
                add(format!(
                    "operator {op} is not a built-in operator, and a user-defined operator calls a function of its own"
                ));
            }
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Refusal { reasons })
    }
}

/// For SQL that is allowed to write (MCP `db_execute`): the calls that act beyond the target
/// database (another connection, the server's files and processes, replication, SQL as text),
/// which no write to it needs. SQL that does not parse is left to the analyzer (it is
/// `unparseable` there, so it needs an approval anyway).
pub fn check_write(sql: &str) -> Result<(), Refusal> {
    let Ok((_, named)) = calls::named(sql) else {
        return Ok(());
    };
    let mut reasons: Vec<String> = Vec::new();
    for call in &named.calls {
        if let Some(f) = family(call).filter(|f| f.beyond_the_database) {
            let r = format!("{}() {}", call.display(), f.why);
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Refusal { reasons })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str, mode: Mode) -> bool {
        check_query(sql, mode).is_err()
    }

    #[test]
    fn escapes_are_refused_in_both_modes() {
        for sql in [
            "SELECT dblink_exec('dbname=app user=postgres', 'DROP TABLE users')",
            "SELECT * FROM public.dblink('x', 'SELECT 1') AS t(a int)",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT lo_import('/etc/passwd')",
            "SELECT pg_catalog.pg_ls_dir('.')",
            "SELECT set_config('role', 'postgres', true)",
            "SELECT pg_create_logical_replication_slot('s', 'test_decoding')",
            "SELECT pg_notify('c', 'x')",
            "SELECT pg_advisory_lock(1)",
            "SELECT nextval('users_id_seq')",
            "SELECT txid_current()",
            "SELECT query_to_xml('DELETE FROM users RETURNING *', true, true, '')",
            "SELECT 1 FROM users WHERE id = (SELECT pg_cancel_backend(1)::int)",
        ] {
            assert!(refused(sql, Mode::ReaderRole), "{sql}");
            assert!(refused(sql, Mode::Allowlist), "{sql}");
        }
    }

    #[test]
    fn ordinary_queries_pass_in_both_modes() {
        for sql in [
            "SELECT u.name, count(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY 1 ORDER BY 2 DESC",
            "SELECT now(), lower(name), length(name) || '!' FROM users WHERE name ILIKE 'a%'",
            "SELECT jsonb_build_object('n', count(*)), json_agg(name) FROM users",
            "SELECT date_trunc('day', now()) - interval '1 day', coalesce(null, 1), greatest(1, 2)",
            "WITH x AS (SELECT generate_series(1, 3) AS n) SELECT sum(n) OVER (ORDER BY n) FROM x",
            "SELECT data->>'k', data @> '{\"a\":1}' FROM t",
            "SELECT pg_catalog.upper('x'), pg_size_pretty(pg_total_relation_size('users'))",
        ] {
            assert!(check_query(sql, Mode::ReaderRole).is_ok(), "{sql}");
            assert_eq!(check_query(sql, Mode::Allowlist), Ok(()), "{sql}");
        }
    }

    #[test]
    fn the_allowlist_refuses_what_it_does_not_know() {
        for sql in [
            "SELECT my_func(1)",
            "SELECT public.lower('x')",
            "SELECT 1 OPERATOR(public.+) 2",
            "SELECT a <<=>> b FROM t",
            "SELECT pg_sleep(10)",
        ] {
            assert!(refused(sql, Mode::Allowlist), "{sql}");
        }
        // With a reader role, the server decides about user functions.
        assert!(check_query("SELECT my_func(1)", Mode::ReaderRole).is_ok());
    }

    #[test]
    fn lists_do_not_overlap() {
        for name in ALLOWED.iter().chain(ALLOWED_VOLATILE) {
            let c = Call {
                schema: None,
                name: name.to_string(),
                args: Vec::new(),
            };
            assert!(escapes(&c).is_none(), "{name} is both allowed and an escape");
        }
    }

    #[test]
    fn writes_refuse_only_what_acts_beyond_the_database() {
        for sql in [
            "SELECT dblink_exec('c', 'INSERT INTO t VALUES (1)')",
            "SELECT pg_terminate_backend(1)",
            "SELECT lo_export(16384, '/tmp/x')",
            "INSERT INTO t SELECT pg_read_file('/etc/passwd')",
            "SELECT pg_drop_replication_slot('s')",
        ] {
            assert!(check_write(sql).is_err(), "{sql}");
        }
        for sql in [
            "SELECT setval('t_id_seq', 10)",
            "SELECT pg_advisory_xact_lock(1); UPDATE t SET a = 1 WHERE id = 2",
            "SELECT set_config('search_path', 'app', true)",
            "SELECT lo_create(0)",
            "INSERT INTO t VALUES (nextval('s'))",
            "DROP TABLE (",
        ] {
            assert!(check_write(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn unparseable_is_refused() {
        assert!(refused("SELECT (", Mode::ReaderRole));
    }
}
