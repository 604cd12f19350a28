//! The client's address behind a reverse proxy.
//!
//! Gatehouse believes `Forwarded` (RFC 7239) or `X-Forwarded-For` only from a peer inside one of the
//! configured trusted proxy ranges (none by default). Walking the list of hops from the right, each
//! trusted hop vouches for the one before it; the first untrusted address is the client. Anything a
//! client writes into these headers itself sits further left and is never reached.
//!
//! [`client_address`] runs before every handler and puts that address in place of the TCP peer in
//! `ConnectInfo`, so throttling, send limits and the audit log all see the same client address; the
//! TCP peer stays available as [`Peer`]. It also drops an incoming `X-Request-Id` unless a trusted
//! proxy sent it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The address ranges of the reverse proxies whose forwarded headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// The TCP peer of a request, before forwarded headers were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl TrustedProxies {
    /// Parses CIDR ranges (`10.0.0.0/8`) or single addresses (`192.0.2.7`); fails with the first
    /// entry that is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| entry.to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: `peer` unless `peer` is a trusted proxy, else the rightmost untrusted
    /// hop of the forwarded chain (or its leftmost hop when every hop is trusted).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_hops(headers);
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop we cannot read ("unknown", an obfuscated name): stop at the last one we could.
            let Some(ip) = hop else {
                return client;
            };
            client = *ip;
            if !self.trusts(*ip) {
                return client;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, as dual-stack sockets report) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The hops of `Forwarded` (its `for=` parameters) if present, else of `X-Forwarded-For`, left to
/// right, across repeated header lines; `None` for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(axum::http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    let bracketed = text.strip_prefix('[')?.split(']').next()?;
    bracketed.parse::<IpAddr>().ok().map(canonical)
}

/// Middleware: the client's address in `ConnectInfo`, the TCP peer in [`Peer`], and no `X-Request-Id`
/// from an untrusted peer.
pub async fn client_address(
    State(trusted): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        let from_proxy = trusted.trusts(peer.ip());
        if from_proxy {
            let client = trusted.client_ip(peer.ip(), request.headers());
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        } else {
            request.headers_mut().remove("x-request-id");
        }
        request.extensions_mut().insert(Peer(peer));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.7"]).unwrap()
    }

    #[test]
    fn nothing_is_trusted_by_default() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.1.1.1"), &h),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        assert_eq!(
            proxies().client_ip(ip("198.51.100.1"), &h),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        // The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.5")]);
        assert_eq!(proxies().client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn repeated_header_lines_form_one_list() {
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(proxies().client_ip(ip("192.0.2.7"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_is_preferred_and_understood_with_ports_and_brackets() {
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            (
                "forwarded",
                "for=1.2.3.4, for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.9:80",
            ),
        ]);
        assert_eq!(proxies().client_ip(ip("10.0.0.1"), &h), ip("2001:db8::1"));
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_trusted_one() {
        let h = headers(&[("forwarded", "for=unknown, for=10.0.0.9")]);
        assert_eq!(proxies().client_ip(ip("10.0.0.1"), &h), ip("10.0.0.9"));
    }

    #[test]
    fn without_headers_a_trusted_peer_is_the_client() {
        assert_eq!(
            proxies().client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_ranges() {
        assert!(proxies().trusts(ip("::ffff:10.1.2.3")));
    }

    #[test]
    fn a_bad_range_is_named() {
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.0/8", "proxy.internal"]).unwrap_err(),
            "proxy.internal"
        );
    }
}
