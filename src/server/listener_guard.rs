//! The rule every side listener of `serve` follows (the admin page's
//! `--admin-listen`, a metrics listener): the same as the gRPC listener's
//! development mode. Without credentials nothing authenticates its
//! callers, so it may listen on a loopback address only.

use std::net::SocketAddr;

/// Refuses a side listener on a non-loopback address when no credentials
/// are configured, with a message naming its `flag` and what to do.
pub fn check_side_listener(flag: &str, addr: SocketAddr, credentials_configured: bool) -> Result<(), String> {
    if credentials_configured || addr.ip().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "{flag} {addr}: no API keys or JWT key are configured, so this listener would be open to the network; \
         configure --keys-file, or give {flag} a loopback address (127.0.0.1 or [::1]) for development"
    ))
}

#[cfg(test)]
mod tests {
    use super::check_side_listener;

    #[test]
    fn only_loopback_is_allowed_without_credentials() {
        let addr = |text: &str| text.parse().expect("an address");
        for open in ["127.0.0.1:0", "127.8.9.1:80", "[::1]:9000"] {
            assert_eq!(check_side_listener("--admin-listen", addr(open), false), Ok(()), "{open}");
        }
        for exposed in ["0.0.0.0:8080", "192.168.1.4:80", "[::]:9000"] {
            let refused = check_side_listener("--admin-listen", addr(exposed), false).expect_err(exposed);
            assert!(refused.starts_with("--admin-listen ") && refused.contains("--keys-file"), "{refused}");
            assert_eq!(check_side_listener("--admin-listen", addr(exposed), true), Ok(()), "{exposed}");
        }
    }
}
