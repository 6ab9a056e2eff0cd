//! TLS for PostgreSQL connections, with libpq's meaning of the connection settings, so
//! a URL that works with psql works with dbguard (managed hosts require TLS).
//!
//! tokio-postgres knows `sslmode` disable/prefer/require only, and rejects the other
//! libpq TLS keys, so they are taken out of the connection string here and applied to a
//! rustls configuration:
//! - `disable`: no TLS. `allow`, `prefer` (the default): TLS when the server offers it,
//!   certificate not checked (libpq's `allow` tries plain first; here TLS is tried first).
//! - `require`: TLS or no connection; the certificate is not checked, unless
//!   `sslrootcert` is given, which makes it `verify-ca` (as in libpq).
//! - `verify-ca`: the chain must lead to a trusted root; `verify-full`: and the host name
//!   must match. Roots: `sslrootcert=PATH` (PEM), `sslrootcert=system` (the system's
//!   store), else `~/.postgresql/root.crt`; none of them is an error, as in libpq.
//! - `sslcert`/`sslkey`: a client certificate (PEM), when both are given.
//!   `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY` fill what the string leaves out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(v: &str) -> anyhow::Result<Mode> {
        Ok(match v {
            "disable" => Mode::Disable,
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => bail!(
                "sslmode={other} is not a PostgreSQL sslmode (disable, allow, prefer, require, verify-ca, verify-full)"
            ),
        })
    }
}

/// The TLS settings of one connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    pub root_cert: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
}

/// libpq keys that tokio-postgres does not accept and that only concern TLS; the ones
/// not applied here (CRLs, protocol bounds, SNI, key passwords) are dropped, and their
/// defaults are what rustls does anyway except `sslcrl` (not checked).
const TLS_KEYS: &[&str] = &[
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslpassword",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requiressl",
];

/// Split a URL or key=value string into what tokio-postgres should parse (no TLS keys)
/// and the TLS settings, with `env` (a variable lookup) filling the gaps like libpq.
pub fn split(conn: &str, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<(String, Settings)> {
    let (rest, found) = if is_url(conn) {
        split_url(conn)?
    } else {
        split_keyword_value(conn)?
    };
    let get = |k: &str| -> Option<String> {
        found
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let mode = match get("sslmode").or_else(|| env("PGSSLMODE")) {
        Some(m) => Mode::parse(&m)?,
        None if get("requiressl").as_deref() == Some("1") => Mode::Require,
        None => Mode::Prefer,
    };
    let root_cert = get("sslrootcert").or_else(|| env("PGSSLROOTCERT"));
    // libpq: with a root certificate, require verifies the chain.
    let mode = if mode == Mode::Require && root_cert.is_some() {
        Mode::VerifyCa
    } else {
        mode
    };
    Ok((
        rest,
        Settings {
            mode,
            root_cert,
            client_cert: get("sslcert").or_else(|| env("PGSSLCERT")),
            client_key: get("sslkey").or_else(|| env("PGSSLKEY")),
        },
    ))
}

fn is_url(conn: &str) -> bool {
    let lower = conn.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

type Pairs = Vec<(String, String)>;

fn split_url(conn: &str) -> anyhow::Result<(String, Pairs)> {
    let Some(q) = conn.find('?') else {
        return Ok((conn.to_string(), Vec::new()));
    };
    let (base, query) = (&conn[..q], &conn[q + 1..]);
    let (query, fragment) = match query.find('#') {
        Some(h) => (&query[..h], &query[h..]),
        None => (query, ""),
    };
    let mut kept = Vec::new();
    let mut found = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let key_raw = part.split('=').next().unwrap_or(part);
        let key: String = url::form_urlencoded::parse(key_raw.as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default();
        if TLS_KEYS.contains(&key.as_str()) {
            let value = url::form_urlencoded::parse(part.as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            found.push((key, value));
        } else {
            kept.push(part);
        }
    }
    let mut out = base.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out.push_str(fragment);
    Ok((out, found))
}

/// libpq's keyword/value form: `key = value` pairs separated by spaces; a value may be
/// single-quoted with `\'` and `\\` escapes.
fn split_keyword_value(conn: &str) -> anyhow::Result<(String, Pairs)> {
    let chars: Vec<char> = conn.chars().collect();
    let mut i = 0;
    let mut kept: Vec<String> = Vec::new();
    let mut found = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        skip_ws(&mut i);
        if i >= chars.len() || chars[i] != '=' {
            bail!("invalid connection string: `{key}` is not followed by `=`");
        }
        i += 1;
        skip_ws(&mut i);
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => bail!("invalid connection string: unterminated quoted value of `{key}`"),
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        if let Some(c) = chars.get(i + 1) {
                            value.push(*c);
                        }
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
        }
        if TLS_KEYS.contains(&key.as_str()) {
            found.push((key, value));
        } else {
            kept.push(format!("{key}='{}'", value.replace('\\', "\\\\").replace('\'', "\\'")));
        }
    }
    Ok((kept.join(" "), found))
}

/// tokio-postgres' own setting for the mode (what it does before handing over the stream).
pub fn tokio_mode(mode: Mode) -> tokio_postgres::config::SslMode {
    use tokio_postgres::config::SslMode;
    match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Allow | Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for these settings.
pub fn client_config(s: &Settings) -> anyhow::Result<rustls::ClientConfig> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("setting up TLS: {e}"))?;
    let builder = match s.mode {
        Mode::VerifyCa | Mode::VerifyFull => {
            let roots = Arc::new(load_roots(s)?);
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| anyhow!("setting up certificate verification: {e}"))?;
            let verifier: Arc<dyn ServerCertVerifier> = if s.mode == Mode::VerifyCa {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            };
            builder.dangerous().with_custom_certificate_verifier(verifier)
        }
        _ => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider))),
    };
    match (&s.client_cert, &s.client_key) {
        (Some(cert), Some(key)) => {
            let certs = read_certs(Path::new(cert), "sslcert")?;
            let key = PrivateKeyDer::from_pem_file(cert_path(key))
                .map_err(|e| anyhow!("reading the client key sslkey={key}: {e}"))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| anyhow!("using the client certificate sslcert={cert}: {e}"))
        }
        (Some(_), None) | (None, Some(_)) => bail!("a client certificate needs both sslcert and sslkey"),
        (None, None) => Ok(builder.with_no_client_auth()),
    }
}

