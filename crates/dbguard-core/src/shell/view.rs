//! The lookup as one command sees it: files written earlier in the same command line
//! (`echo ... | base64 -d > /tmp/x.sh && bash /tmp/x.sh`), and paths relative to the
//! directory it runs in (`cd api && psql -f reset.sql`).

use super::env::normalize;
use super::recognizers::Input;
use crate::lookup::{DirWalk, GitState, Lookup, WalkLimits, WorkspacePackage};

pub struct View<'a> {
    pub inner: &'a dyn Lookup,
    pub written: &'a [(String, Input)],
    pub dir: Option<&'a str>,
}

impl View<'_> {
    fn path(&self, p: &str) -> String {
        match self.dir {
            Some(d) if !p.starts_with('/') && !p.starts_with('~') => normalize(&format!("{d}/{p}")),
            _ => p.to_string(),
        }
    }

    fn written(&self, p: &str) -> Option<&Input> {
        let full = self.path(p);
        let bare = normalize(&full);
        self.written
            .iter()
            .rev()
            .find(|(w, _)| *w == full || normalize(w) == bare)
            .map(|(_, i)| i)
    }

    /// Written earlier in this command line with content that cannot be known.
    pub fn written_unknown(&self, p: &str) -> bool {
        matches!(self.written(p), Some(i) if !matches!(i, Input::Text(_)))
    }

    /// A file's text, or why it cannot be known.
    pub fn read_known(&self, p: &str) -> Result<String, String> {
        match self.written(p) {
            Some(Input::Text(t)) => return Ok(t.clone()),
            Some(Input::Unknown(why)) => return Err(format!("{p}, written earlier from {why}")),
            Some(_) => return Err(format!("{p}, written earlier with data that cannot be known")),
            None => {}
        }
        let full = self.path(p);
        self.inner
            .read_file(&full)
            .or_else(|| full.strip_prefix("./").and_then(|q| self.inner.read_file(q)))
            .ok_or_else(|| format!("{p}, which could not be read"))
    }
}

impl Lookup for View<'_> {
    fn read_file(&self, path: &str) -> Option<String> {
        self.read_known(path).ok()
    }

    fn file_head(&self, path: &str) -> Option<Vec<u8>> {
        match self.written(path) {
            Some(Input::Text(t)) => Some(t.bytes().take(100).collect()),
            Some(_) => None,
            None => self.inner.file_head(&self.path(path)),
        }
    }

    fn is_data_dir(&self, path: &str) -> Option<bool> {
        self.inner.is_data_dir(&self.path(path))
    }

    fn package_script(&self, name: &str) -> Option<String> {
        match self.dir {
            Some(d) => super::workspace::script_in(self.inner, d, name),
            None => self.inner.package_script(name),
        }
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.inner.env_var(name)
    }

    fn env_file(&self, path: &str) -> Option<Vec<(String, String)>> {
        match self.written(path) {
            Some(Input::Text(t)) => Some(crate::lookup::parse_env_text(t)),
            Some(_) => None,
            None => self.inner.env_file(&self.path(path)),
        }
    }

    fn package_script_names(&self) -> Option<Vec<String>> {
        match self.dir {
            Some(d) => super::workspace::script_names_in(self.inner, d),
            None => self.inner.package_script_names(),
        }
    }

    fn workspace_packages(&self) -> Option<Vec<WorkspacePackage>> {
        self.inner.workspace_packages()
    }

    fn dbguard_home(&self) -> Option<String> {
        self.inner.dbguard_home()
    }

    fn resolve_path(&self, path: &str) -> Option<String> {
        self.inner.resolve_path(&self.path(path))
    }

    fn script_summary(
        &self,
        path: &str,
        kind: &str,
        summarize: &dyn Fn(&[u8]) -> crate::script::Summary,
    ) -> Option<crate::script::Summary> {
        match self.written(path) {
            Some(Input::Text(t)) => Some(summarize(t.as_bytes())),
            Some(_) => None,
            None => self.inner.script_summary(&self.path(path), kind, summarize),
        }
    }

    fn list_dir(&self, path: &str) -> Option<Vec<String>> {
        self.inner.list_dir(&self.path(path))
    }

    fn walk_dir(&self, path: &str, limits: &WalkLimits) -> Option<DirWalk> {
        self.inner.walk_dir(&self.path(path), limits)
    }

    fn prisma_shadow_is_main(&self, env: &[(String, String)]) -> Option<bool> {
        // The project of the directory the command runs in is only known at the top.
        self.dir
            .is_none()
            .then(|| self.inner.prisma_shadow_is_main(env))
            .flatten()
    }

    fn git_states(&self, paths: &[String]) -> Option<Vec<GitState>> {
        let paths: Vec<String> = paths.iter().map(|p| self.path(p)).collect();
        self.inner.git_states(&paths)
    }
}
