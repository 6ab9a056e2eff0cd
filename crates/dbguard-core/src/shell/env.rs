//! The shell's variables as the analyzer follows them through one command line:
//! assignments, `export`, `set -a`, `unset`, `source` of env files, launchers that load
//! env files (`dotenv -e`, `env-cmd -f`), `cd`, and where the commands run (another
//! machine, a container).
//!
//! Every value is kept twice. `exact` is what the command line alone says; findings (what
//! a command destroys) are decided from it, so the process environment dbguard happens to
//! run in never makes a command look harmless. `full` fills in that process environment
//! (through [`Lookup::env_var`]); only the target (which database) is decided from it.
//! A value that cannot be known at all is an `Err` with the reason, never a guess.

use crate::lookup::Lookup;
use crate::target::{Place, VarFacts};

/// One variable as the shell holds it at some point of the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// From the command line alone; `None` when it depends on something else.
    pub exact: Option<String>,
    /// With the process environment filled in; `Err(why)` when it cannot be known.
    pub full: Result<String, String>,
    /// Passed to the commands the shell starts (`export`, `set -a`, `VAR=x cmd`, launchers).
    pub exported: bool,
    /// `unset VAR`: neither set here nor inherited.
    pub unset: bool,
    /// Where the value came from when it was not written on the command line.
    pub origin: Option<String>,
}

impl Var {
    /// A value known from the command line.
    pub fn known(value: &str, origin: Option<String>) -> Var {
        Var {
            exact: Some(value.to_string()),
            full: Ok(value.to_string()),
            exported: false,
            unset: false,
            origin,
        }
    }

    /// A value that cannot be known.
    pub fn unknown(why: String) -> Var {
        Var {
            exact: None,
            full: Err(why),
            exported: false,
            unset: false,
            origin: None,
        }
    }
}

/// What a name expands to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Value(String),
    /// Explicitly unset, or not inherited: empty.
    Unset,
    /// Not set on the command line nor in the process environment. `$X` is then unknown
    /// (the shell that runs the command may well have it); `${X:-default}` is the default.
    Absent,
    Unknown(String),
}

/// Which knowledge an expansion may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// The command line alone: for findings.
    Exact,
    /// The command line, then the process environment: for the target.
    Full,
}

#[derive(Debug, Clone, Default)]
pub struct ShellEnv {
    vars: Vec<(String, Var)>,
    /// `set -a`: every assignment is exported.
    pub allexport: bool,
    /// Any variable may have been changed by something that cannot be read: why.
    pub opaque: Option<String>,
    /// The process environment is not inherited (`env -i`, a container, another machine).
    pub clean: bool,
    /// `cd DIR` so far, relative to the working directory (None: unchanged).
    pub dir: Option<String>,
    /// `cd` to a directory computed at run time: why.
    pub dir_unknown: Option<String>,
    /// Where the commands run when not in this machine's shell.
    pub place: Option<Place>,
}

impl ShellEnv {
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Set (or replace) a variable; under `set -a` it is exported.
    pub fn set(&mut self, name: &str, mut var: Var) {
        if self.allexport {
            var.exported = true;
        }
        if let Some(slot) = self.vars.iter_mut().find(|(k, _)| k == name) {
            // An exported variable stays exported when assigned again.
            var.exported |= slot.1.exported && !var.unset;
            slot.1 = var;
        } else {
            self.vars.push((name.to_string(), var));
        }
    }

    pub fn export(&mut self, name: &str) {
        // `export X` of an inherited variable changes nothing we track.
        if let Some((_, v)) = self.vars.iter_mut().find(|(k, _)| k == name) {
            v.exported = true;
        }
    }

    pub fn unset(&mut self, name: &str) {
        self.set(
            name,
            Var {
                exact: Some(String::new()),
                full: Ok(String::new()),
                exported: false,
                unset: true,
                origin: None,
            },
        );
    }

    /// What `$name` expands to with the knowledge of `tier`.
    pub fn lookup(&self, name: &str, tier: Tier, lookup: &dyn Lookup) -> Got {
        if let Some(v) = self.get(name) {
            if v.unset {
                return Got::Unset;
            }
            return match tier {
                Tier::Exact => match &v.exact {
                    Some(s) => Got::Value(s.clone()),
                    None => Got::Unknown(
                        v.full
                            .clone()
                            .err()
                            .unwrap_or_else(|| format!("${name} comes from the environment")),
                    ),
                },
                Tier::Full => match &v.full {
                    Ok(s) => Got::Value(s.clone()),
                    Err(why) => Got::Unknown(why.clone()),
                },
            };
        }
        if let Some(why) = &self.opaque {
            return Got::Unknown(why.clone());
        }
        if self.clean {
            return Got::Unset;
        }
        match tier {
            Tier::Exact => Got::Unknown(format!("${name} is not set on the command line")),
            Tier::Full => match lookup.env_var(name) {
                Some(v) => Got::Value(v),
                None => Got::Absent,
            },
        }
    }

