//! TLS for the mail servers intake talks to (IMAP in, SMTP out): how a connection is
//! protected, and the one client configuration both use (the web PKI roots plus the
//! certificates of an optional `ca_file`).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use serde::Deserialize;

/// How the connection to a server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS port 993, SMTPS port 465).
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS before anything else is sent; refusing the
    /// upgrade is an error (no silent downgrade).
    Starttls,
    /// No encryption at all. Only allowed when the host is a loopback address.
    None,
}

/// A TLS set-up that cannot work: an unreadable or empty CA file, a bad certificate.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
}

/// Whether `host` names this machine (`localhost`, `127.0.0.1`, `::1`): the only hosts a
/// connection without encryption is allowed to.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// The client configuration for IMAP and SMTP: the web PKI roots, plus the certificates in
/// `ca_file` (a private CA) when given.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| TlsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::Setup(format!("{}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(TlsError::Setup(format!(
                "{}: no certificates found",
                path.display()
            )));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| TlsError::Setup(format!("{}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}
