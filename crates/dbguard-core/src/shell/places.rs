//! Where a command runs when it is not this machine's shell: `ssh HOST`, `kubectl exec`,
//! `docker exec` / `docker compose exec` (on another daemon with `-H`, `--context` or
//! `DOCKER_HOST`), `heroku run`. The names there (a host, a kube context, a namespace,
//! a container, an app) are what the environment rules can use: the database behind
//! `ssh prod-db 'psql ...'` is on prod-db, whatever `localhost` means there.

use super::env::ShellEnv;
use super::parse::Word;
use super::words::{basename, skip_leading_options, Spec};
use crate::target::Place;

const SSH: Spec = Spec {
    short: "BbcDEeFIiJLlmOoPpQRSWw",
    long: &[],
    single_dash_long: false,
    optional: "",
};

/// kubectl's global options that take a value.
const KUBE_GLOBAL: &[&str] = &[
    "--context",
    "--namespace",
    "-n",
    "--kubeconfig",
    "--cluster",
    "--user",
    "-s",
    "--server",
    "--token",
    "--as",
    "--as-group",
    "--request-timeout",
    "--cache-dir",
    "--certificate-authority",
    "--client-certificate",
    "--client-key",
    "--tls-server-name",
    "-v",
];

/// `kubectl exec` options that take a value.
const KUBE_EXEC: &[&str] = &[
    "-c",
    "--container",
    "-f",
    "--filename",
    "--pod-running-timeout",
    "-n",
    "--namespace",
];

/// Tools that find their database without the working directory's files (libpq, the MySQL
/// client, redis-cli, mongosh): a `cd` somewhere unknown does not hide their target.
pub fn reads_no_project_files(tool: &str) -> bool {
    matches!(
        tool,
        "psql"
            | "dropdb"
            | "pg_restore"
            | "mysql"
            | "mysqladmin"
            | "redis-cli"
            | "mongosh"
            | "sqlite3"
            | "rm"
            | "docker"
    )
}

/// The place `words` (a wrapper about to be peeled) runs the rest of the command in.
pub fn place_of(words: &[Word], env: &ShellEnv) -> Option<Place> {
    let prog = basename(&words.first()?.text);
    match prog {
        "ssh" => ssh(words),
        "kubectl" | "oc" => kubectl(words),
        "docker" | "podman" => docker(words, env, false),
        "docker-compose" | "podman-compose" => docker(words, env, true),
        "heroku" if words.get(1).is_some_and(|w| w.text == "run") => {
            let mut names = Vec::new();
            let mut it = words[2..].iter();
            while let Some(w) = it.next() {
                let t = w.text.as_str();
                if let Some(app) = t.strip_prefix("--app=") {
                    names.push(("app".into(), app.to_string()));
                } else if t == "-a" || t == "--app" {
                    if let Some(a) = it.next() {
                        names.push(("app".into(), a.text.clone()));
                    }
                } else if !t.starts_with('-') {
                    break;
                }
            }
            Some(Place {
                via: "heroku run".into(),
                names,
                remote: true,
            })
        }
        _ => None,
    }
}

fn ssh(words: &[Word]) -> Option<Place> {
    let i = 1 + skip_leading_options(&words[1..], &SSH);
    let host = words.get(i)?;
    let mut name = host.text.rsplit('@').next().unwrap_or(&host.text).to_string();
    if let Some(rest) = name.strip_prefix("ssh://") {
        name = rest.split([':', '/']).next().unwrap_or(rest).to_string();
    }
    Some(Place {
        via: "ssh".into(),
        names: vec![("host".into(), name)],
        remote: true,
    })
}

fn kubectl(words: &[Word]) -> Option<Place> {
    let mut names: Vec<(String, String)> = Vec::new();
    let mut i = 1;
    let mut exec = false;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if t == "--" {
            break;
        }
        let (key, value) = match t.split_once('=') {
            Some((k, v)) if k.starts_with('-') => (k, Some(v.to_string())),
            _ => (t, None),
        };
        let takes = if exec {
            KUBE_EXEC.contains(&key)
        } else {
            KUBE_GLOBAL.contains(&key)
        };
        if takes {
            let v = match value {
                Some(v) => v,
                None => {
                    i += 1;
                    words.get(i - 1).map(|w| w.text.clone()).unwrap_or_default()
                }
            };
            match key {
                "--context" => names.push(("context".into(), v)),
                "--cluster" => names.push(("cluster".into(), v)),
                "-n" | "--namespace" => names.push(("namespace".into(), v)),
                _ => {}
            }
            continue;
        }
        if t.starts_with('-') {
            continue;
        }
        if !exec {
            if t != "exec" {
                return None;
            }
            exec = true;
            continue;
        }
        // The pod (`api-0`, `deploy/api`).
        names.push(("pod".into(), t.rsplit('/').next().unwrap_or(t).to_string()));
        break;
    }
    exec.then(|| Place {
        via: format!("{} exec", basename(&words[0].text)),
        names,
        remote: true,
    })
}