    /// Variables whose exact value is known, for recognizers (`RAILS_ENV`, `VERSION`...),
    /// in assignment order.
    pub fn exact_pairs(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|(_, v)| !v.unset)
            .filter_map(|(k, v)| v.exact.as_ref().map(|x| (k.clone(), x.clone())))
            .collect()
    }

    /// What the tool started now sees of the command line's variables: exported ones (or
    /// ones that replace an inherited variable), with their full values, and the facts
    /// that `env` cannot carry.
    pub fn for_tool(&self, lookup: &dyn Lookup) -> (Vec<(String, String)>, VarFacts) {
        let mut env = Vec::new();
        let mut facts = VarFacts {
            clean: self.clean,
            opaque: self.opaque.clone(),
            ..VarFacts::default()
        };
        for (k, v) in &self.vars {
            if v.unset {
                facts.removed.push(k.clone());
                continue;
            }
            let visible = v.exported || (!self.clean && lookup.env_var(k).is_some());
            if !visible {
                continue;
            }
            match &v.full {
                Ok(val) => {
                    env.push((k.clone(), val.clone()));
                    if let Some(o) = &v.origin {
                        facts.origins.push((k.clone(), o.clone()));
                    }
                }
                Err(why) => facts.unknown.push((k.clone(), why.clone())),
            }
        }
        (env, facts)
    }

    /// A child process (`bash -c`, `npm run`): it inherits the exported variables; the
    /// rest is kept too, which can only make more of its text known.
    pub fn child(&self) -> ShellEnv {
        self.clone()
    }

    /// The shell of another place (`ssh HOST`, `kubectl exec`, `docker exec`): none of
    /// this command line's variables reach it; a remote machine's own environment is
    /// unknown, a local container's is its own (not this process's).
    pub fn enter(&self, place: Place) -> ShellEnv {
        let remote = place.remote;
        ShellEnv {
            opaque: remote.then(|| format!("the environment of {}", place.describe())),
            clean: true,
            place: Some(place),
            ..ShellEnv::default()
        }
    }

    /// `env -i`: nothing of this shell or the process environment reaches the command.
    pub fn cleared(&self) -> ShellEnv {
        ShellEnv {
            clean: true,
            dir: self.dir.clone(),
            dir_unknown: self.dir_unknown.clone(),
            place: self.place.clone(),
            ..ShellEnv::default()
        }
    }

    /// `cd DIR`.
    pub fn cd(&mut self, target: Option<&str>) {
        let Some(t) = target.filter(|t| !t.is_empty() && *t != "-" && !t.starts_with('~')) else {
            self.dir_unknown = Some(match target {
                Some(t) => format!("the command changes directory to {t}"),
                None => "the command changes directory to one computed at run time".into(),
            });
            return;
        };
        if t.starts_with('/') {
            self.dir = Some(normalize(t));
            return;
        }
        let joined = match &self.dir {
            Some(d) => format!("{d}/{t}"),
            None => t.to_string(),
        };
        let n = normalize(&joined);
        self.dir = (n != ".").then_some(n);
    }

    /// A path as the tool sees it, relative to the command's working directory.
    pub fn path(&self, p: &str) -> String {
        match &self.dir {
            Some(d) if !p.starts_with('/') && !p.starts_with('~') => normalize(&format!("{d}/{p}")),
            _ => p.to_string(),
        }
    }
}

/// Remove `.` and `a/..` segments without touching a file system (`./a/../b` -> `b`).
pub fn normalize(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn tiers_and_visibility() {
        let mut l = MapLookup::default();
        l.env.insert("HOME".into(), "/home/u".into());
        l.env.insert("DATABASE_URL".into(), "postgres://proc/db".into());
        let mut e = ShellEnv::default();
        assert_eq!(e.lookup("HOME", Tier::Full, &l), Got::Value("/home/u".into()));
        assert!(matches!(e.lookup("HOME", Tier::Exact, &l), Got::Unknown(_)));
        assert_eq!(e.lookup("NOPE", Tier::Full, &l), Got::Absent);
        e.set("X", Var::known("1", None));
        e.set("DATABASE_URL", Var::known("postgres://line/db", None));
        let (env, _) = e.for_tool(&l);
        // X is a shell variable only; DATABASE_URL replaces an inherited one.
        assert_eq!(env, [("DATABASE_URL".to_string(), "postgres://line/db".to_string())]);
        e.allexport = true;
        e.set("Y", Var::known("2", Some("sourced from .env".into())));
        let (env, facts) = e.for_tool(&l);
        assert_eq!(env.len(), 2);
        assert_eq!(facts.origin("Y"), Some("sourced from .env"));
        e.unset("HOME");
        assert_eq!(e.lookup("HOME", Tier::Full, &l), Got::Unset);
    }

    #[test]
    fn directories() {
        let mut e = ShellEnv::default();
        e.cd(Some("api"));
        e.cd(Some("../web/./src/.."));
        assert_eq!(e.dir.as_deref(), Some("web"));
        assert_eq!(e.path("prisma/schema.prisma"), "web/prisma/schema.prisma");
        e.cd(Some(".."));
        assert_eq!(e.dir, None);
        e.cd(None);
        assert!(e.dir_unknown.is_some());
        assert_eq!(normalize("../x"), "../x");
    }
}
