//! TLS to PostgreSQL (rustls with the `ring` provider). `sslmode=require` in the URL turns it
//! on, and with rustls "require" always means a verified certificate and host name — against
//! the system's roots plus `UCP_DB_CA_FILE`. `prefer`, which is also what a URL that says
//! nothing gets, is treated as `disable`: libpq's "prefer" encrypts without knowing who is at
//! the other end, and would fail here against a server whose certificate nobody trusts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// Where trusted roots for the database's certificate come from, besides the system's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseTls {
    pub ca_file: Option<PathBuf>,
}

/// The connector every connection of this process uses.
pub type Connector = MakeRustlsConnect;

impl DatabaseTls {
    /// A connector trusting the system's roots and the CA file.
    ///
    /// # Errors
    /// When the CA file cannot be read or holds no certificate.
    pub fn connector(&self) -> Result<Connector, StoreError> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            // A system root rustls cannot parse is skipped, as every TLS client does.
            let _ = roots.add(cert);
        }
        if let Some(path) = &self.ca_file {
            add_ca_file(&mut roots, path)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }
}

fn add_ca_file(roots: &mut rustls::RootCertStore, path: &Path) -> Result<(), StoreError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let bad = |why: String| StoreError::Config(format!("UCP_DB_CA_FILE {}: {why}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    for cert in certs {
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    Ok(())
}

/// Applies the rule above to a connection's settings: `prefer` becomes `disable`.
pub fn settle_ssl_mode(config: &mut tokio_postgres::Config) {
    if config.get_ssl_mode() == SslMode::Prefer {
        config.ssl_mode(SslMode::Disable);
    }
}

/// Whether connections made with this URL are encrypted: `sslmode=require`, or every host a
/// Unix socket (which never leaves the machine).
///
/// # Errors
/// When the URL cannot be parsed.
pub fn is_encrypted(url: &str) -> Result<bool, StoreError> {
    let config = parse_url(url)?;
    let local = !config.get_hosts().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, tokio_postgres::config::Host::Unix(_)));
    Ok(config.get_ssl_mode() == SslMode::Require || local)
}

/// Parses a URL (or key/value string) and settles its SSL mode.
///
/// # Errors
/// When the URL cannot be parsed.
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    let mut config = url
        .parse::<tokio_postgres::Config>()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    settle_ssl_mode(&mut config);
    Ok(config)
}
