//! What a guest may reach on the network. Denied by default.
//!
//! Authority enters only here: `--addr-pool` builds the [`AddrPool`], `--allow-resolve` the
//! [`ResolveAllowList`] and `--allow-port-sharing` the one switch for SO_REUSEPORT. A denial
//! is EACCES for the guest (spec §7) and, with `--trace`, a line naming the flag that would
//! allow it.
//!
//! The pool is asked about every address the kernel would use, not only the one the guest
//! names (see [`reached_by_outgoing`] and [`implicit_bind_address`]):
//! - connecting or sending to `0.0.0.0` reaches `127.0.0.1`, and `::` reaches `::1` (or
//!   `127.0.0.1` on a socket bound to a mapped address), so they are judged as those;
//! - `listen` on a never-bound socket binds the wildcard of its family, so it is judged as
//!   a bind to it; connect and send_to bind implicitly too, which their own check covers;
//! - an IPv6 socket bound to `::` also accepts IPv4 peers unless IPV6_V6ONLY is set, so a
//!   bind to `::` without `0.0.0.0` in the pool sets IPV6_V6ONLY.

mod pool;
mod resolve;

pub use pool::{AddrPool, Cidr};
pub use resolve::{ResolveAllowList, ResolvePattern, lookup_name};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The network policy of one instance.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Addresses the guest may bind, connect or send to.
    pub addr_pool: AddrPool,
    /// Names the guest may resolve.
    pub allow_resolve: ResolveAllowList,
    /// Whether the guest may share a port with other sockets of the host: SO_REUSEPORT on
    /// any socket and SO_REUSEADDR on a datagram socket. Off by default, because the kernel
    /// then splits a host service's connections or datagrams with the guest's socket.
    pub allow_port_sharing: bool,
}

/// The addresses a connect or send to `ip` may reach. The kernel sends to the unspecified
/// address as to a loopback address: `0.0.0.0` is `127.0.0.1`, and `::` is `::1`, or
/// `127.0.0.1` on a socket bound to an IPv4-mapped address, so `::` is judged as both.
/// IPv4-mapped addresses are judged as the IPv4 address they carry.
pub fn reached_by_outgoing(ip: IpAddr) -> impl Iterator<Item = IpAddr> {
    // No allocation: this runs on every connect and send_to.
    let (first, second) = match ip.to_canonical() {
        IpAddr::V4(v4) if v4.is_unspecified() => (IpAddr::V4(Ipv4Addr::LOCALHOST), None),
        IpAddr::V6(v6) if v6.is_unspecified() => {
            (IpAddr::V6(Ipv6Addr::LOCALHOST), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        }
        other => (other, None),
    };
    std::iter::once(first).chain(second)
}

/// What `listen` on a never-bound socket of `ipv6`'s family binds: the family's wildcard.
pub fn implicit_bind_address(ipv6: bool) -> IpAddr {
    if ipv6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) }
}

impl Policy {
    /// The first address among those an outgoing connect or send to `ip` reaches that the
    /// pool does not grant, if any.
    pub fn refused_destination(&self, ip: IpAddr) -> Option<IpAddr> {
        reached_by_outgoing(ip).find(|&a| !self.addr_pool.allows(a))
    }

    /// Whether a bind of an IPv6 socket to `ip` must be made IPv6-only: `::` also takes
    /// IPv4 peers, which need `0.0.0.0` in the pool.
    pub fn bind_needs_v6only(&self, ip: IpAddr) -> bool {
        matches!(ip, IpAddr::V6(v6) if v6.is_unspecified())
            && !self.addr_pool.allows(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// A policy entry that could not be parsed. The message quotes the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it and how to write it instead.
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid entry '{}': {}", self.entry, self.problem)
    }
}

impl std::error::Error for PolicyError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(list: &str) -> Policy {
        let mut p = Policy::default();
        for c in AddrPool::parse_list(list).unwrap() {
            p.addr_pool.insert(c);
        }
        p
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_unspecified_address_is_judged_as_loopback() {
        let p = policy("0.0.0.0/32,::/128");
        assert_eq!(p.refused_destination(ip("0.0.0.0")), Some(ip("127.0.0.1")));
        assert_eq!(p.refused_destination(ip("::ffff:0.0.0.0")), Some(ip("127.0.0.1")));
        assert_eq!(p.refused_destination(ip("::")), Some(ip("::1")));
        let p = policy("127.0.0.1/32");
        assert_eq!(p.refused_destination(ip("0.0.0.0")), None);
        assert_eq!(p.refused_destination(ip("::")), Some(ip("::1")));
        let p = policy("127.0.0.1/32,::1/128");
        assert_eq!(p.refused_destination(ip("::")), None, "both loopbacks granted");
        assert_eq!(p.refused_destination(ip("127.0.0.2")), Some(ip("127.0.0.2")));
    }

    #[test]
    fn a_v6_wildcard_bind_is_v6_only_unless_v4_is_granted() {
        assert!(policy("::/128").bind_needs_v6only(ip("::")));
        assert!(!policy("::/128,0.0.0.0/32").bind_needs_v6only(ip("::")));
        assert!(!policy("::/128").bind_needs_v6only(ip("::1")));
        assert!(!policy("0.0.0.0/32").bind_needs_v6only(ip("0.0.0.0")));
        assert_eq!(implicit_bind_address(true), ip("::"));
        assert_eq!(implicit_bind_address(false), ip("0.0.0.0"));
    }
}
