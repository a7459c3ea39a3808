//! What a guest may reach on the network. Denied by default.
//!
//! Authority enters only here: `--addr-pool` builds the [`AddrPool`], `--allow-resolve` the
//! [`ResolveAllowList`], `--allow-net`/`--deny-net`/`--allow-peer` the [`Rule`]s and
//! `--allow-port-sharing` the one switch for SO_REUSEPORT. `--policy=FILE` gives the same
//! flags in a TOML file ([`Policy::merge_file`]). [`Policy::decide`] answers every question;
//! a denial is EACCES for the guest (spec §7) and, with `--trace`, a line naming the flag that
//! would allow it; every decision can be logged ([`NetEvent`]).
//!
//! The pool is asked about every address the kernel would use, not only the one the guest
//! names (see [`reached_by_outgoing`] and [`implicit_bind_address`]):
//! - connecting or sending to `0.0.0.0` reaches `127.0.0.1`, and `::` reaches `::1` (or
//!   `127.0.0.1` on a socket bound to a mapped address), so they are judged as those;
//! - `listen` on a never-bound socket binds the wildcard of its family, so it is judged as
//!   a bind to it; connect and send_to bind implicitly too, which their own check covers;
//! - an IPv6 socket bound to `::` also accepts IPv4 peers unless IPV6_V6ONLY is set, so a
//!   bind to `::` without `0.0.0.0` in the pool sets IPV6_V6ONLY.

mod file;
mod log;
mod pool;
mod resolve;
mod rules;

pub use file::{MAX_POLICY_FILE_BYTES, PolicyFileError, PolicyFileProblem};
pub use log::{DecisionHook, NetEvent};
pub use pool::{AddrPool, Cidr};
pub use resolve::{ResolveAllowList, ResolvePattern, lookup_name};
pub use rules::{
    ALLOW_NET, ALLOW_PEER, Call, DENY_NET, Direction, Host, LearnedAddrs, MAX_LEARNED, PortRange, Proto,
    Rule, RuleError, is_public_unicast,
};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

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
    /// `--allow-net` rules.
    pub allow_net: Vec<Rule>,
    /// `--deny-net` rules: they win over every allow.
    pub deny_net: Vec<Rule>,
    /// `--allow-peer` rules: when any is given, connections accepted from and datagrams
    /// received from other peers are dropped. None: every peer comes in (as in WAMR).
    pub allow_peer: Vec<Rule>,
    /// What this instance's lookups returned for names that name rules cover.
    pub learned: LearnedAddrs,
}

