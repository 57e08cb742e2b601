//! TLS everywhere this service is a client (webhook receivers, PostgreSQL) uses rustls with the
//! `ring` provider, installed once per process.

/// Makes `ring` the process's rustls provider unless one is installed already.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
