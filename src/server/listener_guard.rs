//! The rule every side listener (the metrics endpoint now, an admin
//! endpoint later) shares with the gRPC listener's development mode: an
//! address beyond loopback is refused unless credentials are configured,
//! because without them the server has nobody it could deny.

use std::net::SocketAddr;

/// Why a side listener may not listen where it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{flag} {addr}: no API keys or JWT key are configured, so the server runs in development mode and \
     {flag} must be a loopback address (127.0.0.1, ::1); configure --keys-file (or a JWT key) to listen on {addr}"
)]
pub struct OpenSideListener {
    /// The flag that named the address, e.g. `--metrics-listen`.
    pub flag: &'static str,
    /// The refused address.
    pub addr: SocketAddr,
}

/// The rule itself: a listener on `addr` would be open to the network
/// (not loopback) with nobody to deny (no credentials). The gRPC
/// listener's `Security::check` applies it too.
pub fn open_to_the_network(addr: SocketAddr, credentials_configured: bool) -> bool {
    !addr.ip().is_loopback() && !credentials_configured
}

/// Refuses `addr` for the listener of `flag` when it is not loopback and
/// no credentials are configured.
pub fn check_side_listener(
    flag: &'static str,
    addr: SocketAddr,
    credentials_configured: bool,
) -> Result<(), OpenSideListener> {
    if open_to_the_network(addr, credentials_configured) {
        return Err(OpenSideListener { flag, addr });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_open_without_credentials() {
        let any: SocketAddr = "0.0.0.0:9464".parse().expect("address");
        let v6: SocketAddr = "[::1]:9464".parse().expect("address");
        let local: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let refused = check_side_listener("--metrics-listen", any, false).expect_err("refused");
        assert!(refused.to_string().starts_with("--metrics-listen 0.0.0.0:9464:"), "{refused}");
        assert_eq!(check_side_listener("--metrics-listen", any, true), Ok(()));
        assert_eq!(check_side_listener("--metrics-listen", v6, false), Ok(()));
        assert_eq!(check_side_listener("--metrics-listen", local, false), Ok(()));
    }
}