/// What allowed or denied a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecidedBy<'a> {
    /// An `--addr-pool` entry (any protocol, direction and port, as today).
    AddrPool(Cidr),
    /// An `--allow-net` rule whose host contains the address.
    AllowRule(&'a Rule),
    /// An `--allow-net` name rule: the address was returned by resolving `name`.
    Learned {
        /// The rule.
        rule: &'a Rule,
        /// The name it was resolved from (lower case).
        name: Arc<str>,
    },
    /// A `--deny-net` rule.
    DenyRule(&'a Rule),
    /// An `--allow-peer` rule (inbound calls), or none given: every peer comes in.
    PeerRule(Option<&'a Rule>),
    /// Nothing allows it.
    NoRule,
}

/// The answer of [`Policy::decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'a> {
    /// The call judged.
    pub call: Call,
    /// Its protocol.
    pub proto: Proto,
    /// The address the guest named.
    pub addr: IpAddr,
    /// The port the guest named.
    pub port: u16,
    /// The address that decided: on a denial the one refused (`0.0.0.0` reaches
    /// `127.0.0.1`), else the first one the call reaches. IPv4-mapped forms are IPv4.
    pub judged: IpAddr,
    /// What decided.
    pub by: DecidedBy<'a>,
}

impl Decision<'_> {
    /// Whether the call may go ahead.
    pub fn allowed(&self) -> bool {
        matches!(
            self.by,
            DecidedBy::AddrPool(_)
                | DecidedBy::AllowRule(_)
                | DecidedBy::Learned { .. }
                | DecidedBy::PeerRule(_)
        )
    }

    /// The flag that would allow a call no rule allowed, e.g.
    /// `--allow-net=tcp:connect:127.0.0.2:8080`, or `--allow-peer=tcp:127.0.0.2` for a peer
    /// (any port: a peer's port is mostly ephemeral). `None` when allowed, or when a deny
    /// rule decided (no allow overrides it).
    pub fn flag_to_allow(&self) -> Option<String> {
        if self.by != DecidedBy::NoRule {
            return None;
        }
        let exact = Rule::exactly(self.call, self.proto, self.judged, self.port);
        Some(if self.call.is_inbound() {
            let peer = Rule { direction: None, ports: PortRange::ALL, ..exact };
            format!("{ALLOW_PEER}={peer}")
        } else {
            format!("{ALLOW_NET}={exact}")
        })
    }

    /// The flag and rule that decided, as given on the command line: `--addr-pool=CIDR`,
    /// `--allow-net=RULE`, `--deny-net=RULE`, `--allow-peer=RULE`. `None` when nothing did.
    pub fn rule(&self) -> Option<String> {
        Some(match &self.by {
            DecidedBy::AddrPool(cidr) => format!("--addr-pool={cidr}"),
            DecidedBy::AllowRule(rule) | DecidedBy::Learned { rule, .. } => format!("{ALLOW_NET}={rule}"),
            DecidedBy::DenyRule(rule) => format!("{DENY_NET}={rule}"),
            DecidedBy::PeerRule(Some(rule)) => format!("{ALLOW_PEER}={rule}"),
            DecidedBy::PeerRule(None) | DecidedBy::NoRule => return None,
        })
    }

    /// The name a learned address was resolved from, if a name rule decided.
    pub fn name(&self) -> Option<&str> {
        match &self.by {
            DecidedBy::Learned { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// `allowed by --allow-net=RULE`, `denied by --deny-net=RULE`, `no rule allows it (allow it
/// with --allow-net=...)`: the end of a trace or log line.
impl fmt::Display for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.by {
            DecidedBy::AddrPool(cidr) => write!(f, "allowed by --addr-pool={cidr}"),
            DecidedBy::AllowRule(rule) => write!(f, "allowed by {ALLOW_NET}={rule}"),
            DecidedBy::Learned { rule, name } => {
                write!(f, "allowed by {ALLOW_NET}={rule} ({} is an address of {name})", self.judged)
            }
            DecidedBy::DenyRule(rule) => {
                write!(f, "denied by {DENY_NET}={rule}, which wins over every allow")
            }
            DecidedBy::PeerRule(Some(rule)) => write!(f, "allowed by {ALLOW_PEER}={rule}"),
            DecidedBy::PeerRule(None) => write!(f, "allowed: no {ALLOW_PEER} is given"),
            DecidedBy::NoRule if self.call.is_inbound() => {
                let flag = self.flag_to_allow().unwrap_or_default();
                write!(f, "the peer is outside {ALLOW_PEER}, so it was dropped (allow it with {flag})")
            }
            DecidedBy::NoRule => {
                let flag = self.flag_to_allow().unwrap_or_default();
                if self.judged == self.addr.to_canonical() {
                    write!(f, "no rule allows it (allow it with {flag})")
                } else {
                    write!(f, "it reaches {}, which no rule allows (allow it with {flag})", self.judged)
                }
            }
        }
    }
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
    /// Whether `call` over `proto` to or on `addr`:`port` is allowed, and what decided.
    ///
    /// Every address the kernel would use is judged ([`reached_by_outgoing`] for connect and
    /// send_to; the address itself, IPv4-mapped as IPv4, for bind and listen), and all must
    /// pass. For each: a `--deny-net` rule covering it denies, whatever allows it; else an
    /// `--addr-pool` entry (any protocol, direction and port: today's meaning), an
    /// `--allow-net` address, network or `public` rule, or an `--allow-net` name rule whose
    /// name this instance resolved to it ([`Policy::learn`]) allows it. Name rules in
    /// `--deny-net` refuse lookups ([`Policy::allows_resolving`]), not addresses: an address
    /// carries no name when the guest connects to it.
    ///
    /// Inbound calls ([`Call::is_inbound`]) are [`Policy::decide_peer`]'s.
    pub fn decide(&self, call: Call, proto: Proto, addr: IpAddr, port: u16) -> Decision<'_> {
        if call.is_inbound() {
            return self.decide_peer(call, proto, addr, port);
        }
        let direction = call.direction();
        let decision = |judged: IpAddr, by| Decision { call, proto, addr, port, judged, by };
        // A bind uses the address itself; a connect or send what it reaches.
        let bound = (direction == Direction::Bind).then(|| addr.to_canonical());
        let reached = bound.is_none().then(|| reached_by_outgoing(addr)).into_iter().flatten();
        let mut allowed = None;
        for judged in bound.into_iter().chain(reached) {
            if let Some(rule) =
                self.deny_net.iter().find(|r| r.covers(proto, direction, port) && r.host_contains(judged))
            {
                return decision(judged, DecidedBy::DenyRule(rule));
            }
            match self.allow_source(proto, direction, judged, port) {
                Some(by) => allowed = allowed.or(Some(decision(judged, by))),
                None => return decision(judged, DecidedBy::NoRule),
            }
        }
        allowed.unwrap_or_else(|| decision(addr.to_canonical(), DecidedBy::NoRule))
    }

    /// Whether a connection accepted from, or a datagram received from, `addr`:`port` may
    /// reach the guest (`call` is [`Call::Accept`] or [`Call::Receive`]): every peer when no
    /// `--allow-peer` is given, else only those an `--allow-peer` rule covers.
    pub fn decide_peer(&self, call: Call, proto: Proto, addr: IpAddr, port: u16) -> Decision<'_> {
        let judged = addr.to_canonical();
        let by = if self.allow_peer.is_empty() {
            DecidedBy::PeerRule(None)
        } else {
            let covering = self
                .allow_peer
                .iter()
                .find(|r| r.covers(proto, call.direction(), port) && r.host_contains(judged));
            covering.map_or(DecidedBy::NoRule, |rule| DecidedBy::PeerRule(Some(rule)))
        };
        Decision { call, proto, addr, port, judged, by }
    }

    /// Whether any rule beyond `--addr-pool` and `--allow-resolve` is given: trace lines
    /// then name rules, else they keep the pool's wording.
    pub fn has_rules(&self) -> bool {
        !self.allow_net.is_empty() || !self.deny_net.is_empty()
    }

    /// Whether anything could let the guest bind, connect or send at all (else components get
    /// no sockets).
    pub fn grants_network(&self) -> bool {
        !self.addr_pool.is_empty() || !self.allow_net.is_empty()
    }

    /// What allows `addr` (already canonical) for `proto`, `direction` and `port`, if anything.
    fn allow_source(
        &self,
        proto: Proto,
        direction: Direction,
        addr: IpAddr,
        port: u16,
    ) -> Option<DecidedBy<'_>> {
        if let Some(cidr) = self.addr_pool.grants().iter().find(|c| c.contains(addr)) {
            return Some(DecidedBy::AddrPool(*cidr));
        }
        let covering = || self.allow_net.iter().filter(move |r| r.covers(proto, direction, port));
        if let Some(rule) = covering().find(|r| r.host_contains(addr)) {
            return Some(DecidedBy::AllowRule(rule));
        }
        // The lock is taken only when a name rule could decide.
        covering().find_map(|rule| match &rule.host {
            Host::Name(pattern) => {
                let name = self.learned.find_name(addr, |n| pattern.matches(n))?;
                Some(DecidedBy::Learned { rule, name })
            }
            _ => None,
        })
    }

    /// Records that resolving `name` returned `addrs`, for the name rules that cover `name`
    /// (nothing is kept when none does). The resolver calls this after every allowed lookup.
    pub fn learn(&self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) {
        let Some(name) = lookup_name(name) else { return };
        if names(&self.allow_net, &name) {
            self.learned.insert(&name, addrs);
        }
    }

    /// Whether the guest may resolve `name`: `--allow-resolve` or an `--allow-net` name rule
    /// allows it, and no `--deny-net` name rule refuses it.
    pub fn allows_resolving(&self, name: &str) -> bool {
        !self.denies_resolving(name) && (self.allow_resolve.allows(name) || names(&self.allow_net, name))
    }

    /// Whether a `--deny-net` name rule refuses resolving `name`.
    pub fn denies_resolving(&self, name: &str) -> bool {
        names(&self.deny_net, name)
    }

    /// Whether a bind of an IPv6 socket to `ip` must be made IPv6-only: `::` also takes
    /// IPv4 peers, which need `0.0.0.0` in the pool.
    pub fn bind_needs_v6only(&self, proto: Proto, ip: IpAddr, port: u16) -> bool {
        matches!(ip, IpAddr::V6(v6) if v6.is_unspecified())
            && !self.decide(Call::Bind, proto, IpAddr::V4(Ipv4Addr::UNSPECIFIED), port).allowed()
    }
}

