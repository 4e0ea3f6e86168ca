//! How a server admits callers: credentials (or open development mode),
//! TLS and mutual TLS from PEM files, and the limits.

use super::ServeError;
use crate::auth::Credentials;
use crate::service::limits::Limits;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// Credentials, TLS and limits of a server. The default is open
/// development mode (loopback only), no TLS, default limits.
#[derive(Default)]
pub struct Security {
    /// The accepted credentials; `None` runs open, which only a loopback
    /// listen address allows.
    pub credentials: Option<Credentials>,
    /// TLS (and mutual TLS) files; `None` serves plaintext HTTP/2.
    pub tls: Option<TlsFiles>,
    /// The limits.
    pub limits: Limits,
}

/// PEM files of TLS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The server's certificate chain.
    pub cert: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
    /// With a client CA, every client must present a certificate it signed
    /// (mutual TLS). RPC credentials are still required on top.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    /// The rustls configuration of tonic.
    pub fn server_config(&self) -> Result<ServerTlsConfig, ServeError> {
        let identity = Identity::from_pem(read(&self.cert)?, read(&self.key)?);
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read(ca)?));
        }
        Ok(config)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::TlsFile { path: path.to_owned(), source })
}

impl Security {
    /// Refuses open mode off loopback; warns about open mode, and about
    /// credentials sent in clear text beyond loopback.
    pub fn check(&self, listen: SocketAddr) -> Result<(), ServeError> {
        if super::listener_guard::open_to_the_network(listen, self.credentials.is_some()) {
            return Err(ServeError::OpenNotLoopback(listen));
        }
        match (&self.credentials, listen.ip().is_loopback()) {
            (None, _) => tracing::warn!(
                %listen,
                "no API keys or JWT key configured: development mode, every caller is an admin (loopback only)"
            ),
            (Some(_), false) if self.tls.is_none() => tracing::warn!(
                %listen,
                "credentials are accepted without TLS on a non-loopback address: they travel in clear text"
            ),
            _ => {}
        }
        Ok(())
    }
}
