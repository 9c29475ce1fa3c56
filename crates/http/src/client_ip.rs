//! The client's address: the socket peer, unless the peer is a configured trusted proxy, in
//! which case the right-most `X-Forwarded-For` hop that is not itself a trusted proxy. Anything
//! a client can write (the left part of the header) is never believed.

use std::net::IpAddr;

use actix_web::HttpRequest;
use tenantry_security::IpMatcher;

pub fn client_ip(req: &HttpRequest, trusted: &IpMatcher) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    if trusted.is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|h| h.parse::<IpAddr>())
        .collect::<Result<_, _>>()
        // A malformed header from behind a trusted proxy: fall back to the proxy itself, which
        // an enforced allowlist then refuses unless it is listed.
        .unwrap_or_default();
    Some(
        hops.into_iter()
            .rev()
            .find(|ip| !trusted.contains(*ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use tenantry_security::Cidr;

    fn trusted(list: &[&str]) -> IpMatcher {
        IpMatcher::new(
            &list
                .iter()
                .map(|c| Cidr::parse(c).expect("cidr"))
                .collect::<Vec<_>>(),
        )
    }

    fn req(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:4000").parse().expect("addr"));
        if let Some(x) = xff {
            r = r.insert_header(("x-forwarded-for", x));
        }
        r.to_http_request()
    }

    #[test]
    fn untrusted_peers_are_taken_as_they_are() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(&req("203.0.113.9", Some("1.2.3.4")), &t),
            Some("203.0.113.9".parse().expect("ip"))
        );
        assert_eq!(
            client_ip(&req("10.0.0.1", Some("1.2.3.4")), &IpMatcher::default()),
            Some("10.0.0.1".parse().expect("ip"))
        );
    }

    #[test]
    fn trusted_proxies_yield_the_rightmost_untrusted_hop() {
        let t = trusted(&["10.0.0.0/8"]);
        // The client forged "6.6.6.6"; the proxies appended the real address and themselves.
        assert_eq!(
            client_ip(
                &req("10.0.0.2", Some("6.6.6.6, 198.51.100.7, 10.0.0.3")),
                &t
            ),
            Some("198.51.100.7".parse().expect("ip"))
        );
        assert_eq!(
            client_ip(&req("10.0.0.2", None), &t),
            Some("10.0.0.2".parse().expect("ip"))
        );
        assert_eq!(
            client_ip(&req("10.0.0.2", Some("garbage")), &t),
            Some("10.0.0.2".parse().expect("ip"))
        );
    }
}