/// Whether one of `rules` is a name rule matching `name`.
fn names(rules: &[Rule], name: &str) -> bool {
    rules.iter().any(|r| matches!(&r.host, Host::Name(p) if p.matches(name)))
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
        fn refused(p: &Policy, to: &str) -> Option<IpAddr> {
            let d = p.decide(Call::Connect, Proto::Tcp, to.parse().unwrap(), 80);
            (!d.allowed()).then_some(d.judged)
        }
        let p = policy("0.0.0.0/32,::/128");
        assert_eq!(refused(&p, "0.0.0.0"), Some(ip("127.0.0.1")));
        assert_eq!(refused(&p, "::ffff:0.0.0.0"), Some(ip("127.0.0.1")));
        assert_eq!(refused(&p, "::"), Some(ip("::1")));
        let p = policy("127.0.0.1/32");
        assert_eq!(refused(&p, "0.0.0.0"), None);
        assert_eq!(refused(&p, "::"), Some(ip("::1")));
        let p = policy("127.0.0.1/32,::1/128");
        assert_eq!(refused(&p, "::"), None, "both loopbacks granted");
        assert_eq!(refused(&p, "127.0.0.2"), Some(ip("127.0.0.2")));
    }

    #[test]
    fn peers_are_judged_by_allow_peer_alone() {
        let mut p = policy("127.0.0.1/32");
        fn from<'p>(p: &'p Policy, proto: Proto, addr: &str) -> Decision<'p> {
            p.decide(Call::Accept, proto, addr.parse().unwrap(), 40000)
        }
        assert_eq!(
            from(&p, Proto::Tcp, "127.0.0.2").by,
            DecidedBy::PeerRule(None),
            "no --allow-peer: all in"
        );
        p.allow_peer = Rule::parse_peer_list("tcp:127.0.0.1,udp:[::1]:53").unwrap();
        assert!(from(&p, Proto::Tcp, "127.0.0.1").allowed());
        assert!(from(&p, Proto::Tcp, "::ffff:127.0.0.1").allowed(), "mapped peers are IPv4");
        let outsider = from(&p, Proto::Tcp, "127.0.0.2");
        assert!(!outsider.allowed(), "the pool does not admit peers");
        assert_eq!(outsider.flag_to_allow().as_deref(), Some("--allow-peer=tcp:127.0.0.2"));
        assert!(!from(&p, Proto::Udp, "127.0.0.1").allowed(), "the rule names TCP");
        assert!(!p.decide(Call::Receive, Proto::Udp, ip("::1"), 54).allowed(), "port 53 only");
        assert_eq!(
            p.decide(Call::Receive, Proto::Udp, ip("::1"), 53).rule().as_deref(),
            Some("--allow-peer=udp:[::1]:53")
        );
        // Deny rules and the pool are about the guest's own calls, not its peers.
        p.deny_net = Rule::parse_list(DENY_NET, "127.0.0.1").unwrap();
        assert!(from(&p, Proto::Tcp, "127.0.0.1").allowed());
        assert!(Rule::parse_peer_list("localhost").unwrap_err().problem.contains("carries no name"));
        assert!(Rule::parse_peer_list("bind:127.0.0.1").unwrap_err().problem.contains("no direction"));
    }

    #[test]
    fn decisions_name_the_flag_that_decided() {
        let mut p = policy("10.0.0.0/8");
        p.allow_net = Rule::parse_list(ALLOW_NET, "udp:bind:127.0.0.1:53,tcp:connect:localhost:80").unwrap();
        p.deny_net = Rule::parse_list(DENY_NET, "10.0.0.1").unwrap();
        let rule = |call, proto, addr, port| p.decide(call, proto, ip(addr), port).rule();
        assert_eq!(rule(Call::Connect, Proto::Tcp, "10.0.0.2", 1).as_deref(), Some("--addr-pool=10.0.0.0/8"));
        assert_eq!(
            rule(Call::Bind, Proto::Udp, "127.0.0.1", 53).as_deref(),
            Some("--allow-net=udp:bind:127.0.0.1:53")
        );
        assert_eq!(rule(Call::Connect, Proto::Tcp, "10.0.0.1", 1).as_deref(), Some("--deny-net=10.0.0.1"));
        assert_eq!(rule(Call::Connect, Proto::Tcp, "127.0.0.1", 80), None, "localhost is not resolved yet");
        p.learn("LOCALHOST.", [ip("127.0.0.1")]);
        let learned = p.decide(Call::Connect, Proto::Tcp, ip("127.0.0.1"), 80);
        assert_eq!(learned.rule().as_deref(), Some("--allow-net=tcp:connect:localhost:80"));
        assert_eq!(learned.name(), Some("localhost"));
        assert!(p.allows_resolving("localhost") && !p.allows_resolving("example.com"));
        p.deny_net.push(Rule::parse_for(DENY_NET, "localhost").unwrap());
        assert!(!p.allows_resolving("localhost"), "a deny name rule refuses the lookup");
    }

    #[test]
    fn a_v6_wildcard_bind_is_v6_only_unless_v4_is_granted() {
        let v6only = |p: Policy, addr| p.bind_needs_v6only(Proto::Tcp, ip(addr), 80);
        assert!(v6only(policy("::/128"), "::"));
        assert!(!v6only(policy("::/128,0.0.0.0/32"), "::"));
        assert!(!v6only(policy("::/128"), "::1"));
        assert!(!v6only(policy("0.0.0.0/32"), "0.0.0.0"));
        let mut p = policy("::/128");
        p.allow_net = Rule::parse_list(ALLOW_NET, "tcp:bind:0.0.0.0:80").unwrap();
        assert!(!p.bind_needs_v6only(Proto::Tcp, ip("::"), 80), "a rule grants the IPv4 wildcard");
        assert!(p.bind_needs_v6only(Proto::Tcp, ip("::"), 81), "on port 80 only");
        assert!(p.bind_needs_v6only(Proto::Udp, ip("::"), 80), "for TCP only");
        assert_eq!(implicit_bind_address(true), ip("::"));
        assert_eq!(implicit_bind_address(false), ip("0.0.0.0"));
    }
}
