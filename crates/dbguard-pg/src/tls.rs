//! TLS for PostgreSQL connections, with libpq's meaning of the connection settings, so
//! a URL that works with psql works with dbguard (managed hosts require TLS).
//!
//! tokio-postgres knows `sslmode` disable/prefer/require only, and rejects the other
//! libpq TLS keys, so they are taken out of the connection string (by the core's
//! `config::conninfo`, which is pure) and applied here to a rustls configuration:
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

/// The parsing is pure and lives in the core, where it is fuzzed and property-tested.
pub use dbguard_core::config::conninfo::{Mode, Settings};

/// Split a URL or key=value string into what tokio-postgres should parse (no TLS keys)
/// and the TLS settings, with `env` (a variable lookup) filling the gaps like libpq.
pub fn split(conn: &str, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<(String, Settings)> {
    dbguard_core::config::conninfo::split(conn, env).map_err(|e| anyhow!(e))
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
    // libpq: `require` checks the chain when a root certificate exists, the default
    // ~/.postgresql/root.crt included (the core, which reads no files, handles sslrootcert).
    let upgraded;
    let s = if s.mode == Mode::Require && s.root_cert.is_none() && default_root().is_some() {
        upgraded = Settings {
            mode: Mode::VerifyCa,
            ..s.clone()
        };
        &upgraded
    } else {
        s
    };
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

/// libpq's default root certificate file, when it exists.
fn default_root() -> Option<PathBuf> {
    dirs::home_dir()
        .map(|h| h.join(".postgresql/root.crt"))
        .filter(|p| p.exists())
}

fn load_roots(s: &Settings) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let default = default_root();
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
        None => match default {
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

    // The splitting itself is tested in dbguard_core::config::conninfo.
    #[test]
    fn split_errors_keep_their_message() {
        let e = split("postgres://h/db?sslmode=on", |_| None).unwrap_err().to_string();
        assert!(e.contains("verify-full"), "{e}");
        let (rest, s) = split("host=h sslmode=verify-full sslrootcert=system", |_| None).unwrap();
        assert_eq!(
            (rest.as_str(), s.mode, s.root_cert.as_deref()),
            ("host='h'", Mode::VerifyFull, Some("system"))
        );
        let e = split("host=h sslmode=verify-ca sslrootcert=system", |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("weak sslmode"), "{e}");
    }

    /// What tokio-postgres accepts still parses once the TLS keys are out, with the same
    /// host, port, user and database (the fuzz target cannot check this: tokio-postgres is
    /// not a core dependency).
    #[test]
    fn what_tokio_postgres_parses_still_parses_after_the_split() {
        let hosts = ["h", "db.example.com", "[::1]", "%2Ftmp", "h1:5433,h2"];
        let dbs = ["db", "my%20db", "", "d%27b"];
        let queries = [
            "",
            "?sslmode=require",
            "?sslmode=disable&application_name=x",
            "?application_name=a%26b&sslmode=prefer&connect_timeout=3",
            "?options=-c%20search_path%3Dx&application_name=a#frag&sslmode=require",
        ];
        let mut checked = 0;
        for h in hosts {
            for d in dbs {
                for q in queries {
                    let url = format!("postgres://u:p%40ss@{h}/{d}{q}");
                    let Ok(before) = url.parse::<tokio_postgres::Config>() else {
                        continue;
                    };
                    let (rest, _) = split(&url, |_| None).unwrap();
                    let after: tokio_postgres::Config = rest.parse().unwrap_or_else(|e| panic!("{url} -> {rest}: {e}"));
                    assert_eq!(before.get_hosts(), after.get_hosts(), "{url}");
                    assert_eq!(before.get_ports(), after.get_ports(), "{url}");
                    assert_eq!(before.get_user(), after.get_user(), "{url}");
                    assert_eq!(before.get_dbname(), after.get_dbname(), "{url}");
                    checked += 1;
                }
            }
        }
        for kv in [
            "host=h dbname='my db' password='it\\'s' sslmode=require",
            "host = h port=5433 user=u sslmode = disable application_name='a b'",
            r"host=/tmp dbname=d\ x sslmode=prefer",
        ] {
            let before: tokio_postgres::Config = kv.parse().unwrap_or_else(|e| panic!("{kv}: {e}"));
            let (rest, _) = split(kv, |_| None).unwrap();
            let after: tokio_postgres::Config = rest.parse().unwrap_or_else(|e| panic!("{kv} -> {rest}: {e}"));
            assert_eq!(before.get_hosts(), after.get_hosts(), "{kv}");
            assert_eq!(before.get_dbname(), after.get_dbname(), "{kv}");
            assert_eq!(before.get_user(), after.get_user(), "{kv}");
            checked += 1;
        }
        assert!(checked > 50, "{checked}");
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
