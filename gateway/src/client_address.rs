//! Who the client is: the TCP peer, unless the peer is a proxy we trust (a load
//! balancer in front of the gateway), in which case it is the address that proxy
//! reported in `X-Forwarded-For`.
//!
//! Only trusted proxies are believed: `X-Forwarded-For` is a request header any
//! client can set, so reading it from an untrusted peer would let a client pick a
//! fresh address, and a fresh rate-limit quota, for every request. The header is read
//! from the right (each proxy appends the address it saw): the first address that is
//! not itself a trusted proxy is the client.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` the gateway believes.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.5`) and networks (`10.0.0.0/8`).
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        entries
            .iter()
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "trusted_proxies: {entry:?} is neither an IP address nor a network"
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        for hop in hops.into_iter().rev() {
            // An entry that is not an address ends what can be believed: the client
            // is the nearest hop known for sure.
            let Ok(ip) = IpAddr::from_str(hop.trim()) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn forwarded_for(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_static(value),
            );
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn balancers() -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.0/8".to_owned(), "192.168.1.7".to_owned()])
            .expect("valid entries")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let headers = forwarded_for(&["1.2.3.4"]);
        assert_eq!(
            balancers().client(ip("203.0.113.9"), &headers),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &headers),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_last_untrusted_hop() {
        // The client forged the first entry; the balancers appended the rest.
        let headers = forwarded_for(&["6.6.6.6, 198.51.100.23", "10.1.2.3"]);
        assert_eq!(
            balancers().client(ip("192.168.1.7"), &headers),
            ip("198.51.100.23")
        );
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_the_client() {
        assert_eq!(
            balancers().client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        let garbage = forwarded_for(&["not-an-address"]);
        assert_eq!(balancers().client(ip("10.0.0.1"), &garbage), ip("10.0.0.1"));
    }

    #[test]
    fn entries_that_are_neither_addresses_nor_networks_are_refused() {
        let error = TrustedProxies::parse(&["10.0.0.0/33".to_owned()]).expect_err("invalid");
        assert!(error.to_string().contains("10.0.0.0/33"), "{error}");
    }
}