fn docker(words: &[Word], env: &ShellEnv, compose_prog: bool) -> Option<Place> {
    let mut names: Vec<(String, String)> = Vec::new();
    let mut remote = false;
    let mut i = 1;
    let mut compose = compose_prog;
    let arg = |k: usize| words.get(k).map_or("", |w| w.text.as_str());
    // Global options: a daemon elsewhere makes every container remote.
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if !t.starts_with('-') {
            if !compose && t == "compose" {
                compose = true;
                i += 1;
                continue;
            }
            break;
        }
        i += 1;
        let (key, value) = match t.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (t, None),
        };
        let takes = matches!(
            key,
            "-H" | "--host"
                | "-c"
                | "--context"
                | "--config"
                | "-l"
                | "--log-level"
                | "-f"
                | "--file"
                | "-p"
                | "--project-name"
                | "--project-directory"
                | "--env-file"
                | "--profile"
                | "--tlscacert"
                | "--tlscert"
                | "--tlskey"
        );
        if !takes {
            continue;
        }
        let v = value.unwrap_or_else(|| {
            i += 1;
            arg(i - 1).to_string()
        });
        match key {
            "-H" | "--host" => {
                remote |= daemon_is_remote(&v);
                names.push(("docker host".into(), v));
            }
            "-c" | "--context" if !compose || key == "--context" => {
                remote |= v != "default" && v != "desktop-linux";
                names.push(("docker context".into(), v));
            }
            "-p" | "--project-name" if compose => names.push(("project".into(), v)),
            _ => {}
        }
    }
    let sub = arg(i);
    if !matches!(sub, "exec" | "run") {
        return None;
    }
    for var in ["DOCKER_HOST", "DOCKER_CONTEXT"] {
        if let Some(v) = env.get(var).and_then(|v| v.exact.clone()) {
            if (var == "DOCKER_HOST" && daemon_is_remote(&v)) || (var == "DOCKER_CONTEXT" && v != "default") {
                remote = true;
                names.push((var.to_ascii_lowercase().replace('_', " "), v));
            }
        }
    }
    // The container, service or image: the first operand after the subcommand's options.
    let value_opts: &[&str] = &[
        "-e",
        "--env",
        "-u",
        "--user",
        "-w",
        "--workdir",
        "--env-file",
        "--name",
        "-v",
        "--volume",
        "-p",
        "--publish",
        "--network",
        "--entrypoint",
        "-l",
        "--label",
        "--mount",
        "--platform",
        "--index",
        "-h",
        "--hostname",
    ];
    let mut j = i + 1;
    while let Some(w) = words.get(j) {
        let t = w.text.as_str();
        if !t.starts_with('-') {
            let role = match (compose, sub) {
                (true, _) => "service",
                (false, "run") => "image",
                _ => "container",
            };
            names.push((role.into(), t.to_string()));
            break;
        }
        j += if value_opts.contains(&t) { 2 } else { 1 };
    }
    Some(Place {
        via: format!(
            "{}{} {sub}",
            basename(&words[0].text),
            if compose && !compose_prog { " compose" } else { "" }
        ),
        names,
        remote,
    })
}

/// `unix:///var/run/docker.sock` is this machine; `ssh://`, `tcp://` are not.
fn daemon_is_remote(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    !(l.starts_with("unix://") || l.starts_with("npipe://") || l.contains("localhost") || l.contains("127.0.0.1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &str) -> Vec<Word> {
        s.split_whitespace().map(Word::lit).collect()
    }

    #[test]
    fn places() {
        let e = ShellEnv::default();
        let p = place_of(&ws("ssh -p 2222 deploy@prod-db psql"), &e).unwrap();
        assert_eq!(p.names, [("host".to_string(), "prod-db".to_string())]);
        let p = place_of(
            &ws("kubectl --context prod-eks -n shop exec -it deploy/api -- psql"),
            &e,
        )
        .unwrap();
        assert_eq!(p.describe(), "kubectl exec (context prod-eks, namespace shop, pod api)");
        assert!(place_of(&ws("kubectl get pods"), &e).is_none());
        let p = place_of(&ws("docker exec -it db psql"), &e).unwrap();
        assert!(!p.remote);
        assert_eq!(p.names, [("container".to_string(), "db".to_string())]);
        let p = place_of(&ws("docker -H ssh://ops@prod exec db psql"), &e).unwrap();
        assert!(p.remote);
        let p = place_of(&ws("docker compose -p shop exec -T db psql"), &e).unwrap();
        assert_eq!(p.via, "docker compose exec");
        assert!(place_of(&ws("docker ps"), &e).is_none());
    }
}
