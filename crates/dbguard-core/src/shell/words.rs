//! Helpers over parsed words: program base names, a getopt-like option splitter the
//! recognizers share, and quoting for re-assembled command lines.

use super::parse::Word;

/// `./node_modules/.bin/prisma` -> `prisma`, `/usr/bin/psql` -> `psql`, `\psql` was already
/// unescaped by the parser.
pub fn basename(s: &str) -> &str {
    let b = s.rsplit(['/', '\\']).next().unwrap_or(s);
    b.strip_suffix(".exe").or_else(|| b.strip_suffix(".cmd")).unwrap_or(b)
}

/// One option as written: `name` keeps its dashes (`-c`, `--command`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    pub name: String,
    pub value: Option<String>,
    /// The value contains an expansion: not known.
    pub dynamic: bool,
}

/// Options and operands of one command, split the way getopt/GNU tools do.
#[derive(Debug, Clone, Default)]
pub struct Args {
    pub opts: Vec<Opt>,
    pub pos: Vec<Word>,
}

/// Which options take a value. `short` lists letters (`"cdfhpU"`); `long` lists names
/// without dashes. Single-dash long options (`-url=`, `-cmd`) are taken as one option when
/// `single_dash_long` is set (flyway, sqlite3, java-style tools).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub short: &'static str,
    pub long: &'static [&'static str],
    pub single_dash_long: bool,
    /// Letters whose value, if any, is attached (`mysql -pSECRET`): the rest of the cluster.
    pub optional: &'static str,
}

impl Spec {
    pub const DEFAULT: Spec = Spec {
        short: "",
        long: &[],
        single_dash_long: false,
        optional: "",
    };
    pub const SINGLE: Spec = Spec {
        short: "",
        long: &[],
        single_dash_long: true,
        optional: "",
    };
}

impl Args {
    pub fn parse(args: &[Word], spec: &Spec) -> Args {
        let mut out = Args::default();
        let mut i = 0;
        let mut only_pos = false;
        while i < args.len() {
            let w = &args[i];
            let t = w.text.as_str();
            i += 1;
            if only_pos || t == "-" || !t.starts_with('-') || w.text.len() < 2 {
                out.pos.push(w.clone());
                continue;
            }
            if t == "--" {
                only_pos = true;
                continue;
            }
            if let Some(long) = t.strip_prefix("--").or_else(|| {
                if spec.single_dash_long {
                    t.strip_prefix('-')
                } else {
                    None
                }
            }) {
                let dashes = if t.starts_with("--") { "--" } else { "-" };
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                let takes = spec.long.contains(&name);
                let (value, dynamic) = match value {
                    Some(v) => (Some(v), w.dynamic),
                    None if takes => match args.get(i) {
                        Some(n) => {
                            i += 1;
                            (Some(n.text.clone()), n.dynamic)
                        }
                        None => (None, false),
                    },
                    None => (None, false),
                };
                out.opts.push(Opt {
                    name: format!("{dashes}{name}"),
                    value,
                    dynamic,
                });
                continue;
            }
            // A cluster of short flags: `-Atc SQL`, `-cSQL`, `-uroot`.
            let cluster = &t[1..];
            for (idx, ch) in cluster.char_indices() {
                if spec.optional.contains(ch) {
                    let rest = &cluster[idx + ch.len_utf8()..];
                    let value = if rest.is_empty() { None } else { Some(rest.to_string()) };
                    out.opts.push(Opt {
                        name: format!("-{ch}"),
                        value,
                        dynamic: w.dynamic,
                    });
                    break;
                }
                if spec.short.contains(ch) {
                    let rest = &cluster[idx + ch.len_utf8()..];
                    let (value, dynamic) = if !rest.is_empty() {
                        (Some(rest.to_string()), w.dynamic)
                    } else if let Some(n) = args.get(i) {
                        i += 1;
                        (Some(n.text.clone()), n.dynamic)
                    } else {
                        (None, false)
                    };
                    out.opts.push(Opt {
                        name: format!("-{ch}"),
                        value,
                        dynamic,
                    });
                    break;
                }
                out.opts.push(Opt {
                    name: format!("-{ch}"),
                    value: None,
                    dynamic: false,
                });
            }
        }
        out
    }

    /// Whether any of these options was given (`has(&["-f", "--force"])`).
    pub fn has(&self, names: &[&str]) -> bool {
        self.opts.iter().any(|o| names.contains(&o.name.as_str()))
    }

