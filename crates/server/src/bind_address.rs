//! The listen address: `HOST:PORT`, where the host may be a name (`localhost:8080`).

use std::net::ToSocketAddrs;

/// clap's parser for `--bind`/`TENANTRY_BIND`: the text is kept (the listener resolves it
/// again and takes the first address that binds), but it must resolve now, so that
/// `config check` and the start refuse a name that resolves to nothing.
pub fn parse(text: &str) -> Result<String, String> {
    let mut addresses = text.to_socket_addrs().map_err(|e| {
        format!("`{text}`: {e} (expected HOST:PORT, e.g. 127.0.0.1:8080 or localhost:8080)")
    })?;
    match addresses.next() {
        Some(_) => Ok(text.to_owned()),
        None => Err(format!("`{text}` resolves to no address")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn host_names_and_addresses_are_accepted() {
        for ok in ["127.0.0.1:0", "[::1]:8080", "localhost:8080", "0.0.0.0:80"] {
            assert_eq!(parse(ok).as_deref(), Ok(ok));
        }
    }

    #[test]
    fn an_address_without_port_is_refused() {
        for bad in [
            "nowhere",
            "localhost",
            "127.0.0.1",
            ":8080",
            "localhost:http",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }
}