fn cert_path(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => dirs::home_dir()
            .map(|h| h.join(rest))
            .unwrap_or_else(|| PathBuf::from(p)),
        None => PathBuf::from(p),
    }
}

fn read_certs(path: &Path, key: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let path = cert_path(&path.to_string_lossy());
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(&path)
        .map_err(|e| anyhow!("reading {key}={}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| anyhow!("reading {key}={}: {e}", path.display()))?;
    if certs.is_empty() {
        bail!("{key}={} holds no PEM certificate", path.display());
    }
    Ok(certs)
}

fn load_roots(s: &Settings) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let default = dirs::home_dir().map(|h| h.join(".postgresql/root.crt"));
    match s.root_cert.as_deref() {
        Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                bail!("sslrootcert=system: no usable CA certificates in the system store");
            }
        }
        Some(path) => {
            roots.add_parsable_certificates(read_certs(Path::new(path), "sslrootcert")?);
        }
        None => match default.filter(|p| p.exists()) {
            Some(p) => {
                roots.add_parsable_certificates(read_certs(&p, "sslrootcert")?);
            }
            None => bail!(
                "sslmode={} checks the server's certificate and needs the CA that signed it: add sslrootcert=/path/to/ca.pem to the URL (or sslrootcert=system for the system's CAs), as psql would need",
                if s.mode == Mode::VerifyCa { "verify-ca" } else { "verify-full" }
            ),
        },
    }
    if roots.is_empty() {
        bail!("sslrootcert: no usable CA certificate");
    }
    Ok(roots)
}

/// `prefer`/`require`: encrypted, the certificate taken as is (libpq does the same);
/// the handshake's signatures are still checked against the presented key.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the full check, except that the name may differ.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn url_tls_keys_are_taken_out() {
        let (rest, s) = split(
            "postgres://u:p@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fca.pem",
            none,
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@h:5432/db?application_name=x");
        assert_eq!(s.mode, Mode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some("/tmp/ca.pem"));
        let (rest, s) = split("postgresql://h/db", none).unwrap();
        assert_eq!(rest, "postgresql://h/db");
        assert_eq!(s.mode, Mode::Prefer);
    }

    #[test]
    fn require_with_a_root_certificate_verifies_the_chain() {
        let (_, s) = split("postgres://h/db?sslmode=require&sslrootcert=/x.pem", none).unwrap();
        assert_eq!(s.mode, Mode::VerifyCa);
    }

    #[test]
    fn keyword_value_strings() {
        let (rest, s) = split(
            "host=h dbname='my db' password='it\\'s' sslmode = require sslcert=/c.pem",
            none,
        )
        .unwrap();
        assert_eq!(rest, "host='h' dbname='my db' password='it\\'s'");
        assert_eq!(s.mode, Mode::Require);
        assert_eq!(s.client_cert.as_deref(), Some("/c.pem"));
        assert!(split("host=h dbname='x", none).is_err());
        assert!(split("host", none).is_err());
    }

    #[test]
    fn environment_fills_the_gaps_and_bad_modes_are_errors() {
        let env = |k: &str| (k == "PGSSLMODE").then(|| "require".to_string());
        assert_eq!(split("postgres://h/db", env).unwrap().1.mode, Mode::Require);
        assert_eq!(
            split("postgres://h/db?sslmode=disable", env).unwrap().1.mode,
            Mode::Disable
        );
        let e = split("postgres://h/db?sslmode=on", none).unwrap_err().to_string();
        assert!(e.contains("verify-full"), "{e}");
    }

    #[test]
    fn verify_modes_without_roots_say_what_is_missing() {
        let s = Settings {
            mode: Mode::VerifyFull,
            root_cert: Some("/nonexistent/ca.pem".into()),
            client_cert: None,
            client_key: None,
        };
        let e = client_config(&s).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let s = Settings {
            mode: Mode::Require,
            root_cert: None,
            client_cert: None,
            client_key: None,
        };
        assert!(client_config(&s).is_ok());
    }
}