    /// The last value of any of these options.
    pub fn value(&self, names: &[&str]) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|o| names.contains(&o.name.as_str()))
            .and_then(|o| o.value.as_deref())
    }

    pub fn values<'s>(&'s self, names: &'s [&'s str]) -> impl Iterator<Item = &'s Opt> + 's {
        self.opts.iter().filter(move |o| names.contains(&o.name.as_str()))
    }

    /// Operand `i` as text.
    pub fn p(&self, i: usize) -> &str {
        self.pos.get(i).map_or("", |w| w.text.as_str())
    }

    /// `--help`/`-h`-style invocations print and exit.
    pub fn help(&self) -> bool {
        self.has(&["--help", "--version"]) || self.p(0) == "help"
    }
}

/// A [`Spec`] for POSIX options: short letters and long names that take a value.
pub const fn spec(short: &'static str, long: &'static [&'static str]) -> Spec {
    Spec {
        short,
        long,
        single_dash_long: false,
        optional: "",
    }
}

/// Word `i` as text (`""` past the end).
pub fn arg(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

/// The value of `--name VALUE` / `--name=VALUE` / `-x VALUE` / `-xVALUE` at `i`, and the
/// index after it.
pub fn opt_value(words: &[Word], i: usize, short: &str, long: &str) -> Option<(String, usize)> {
    let t = arg(words, i);
    if let Some(v) = t.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
        return Some((v.to_string(), i + 1));
    }
    if t == long || (!short.is_empty() && t == short) {
        return words.get(i + 1).map(|w| (w.text.clone(), i + 2));
    }
    if !short.is_empty() && t.starts_with(short) && t.len() > short.len() && !t.starts_with("--") {
        return Some((t[short.len()..].to_string(), i + 1));
    }
    None
}

/// POSIX-style: index of the first operand (options stop at the first non-option word;
/// a `--` is consumed). Used for wrappers, whose own options come before the command.
pub fn skip_leading_options(words: &[Word], spec: &Spec) -> usize {
    let mut i = 0;
    while i < words.len() {
        let t = words[i].text.as_str();
        if !t.starts_with('-') || t == "-" {
            break;
        }
        i += 1;
        if t == "--" {
            break;
        }
        if let Some(l) = t.strip_prefix("--") {
            if !l.contains('=') && spec.long.contains(&l) {
                i += 1;
            }
            continue;
        }
        // Short cluster: a letter that takes a value ends it; with nothing attached the
        // value is the next word.
        let cluster = &t[1..];
        for (idx, ch) in cluster.char_indices() {
            if spec.optional.contains(ch) {
                break;
            }
            if spec.short.contains(ch) {
                if idx + ch.len_utf8() == cluster.len() {
                    i += 1;
                }
                break;
            }
        }
    }
    i.min(words.len())
}

/// Quote a word for re-parsing by a shell (used when appending `npm run X -- args`).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Words a shell would split `env -S` / `watch` arguments into are re-parsed by the caller;
/// this joins them back into one command line.
pub fn join_words(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| {
            if w.dynamic {
                w.text.clone()
            } else {
                shell_quote(&w.text)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &[&str]) -> Vec<Word> {
        s.iter().map(|t| Word::lit(t)).collect()
    }

    #[test]
    fn getopt_clusters_and_longs() {
        let spec = Spec {
            short: "cdfhpU",
            long: &["command", "host"],
            ..Spec::DEFAULT
        };
        let a = Args::parse(
            &ws(&[
                "-Atc",
                "DROP TABLE x",
                "--host=db",
                "--command",
                "SELECT 1",
                "mydb",
                "-Upg",
            ]),
            &spec,
        );
        assert_eq!(a.value(&["-c"]), Some("DROP TABLE x"));
        assert_eq!(a.value(&["--host"]), Some("db"));
        assert_eq!(a.value(&["--command"]), Some("SELECT 1"));
        assert_eq!(a.value(&["-U"]), Some("pg"));
        assert!(a.has(&["-A"]) && a.has(&["-t"]));
        assert_eq!(a.p(0), "mydb");
    }

    #[test]
    fn basenames_and_quoting() {
        assert_eq!(basename("./node_modules/.bin/prisma"), "prisma");
        assert_eq!(basename("/usr/bin/psql"), "psql");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("--force"), "--force");
    }
}
