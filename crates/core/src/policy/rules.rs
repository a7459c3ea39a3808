//! `--allow-net` and `--deny-net` rules (issue 15): protocol, direction, host and ports.
//!
//! ```text
//! RULE  = [PROTO ":"] [DIR ":"] HOST [":" PORTS]
//! PROTO = "tcp" | "udp"                  (neither: both)
//! DIR   = "connect" | "bind"             (neither: both)
//! HOST  = IPv4 | IPv4 "/" MASK           127.0.0.1, 10.0.0.0/8
//!       | "[" IPv6 ["/" MASK] "]"        [::1], [fd00::/8]
//!       | NAME | "*." NAME               localhost, api.example.com, *.example.com
//!       | "public"                       every public unicast address (see is_public_unicast)
//! PORTS = PORT | LOW "-" HIGH            decimal, 0-65535 (none: every port)
//! ```
//!
//! Grammar decisions, each made so that a rule means one thing to a reader:
//! - IPv6 addresses and networks are always bracketed. A bare `::1:80` is itself a valid
//!   IPv6 address, so a bare form would silently read an intended port as address bits;
//!   it is refused, and the message shows both bracketed readings.
//! - `tcp`, `udp`, `connect` and `bind` are keywords in front of the host, and `public` is
//!   the preset. A host with such a name is written with its trailing dot (`bind.:80`),
//!   which names the same host; [`Rule`]'s `Display` does that too.
//! - Names follow `--allow-resolve`'s patterns (an exact name or `*.suffix`,
//!   case-insensitive, one trailing dot ignored) but `*` alone is refused: it would allow
//!   every address any name resolves to, which is no restriction a reader would expect from
//!   a name rule (`public`, `0.0.0.0/0` or `[::]/0` say that plainly). Names are ASCII
//!   letters, digits, `-`, `_` and `.`, at most 253 bytes with labels of at most 63; a name
//!   whose last label starts with a digit is refused because resolvers read `127.1` or
//!   `0x7f.1` as IPv4 addresses.
//! - Masks follow `--addr-pool` ([`Cidr`]): strict widths, host bits kept but ignored, an
//!   IPv4-mapped network of /96 or more is an IPv4 network.
//! - Port 0 is a port like any other: a bind to port 0 (the kernel picks a free port) is
//!   judged as port 0, so `bind:127.0.0.1:8080` does not allow it and a rule without ports
//!   does.
//!
//! Words are case-insensitive; [`Rule`]'s `Display` prints the canonical form, which parses
//! back to the same rule.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use super::{Cidr, ResolvePattern};

/// The flag whose rules allow.
pub const ALLOW_NET: &str = "--allow-net";
/// The flag whose rules deny, over any allow.
pub const DENY_NET: &str = "--deny-net";
/// The flag whose rules name the peers a guest may accept connections and datagrams from.
pub const ALLOW_PEER: &str = "--allow-peer";

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP (stream sockets).
    Tcp,
    /// UDP (datagram sockets).
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// Which way a rule lets the guest use an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Connecting or sending to it.
    Connect,
    /// Binding (and so listening or receiving) on it.
    Bind,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Connect => "connect",
            Direction::Bind => "bind",
        })
    }
}

/// The socket call being judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// An explicit bind.
    Bind,
    /// `listen` on a never-bound socket: the kernel binds the wildcard of the family and a
    /// free port, so it is judged as a bind of that address (see
    /// [`super::implicit_bind_address`]) on port 0.
    Listen,
    /// A stream connect (or a datagram socket's default peer).
    Connect,
    /// A datagram sent to an explicit address.
    SendTo,
    /// A connection accepted from a peer (judged by `--allow-peer` only).
    Accept,
    /// A datagram received from a peer (judged by `--allow-peer` only).
    Receive,
}

impl Call {
    /// The direction a rule must allow for this call. Inbound calls are judged as the
    /// `bind` direction, which is how the guest came to receive them.
    pub fn direction(self) -> Direction {
        match self {
            Call::Bind | Call::Listen | Call::Accept | Call::Receive => Direction::Bind,
            Call::Connect | Call::SendTo => Direction::Connect,
        }
    }

    /// Whether the call judges a peer that reached the guest (`--allow-peer`).
    pub fn is_inbound(self) -> bool {
        matches!(self, Call::Accept | Call::Receive)
    }
}

impl Call {
    /// The call's name in a decision log: `bind`, `listen`, `connect`, `send_to`, ...
    pub fn name(self) -> &'static str {
        match self {
            Call::Bind => "bind",
            Call::Listen => "listen",
            Call::Connect => "connect",
            Call::SendTo => "send_to",
            Call::Accept => "accept",
            Call::Receive => "receive",
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An inclusive range of ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    low: u16,
    high: u16,
}

impl PortRange {
    /// Every port, 0 included.
    pub const ALL: PortRange = PortRange { low: 0, high: u16::MAX };

    /// `low` to `high`, or `None` when `low > high`.
    pub fn new(low: u16, high: u16) -> Option<PortRange> {
        (low <= high).then_some(PortRange { low, high })
    }

    /// One port.
    pub fn single(port: u16) -> PortRange {
        PortRange { low: port, high: port }
    }

    /// Whether `port` is inside.
    pub fn contains(self, port: u16) -> bool {
        (self.low..=self.high).contains(&port)
    }

    /// Whether this is every port.
    pub fn is_all(self) -> bool {
        self == PortRange::ALL
    }
}

/// `:PORT` or `:LOW-HIGH`; nothing for every port.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_all(), self.low == self.high) {
            (true, _) => Ok(()),
            (false, true) => write!(f, ":{}", self.low),
            (false, false) => write!(f, ":{}-{}", self.low, self.high),
        }
    }
}

/// What a rule's HOST names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// An address (a full mask) or a network.
    Net(Cidr),
    /// A name or `*.suffix`: resolving it, and then the addresses it resolved to for this
    /// instance (see [`LearnedAddrs`]). Never [`ResolvePattern::Any`].
    Name(ResolvePattern),
    /// Every public unicast address ([`is_public_unicast`]).
    Public,
}

/// Words that would be read as a keyword or the preset where a host name stands.
const KEYWORDS: [&str; 5] = ["tcp", "udp", "connect", "bind", "public"];

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Public => f.write_str("public"),
            Host::Net(net) => match (net.base(), net.is_single()) {
                (IpAddr::V4(a), true) => write!(f, "{a}"),
                (IpAddr::V4(_), false) => write!(f, "{net}"),
                (IpAddr::V6(a), true) => write!(f, "[{a}]"),
                (IpAddr::V6(_), false) => write!(f, "[{net}]"),
            },
            // The trailing dot keeps a host called `bind` or `public` from reading as the
            // keyword when the rule is parsed again.
            Host::Name(ResolvePattern::Exact(name)) if KEYWORDS.contains(&name.as_str()) => {
                write!(f, "{name}.")
            }
            Host::Name(ResolvePattern::Exact(name)) => f.write_str(name),
            Host::Name(ResolvePattern::Suffix(suffix)) => write!(f, "*{suffix}"),
            Host::Name(ResolvePattern::Any) => f.write_str("*"),
        }
    }
}

/// One `--allow-net` or `--deny-net` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The protocol it covers; `None` for both.
    pub proto: Option<Proto>,
    /// The direction it covers; `None` for both.
    pub direction: Option<Direction>,
    /// The addresses (or name) it covers.
    pub host: Host,
    /// The ports it covers.
    pub ports: PortRange,
}

/// A rule that could not be parsed: `FLAG=RULE: what is wrong and what to write instead`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// The flag the rule was given to ([`ALLOW_NET`], [`DENY_NET`], ...).
    pub flag: &'static str,
    /// The rule as given (the whole list when the list itself is malformed).
    pub rule: String,
    /// What is wrong with it and how to write it instead.
    pub problem: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}: {}", self.flag, self.rule, self.problem)
    }
}

impl std::error::Error for RuleError {}

const GRAMMAR: &str = "[tcp|udp:][connect|bind:]HOST[:PORT|:LOW-HIGH]";

impl Rule {
    /// Parses one rule given to `--allow-net`; errors name that flag.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        Rule::parse_for(ALLOW_NET, text)
    }

    /// Parses one rule given to `flag` (for its error messages).
    pub fn parse_for(flag: &'static str, text: &str) -> Result<Rule, RuleError> {
        parse_rule(text).map_err(|problem| RuleError { flag, rule: text.to_string(), problem })
    }

    /// Parses one value of `flag`: rules separated by commas, each trimmed of surrounding
    /// blanks. An empty rule (`a,,b`, a trailing comma, an empty value) is an error rather
    /// than skipped, since it is most likely a rule lost to shell quoting.
    pub fn parse_list(flag: &'static str, list: &str) -> Result<Vec<Rule>, RuleError> {
        let items: Vec<&str> = list.split(',').map(str::trim).collect();
        if let Some(empty) = items.iter().position(|item| item.is_empty()) {
            let problem = if items.len() == 1 {
                format!("the value is empty; write one or more rules {GRAMMAR}, separated by ','")
            } else {
                format!(
                    "rule {} of {} is empty; separate rules with a single ',' and no trailing ','",
                    empty + 1,
                    items.len()
                )
            };
            return Err(RuleError { flag, rule: list.to_string(), problem });
        }
        items.into_iter().map(|item| Rule::parse_for(flag, item)).collect()
    }

    /// Parses one `--allow-peer` value: rules as [`Rule::parse_list`]'s, without a direction
    /// (a peer only comes in) and without a name (a peer's address carries none).
    pub fn parse_peer_list(list: &str) -> Result<Vec<Rule>, RuleError> {
        let rules = Rule::parse_list(ALLOW_PEER, list)?;
        for rule in &rules {
            let problem = match (&rule.direction, &rule.host) {
                (Some(d), _) => format!("a peer rule has no direction: leave out '{d}:'"),
                (None, Host::Name(_)) => format!(
                    "a peer is judged by its address, which carries no name: write an address or a network instead of '{}'",
                    rule.host
                ),
                _ => continue,
            };
            return Err(RuleError { flag: ALLOW_PEER, rule: rule.to_string(), problem });
        }
        Ok(rules)
    }

    /// Whether the rule covers `proto`, `direction` and `port`, whatever its host.
    pub fn covers(&self, proto: Proto, direction: Direction, port: u16) -> bool {
        self.proto.is_none_or(|p| p == proto)
            && self.direction.is_none_or(|d| d == direction)
            && self.ports.contains(port)
    }

    /// Whether the rule's host contains `addr` by itself. A name rule contains no address:
    /// only the addresses its name resolved to, which [`super::Policy::decide`] looks up.
    pub fn host_contains(&self, addr: IpAddr) -> bool {
        match &self.host {
            Host::Net(net) => net.contains(addr),
            Host::Public => is_public_unicast(addr),
            Host::Name(_) => false,
        }
    }

    /// The rule allowing exactly one call: `tcp:connect:127.0.0.2:8080`.
    pub fn exactly(call: Call, proto: Proto, addr: IpAddr, port: u16) -> Rule {
        Rule {
            proto: Some(proto),
            direction: Some(call.direction()),
            host: Host::Net(Cidr::single(addr)),
            ports: PortRange::single(port),
        }
    }
}

impl FromStr for Rule {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Rule, RuleError> {
        Rule::parse(text)
    }
}

/// The canonical form: lower case, IPv6 in brackets, a full mask left out, no port for every
/// port. It parses back to the same rule.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(proto) = self.proto {
            write!(f, "{proto}:")?;
        }
        if let Some(direction) = self.direction {
            write!(f, "{direction}:")?;
        }
        write!(f, "{}{}", self.host, self.ports)
    }
}

/// The rule, or what is wrong with it (the caller adds the flag and the quoted rule).
fn parse_rule(text: &str) -> Result<Rule, String> {
    if text.is_empty() {
        return Err(format!("the rule is empty; write {GRAMMAR}, e.g. tcp:127.0.0.1:8080"));
    }
    if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("a rule contains no blanks or control characters, and this one has {c:?}"));
    }

    // Keywords in front, in grammar order, each at most once.
    let mut proto = None;
    let mut direction = None;
    let mut rest = text;
    while let Some((word, after)) = rest.split_once(':') {
        let word = word.to_ascii_lowercase();
        match word.as_str() {
            "tcp" | "udp" => {
                if proto.is_some() {
                    return Err(
                        "the protocol is given twice; write one of tcp: or udp:, or neither for both".into(),
                    );
                }
                if let Some(d) = direction {
                    return Err(format!("the protocol comes before the direction: write {word}:{d}:{after}"));
                }
                proto = Some(if word == "tcp" { Proto::Tcp } else { Proto::Udp });
            }
            "connect" | "bind" => {
                if direction.is_some() {
                    return Err(
                        "the direction is given twice; write one of connect: or bind:, or neither for both"
                            .into(),
                    );
                }
                direction = Some(if word == "bind" { Direction::Bind } else { Direction::Connect });
            }
            _ => break,
        }
        rest = after;
    }
    if rest.is_empty() {
        return Err(format!(
            "the host is missing after '{text}'; write an address, a network, a name or public, \
             as in {text}127.0.0.1 or {text}localhost:8080"
        ));
    }

    let (host, ports) = if let Some(bracketed) = rest.strip_prefix('[') {
        let Some((inside, after)) = bracketed.split_once(']') else {
            return Err(format!(
                "'[' is not closed; write an IPv6 address as [::1] or [::1]:8080, not '{rest}'"
            ));
        };
        let ports = match after.strip_prefix(':') {
            _ if after.is_empty() => None,
            Some(ports) => Some(ports),
            None => return Err(format!("after ']' comes ':PORT', ':LOW-HIGH' or nothing, not '{after}'")),
        };
        (parse_bracketed(inside)?, ports)
    } else {
        match rest.split_once(':') {
            None => (parse_bare(rest)?, None),
            Some((host, ports)) if !ports.contains(':') => (parse_bare(host)?, Some(ports)),
            Some((first, _)) => return Err(too_many_colons(rest, first)),
        }
    };
    let ports = match ports {
        None => PortRange::ALL,
        Some(ports) => parse_ports(ports)?,
    };
    Ok(Rule { proto, direction, host, ports })
}

/// What to say about a rule whose host part has more than one ':'.
fn too_many_colons(rest: &str, first: &str) -> String {
    let is_v6 = |s: &str| {
        let addr = s.split_once('/').map_or(s, |(addr, _)| addr);
        addr.parse::<Ipv6Addr>().is_ok()
    };
    if is_v6(rest) {
        // `::1:80` is itself an address: offer both readings rather than guess.
        if let Some((addr, port)) = rest.rsplit_once(':')
            && is_v6(addr)
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
        {
            return format!(
                "an IPv6 address goes in brackets: write [{rest}] for that address on every port, \
                 or [{addr}]:{port} for port {port} of {addr}"
            );
        }
        return format!("an IPv6 address goes in brackets: write [{rest}], or [{rest}]:PORT");
    }
    if let Some((addr, _)) = rest.rsplit_once(':')
        && is_v6(addr)
    {
        return format!("an IPv6 address goes in brackets: write [{addr}]:PORT");
    }
    if !first.is_empty() && first.bytes().all(|b| b.is_ascii_alphabetic()) {
        return format!(
            "'{first}' is not a protocol (tcp, udp) or a direction (connect, bind); a rule is {GRAMMAR}"
        );
    }
    format!(
        "'{rest}' has more than one ':' after the host; a rule is {GRAMMAR}, with IPv6 addresses in brackets"
    )
}

/// The inside of `[...]`: an IPv6 address or network.
fn parse_bracketed(inside: &str) -> Result<Host, String> {
    if inside.is_empty() {
        return Err(
            "the brackets are empty; write an IPv6 address such as [::1] or a network such as [fd00::/8]"
                .into(),
        );
    }
    let addr = inside.split_once('/').map_or(inside, |(addr, _)| addr);
    if addr.parse::<Ipv4Addr>().is_ok() {
        return Err(format!("brackets are for IPv6 only; write {inside} without them"));
    }
    if addr.contains('%') {
        return Err(format!(
            "'{addr}' has a zone index ('%'), which rules do not take; write the address alone"
        ));
    }
    let Ok(v6) = addr.parse::<Ipv6Addr>() else {
        return Err(format!("'{addr}' is not an IPv6 address; write one such as [::1] or [2001:db8::1]"));
    };
    if inside.contains('/') {
        Ok(Host::Net(inside.parse::<Cidr>().map_err(|e| e.problem)?))
    } else {
        Ok(Host::Net(Cidr::single(IpAddr::V6(v6))))
    }
}

/// A host outside brackets: `public`, an IPv4 address or network, or a name.
fn parse_bare(host: &str) -> Result<Host, String> {
    if host.is_empty() {
        return Err(format!(
            "the host is missing before ':'; write an address, a network, a name or public, as in {GRAMMAR}"
        ));
    }
    if host.eq_ignore_ascii_case("public") {
        return Ok(Host::Public);
    }
    if let Some((addr, _)) = host.split_once('/') {
        if addr.parse::<Ipv6Addr>().is_ok() {
            return Err(format!("an IPv6 network goes in brackets: write [{host}]"));
        }
        if addr.parse::<Ipv4Addr>().is_err() {
            return Err(format!(
                "'{addr}' is not an IPv4 address, and only addresses take a mask; write e.g. 10.0.0.0/8, or a name without '/'"
            ));
        }
        return Ok(Host::Net(host.parse::<Cidr>().map_err(|e| e.problem)?));
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Ok(Host::Net(Cidr::single(IpAddr::V4(v4))));
    }
    Ok(Host::Name(parse_name(host)?))
}

/// The longest DNS name, without its trailing dot, and the longest label.
const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

fn parse_name(host: &str) -> Result<ResolvePattern, String> {
    if host == "*" {
        return Err(
            "'*' alone would allow every address that any name resolves to; write public for every public \
             address, or the networks 0.0.0.0/0 and [::]/0 for every address"
                .into(),
        );
    }
    if let Some(keyword) = KEYWORDS.iter().find(|k| host.eq_ignore_ascii_case(k)) {
        return Err(format!(
            "'{keyword}' is a keyword and needs a host after it ({keyword}:HOST); a host named {keyword} \
             is written with its trailing dot, {keyword}."
        ));
    }
    if !host.is_ascii() {
        return Err(format!(
            "'{host}' is not ASCII; write an international name in its xn-- (punycode) form"
        ));
    }
    if let Some(c) =
        host.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*')))
    {
        return Err(format!(
            "'{host}' is not an address or a host name: {c:?} is not allowed (names are letters, digits, '-', '_' and '.')"
        ));
    }
    let pattern: ResolvePattern = host.parse().map_err(|e: super::PolicyError| e.problem)?;
    let name = match &pattern {
        ResolvePattern::Exact(name) => name.as_str(),
        ResolvePattern::Suffix(suffix) => &suffix[1..],
        ResolvePattern::Any => return Err("'*' alone is not a name".into()),
    };
    if name.len() > MAX_NAME {
        return Err(format!("the name is {} bytes long; a DNS name has at most {MAX_NAME}", name.len()));
    }
    if let Some(label) = name.split('.').find(|label| label.len() > MAX_LABEL) {
        return Err(format!(
            "the label '{label}' is {} bytes long; a DNS label has at most {MAX_LABEL}",
            label.len()
        ));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!(
            "'{host}' is not an IPv4 address; write four decimal numbers 0-255, e.g. 127.0.0.1"
        ));
    }
    if name.rsplit('.').next().is_some_and(|last| last.starts_with(|c: char| c.is_ascii_digit())) {
        return Err(format!(
            "'{host}' ends in a label that starts with a digit, which resolvers may read as an IPv4 address; \
             write the address as four decimal numbers, e.g. 127.0.0.1"
        ));
    }
    Ok(pattern)
}

/// `PORT` or `LOW-HIGH`.
fn parse_ports(text: &str) -> Result<PortRange, String> {
    if text.is_empty() {
        return Err("the port is missing after ':'; write HOST:PORT or HOST:LOW-HIGH, or leave out ':' for every port".into());
    }
    let Some((low, high)) = text.split_once('-') else {
        return Ok(PortRange::single(parse_port(text, text)?));
    };
    let (low, high) = (parse_port(low, text)?, parse_port(high, text)?);
    PortRange::new(low, high)
        .ok_or_else(|| format!("the port range {low}-{high} is backwards; write {high}-{low}"))
}

fn parse_port(port: &str, ports: &str) -> Result<u16, String> {
    if port.is_empty() {
        return Err(format!("the port range '{ports}' lacks a port; write LOW-HIGH, e.g. 8000-8080"));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{port}' is not a port; write a decimal number 0-65535, or LOW-HIGH"));
    }
    // Only digits are left, so the one way to fail is a number too large.
    port.parse().map_err(|_| format!("port {port} is out of range (0-65535)"))
}

/// Whether `ip` is a public unicast address: one `--allow-net=public` allows.
///
/// Not public: loopback, unspecified, private (10/8, 172.16/12, 192.168/16), CGNAT
/// (100.64/10), link-local (169.254/16, fe80::/10), multicast, broadcast and the rest of
/// 240/4, 0/8, IETF protocol assignments (192.0.0/24, 2001::/23 with Teredo), documentation
/// (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20), benchmarking
/// (198.18/15), the 6to4 relay anycast 192.88.99/24, unique-local fc00::/7, and every IPv6
/// address outside global unicast 2000::/3. Cloud metadata services are covered by those
/// (169.254.169.254, fd00:ec2::254, 100.100.100.200, 192.0.0.192), and Azure's WireServer
/// 168.63.129.16, public only on paper, is excluded by name.
///
/// Addresses that carry an IPv4 address are judged as it: IPv4-mapped `::ffff:a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:AABB:CCDD::/48`. The list errs towards refusing:
/// a few anycast services of the IETF blocks are public but refused.
pub fn is_public_unicast(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

const fn v4_net(a: u8, b: u8, c: u8, d: u8, prefix: u32) -> (u32, u32) {
    (Ipv4Addr::new(a, b, c, d).to_bits(), prefix)
}

const NOT_PUBLIC_V4: [(u32, u32); 16] = [
    v4_net(0, 0, 0, 0, 8),
    v4_net(10, 0, 0, 0, 8),
    v4_net(100, 64, 0, 0, 10),
    v4_net(127, 0, 0, 0, 8),
    v4_net(169, 254, 0, 0, 16),
    v4_net(172, 16, 0, 0, 12),
    v4_net(192, 0, 0, 0, 24),
    v4_net(192, 0, 2, 0, 24),
    v4_net(192, 88, 99, 0, 24),
    v4_net(192, 168, 0, 0, 16),
    v4_net(198, 18, 0, 0, 15),
    v4_net(198, 51, 100, 0, 24),
    v4_net(203, 0, 113, 0, 24),
    v4_net(224, 0, 0, 0, 4),
    v4_net(240, 0, 0, 0, 4),
    v4_net(168, 63, 129, 16, 32),
];

fn in_v4(addr: u32, (base, prefix): (u32, u32)) -> bool {
    // A /0 would shift by 32; no entry has one.
    prefix != 0 && (addr ^ base) >> (32 - prefix) == 0
}

fn is_public_v4(addr: Ipv4Addr) -> bool {
    let bits = addr.to_bits();
    !NOT_PUBLIC_V4.iter().any(|&net| in_v4(bits, net))
}

fn in_v6(addr: u128, base: Ipv6Addr, prefix: u32) -> bool {
    prefix != 0 && (addr ^ base.to_bits()) >> (128 - prefix) == 0
}

const NAT64: Ipv6Addr = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0);
const SIX_TO_FOUR: Ipv6Addr = Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0);
const GLOBAL_UNICAST: Ipv6Addr = Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0);
const NOT_PUBLIC_V6: [(Ipv6Addr, u32); 3] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
];

fn is_public_v6(addr: Ipv6Addr) -> bool {
    let bits = addr.to_bits();
    // A translator sends these to the IPv4 address they carry.
    if in_v6(bits, NAT64, 96) {
        return is_public_v4(Ipv4Addr::from_bits(bits as u32));
    }
    if in_v6(bits, SIX_TO_FOUR, 16) {
        return is_public_v4(Ipv4Addr::from_bits((bits >> 80) as u32));
    }
    in_v6(bits, GLOBAL_UNICAST, 3) && !NOT_PUBLIC_V6.iter().any(|&(net, prefix)| in_v6(bits, net, prefix))
}

/// The most (address, name) pairs one instance remembers. Resolving many names under a
/// `*.suffix` rule could otherwise grow the set without bound; past this, the oldest pair
/// is forgotten (resolving that name again brings it back).
pub const MAX_LEARNED: usize = 4096;

/// The addresses this instance's lookups returned for names that name rules cover: what
/// makes `--allow-net=localhost:8080` allow 127.0.0.1:8080 once the guest has resolved
/// `localhost`, and no other address. One per instance: a clone starts empty, so what one
/// instance resolved never opens an address to another.
#[derive(Debug, Default)]
pub struct LearnedAddrs {
    inner: Mutex<Learned>,
}

#[derive(Debug, Default)]
struct Learned {
    /// The names each address was returned for (lower case, no trailing dot).
    names: HashMap<IpAddr, Vec<Arc<str>>>,
    /// Every (address, name) pair, oldest first, for forgetting past [`MAX_LEARNED`].
    order: VecDeque<(IpAddr, Arc<str>)>,
}

impl Clone for LearnedAddrs {
    fn clone(&self) -> Self {
        LearnedAddrs::default()
    }
}

impl LearnedAddrs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Learned> {
        // The maps are consistent after every statement that a panic could interrupt.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers that resolving `name` (already normalized) returned `addrs`.
    pub(super) fn insert(&self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) {
        let name: Arc<str> = Arc::from(name);
        let mut learned = self.lock();
        for addr in addrs {
            let addr = addr.to_canonical();
            let names = learned.names.entry(addr).or_default();
            if names.iter().any(|n| **n == *name) {
                continue;
            }
            names.push(name.clone());
            learned.order.push_back((addr, name.clone()));
            while learned.order.len() > MAX_LEARNED {
                let Some((old_addr, old_name)) = learned.order.pop_front() else { break };
                if let Some(names) = learned.names.get_mut(&old_addr) {
                    names.retain(|n| *n != old_name);
                    if names.is_empty() {
                        learned.names.remove(&old_addr);
                    }
                }
            }
        }
    }

    /// The first name `addr` was returned for that satisfies `wanted`.
    pub(super) fn find_name(&self, addr: IpAddr, mut wanted: impl FnMut(&str) -> bool) -> Option<Arc<str>> {
        let learned = self.lock();
        learned.names.get(&addr.to_canonical())?.iter().find(|n| wanted(n)).cloned()
    }

    /// How many (address, name) pairs are remembered.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AddrPool, DecidedBy, Policy};
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn policy(allow: &str, deny: &str, pool: &str) -> Policy {
        let mut p = Policy::default();
        if !allow.is_empty() {
            p.allow_net = Rule::parse_list(ALLOW_NET, allow).unwrap();
        }
        if !deny.is_empty() {
            p.deny_net = Rule::parse_list(DENY_NET, deny).unwrap();
        }
        for c in AddrPool::parse_list(pool).unwrap() {
            p.addr_pool.insert(c);
        }
        p
    }

    fn allows(p: &Policy, call: Call, proto: Proto, addr: &str, port: u16) -> bool {
        p.decide(call, proto, ip(addr), port).allowed()
    }

    #[test]
    fn good_rules_print_canonically() {
        let table = [
            ("127.0.0.1", "127.0.0.1"),
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            ("TCP:Connect:127.0.0.1:8000-8080", "tcp:connect:127.0.0.1:8000-8080"),
            ("udp:127.0.0.1:5353", "udp:127.0.0.1:5353"),
            ("bind:127.0.0.1:0", "bind:127.0.0.1:0"),
            ("127.0.0.1/32", "127.0.0.1"),
            ("10.0.0.0/8:22", "10.0.0.0/8:22"),
            ("127.0.0.1:0-65535", "127.0.0.1"),
            ("[::1]", "[::1]"),
            ("[::1]:80", "[::1]:80"),
            ("[fd00::/8]:1-2", "[fd00::/8]:1-2"),
            ("[::ffff:127.0.0.1]:80", "127.0.0.1:80"),
            ("[::ffff:10.0.0.0/104]", "10.0.0.0/8"),
            ("LocalHost.:8080", "localhost:8080"),
            ("*.Example.com:443", "*.example.com:443"),
            ("api.example.com:443", "api.example.com:443"),
            ("public", "public"),
            ("tcp:public:443", "tcp:public:443"),
            ("bind.:80", "bind.:80"),
            ("public.", "public."),
            ("8080.example.com", "8080.example.com"),
        ];
        for (text, shown) in table {
            let rule = Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(rule.to_string(), shown, "{text}");
            assert_eq!(Rule::parse(shown).unwrap(), rule, "{shown} parses back");
        }
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let table = [
            ("127.0.0.1:99999", "--allow-net=127.0.0.1:99999: port 99999 is out of range (0-65535)"),
            (
                "127.0.0.1:9000-8000",
                "--allow-net=127.0.0.1:9000-8000: the port range 9000-8000 is backwards; write 8000-9000",
            ),
            (
                "127.0.0.1:",
                "--allow-net=127.0.0.1:: the port is missing after ':'; write HOST:PORT or HOST:LOW-HIGH, or leave out ':' for every port",
            ),
            (
                "127.0.0.1:-5",
                "--allow-net=127.0.0.1:-5: the port range '-5' lacks a port; write LOW-HIGH, e.g. 8000-8080",
            ),
            (
                "127.0.0.1:http",
                "--allow-net=127.0.0.1:http: 'http' is not a port; write a decimal number 0-65535, or LOW-HIGH",
            ),
            (
                "127.0.0.1/33",
                "--allow-net=127.0.0.1/33: the mask /33 is out of range: an IPv4 mask is 0 to 32",
            ),
            ("[::1/129]", "--allow-net=[::1/129]: the mask /129 is out of range: an IPv6 mask is 0 to 128"),
            ("::1", "--allow-net=::1: an IPv6 address goes in brackets: write [::1], or [::1]:PORT"),
            (
                "::1:80",
                "--allow-net=::1:80: an IPv6 address goes in brackets: write [::1:80] for that address on every port, or [::1]:80 for port 80 of ::1",
            ),
            (
                "fd00::/8",
                "--allow-net=fd00::/8: an IPv6 address goes in brackets: write [fd00::/8], or [fd00::/8]:PORT",
            ),
            (
                "[127.0.0.1]:80",
                "--allow-net=[127.0.0.1]:80: brackets are for IPv6 only; write 127.0.0.1 without them",
            ),
            (
                "[::1",
                "--allow-net=[::1: '[' is not closed; write an IPv6 address as [::1] or [::1]:8080, not '[::1'",
            ),
            ("[::1]80", "--allow-net=[::1]80: after ']' comes ':PORT', ':LOW-HIGH' or nothing, not '80'"),
            (
                "[]",
                "--allow-net=[]: the brackets are empty; write an IPv6 address such as [::1] or a network such as [fd00::/8]",
            ),
            (
                "tcp:",
                "--allow-net=tcp:: the host is missing after 'tcp:'; write an address, a network, a name or public, as in tcp:127.0.0.1 or tcp:localhost:8080",
            ),
            (
                ":80",
                "--allow-net=:80: the host is missing before ':'; write an address, a network, a name or public, as in [tcp|udp:][connect|bind:]HOST[:PORT|:LOW-HIGH]",
            ),
            (
                "tcp:udp:x",
                "--allow-net=tcp:udp:x: the protocol is given twice; write one of tcp: or udp:, or neither for both",
            ),
            (
                "connect:tcp:x:1",
                "--allow-net=connect:tcp:x:1: the protocol comes before the direction: write tcp:connect:x:1",
            ),
            (
                "bind:connect:x",
                "--allow-net=bind:connect:x: the direction is given twice; write one of connect: or bind:, or neither for both",
            ),
            (
                "sctp:x:1",
                "--allow-net=sctp:x:1: 'sctp' is not a protocol (tcp, udp) or a direction (connect, bind); a rule is [tcp|udp:][connect|bind:]HOST[:PORT|:LOW-HIGH]",
            ),
            (
                "127.1",
                "--allow-net=127.1: '127.1' is not an IPv4 address; write four decimal numbers 0-255, e.g. 127.0.0.1",
            ),
            (
                "0x7f.0.0.1",
                "--allow-net=0x7f.0.0.1: '0x7f.0.0.1' ends in a label that starts with a digit, which resolvers may read as an IPv4 address; write the address as four decimal numbers, e.g. 127.0.0.1",
            ),
            (
                "*",
                "--allow-net=*: '*' alone would allow every address that any name resolves to; write public for every public address, or the networks 0.0.0.0/0 and [::]/0 for every address",
            ),
            (
                "*example.com",
                "--allow-net=*example.com: a wildcard must be '*.' followed by a domain, as in *.example.com",
            ),
            (
                "a..b",
                "--allow-net=a..b: a name has no empty labels ('..' or a leading '.'), as in localhost or *.example.com",
            ),
            (
                "ex/ample",
                "--allow-net=ex/ample: 'ex' is not an IPv4 address, and only addresses take a mask; write e.g. 10.0.0.0/8, or a name without '/'",
            ),
            (
                "exa$mple",
                "--allow-net=exa$mple: 'exa$mple' is not an address or a host name: '$' is not allowed (names are letters, digits, '-', '_' and '.')",
            ),
            (
                "bücher.de",
                "--allow-net=bücher.de: 'bücher.de' is not ASCII; write an international name in its xn-- (punycode) form",
            ),
            (
                "tcp",
                "--allow-net=tcp: 'tcp' is a keyword and needs a host after it (tcp:HOST); a host named tcp is written with its trailing dot, tcp.",
            ),
            ("a b", "--allow-net=a b: a rule contains no blanks or control characters, and this one has ' '"),
            (
                "",
                "--allow-net=: the rule is empty; write [tcp|udp:][connect|bind:]HOST[:PORT|:LOW-HIGH], e.g. tcp:127.0.0.1:8080",
            ),
        ];
        for (text, message) in table {
            let e = Rule::parse(text).unwrap_err();
            assert_eq!(e.to_string(), message, "{text}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(Rule::parse(&long).unwrap_err().problem.contains("at most 63"));
        let long = format!("{}com", "abcdefgh.".repeat(30));
        assert!(Rule::parse(&long).unwrap_err().problem.contains("at most 253"));
    }

    #[test]
    fn lists_refuse_empty_rules_and_name_the_flag() {
        assert_eq!(Rule::parse_list(ALLOW_NET, "127.0.0.1:80, [::1]:80").unwrap().len(), 2);
        let e = Rule::parse_list(DENY_NET, "127.0.0.1,,::1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--deny-net=127.0.0.1,,::1: rule 2 of 3 is empty; separate rules with a single ',' and no trailing ','"
        );
        let e = Rule::parse_list(DENY_NET, "").unwrap_err();
        assert!(e.problem.starts_with("the value is empty"), "{e}");
        let e = Rule::parse_list(DENY_NET, "127.0.0.1,10.0.0.1:70000").unwrap_err();
        assert_eq!(e.to_string(), "--deny-net=10.0.0.1:70000: port 70000 is out of range (0-65535)");
    }

    #[test]
    fn port_rules_allow_their_ports_only() {
        let p = policy("127.0.0.1:8080,127.0.0.1:9000-9009", "", "");
        assert!(allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 8080));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 8081));
        assert!(allows(&p, Call::Connect, Proto::Udp, "127.0.0.1", 9009));
        assert!(!allows(&p, Call::Connect, Proto::Udp, "127.0.0.1", 9010));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.2", 8080));
        assert!(allows(&p, Call::Bind, Proto::Tcp, "::ffff:127.0.0.1", 8080), "mapped is IPv4");
        assert!(!allows(&p, Call::Bind, Proto::Tcp, "127.0.0.1", 0), "port 0 is a port");
        let d = p.decide(Call::Connect, Proto::Tcp, ip("127.0.0.2"), 8080);
        assert_eq!(d.by, DecidedBy::NoRule);
        assert_eq!(d.flag_to_allow().unwrap(), "--allow-net=tcp:connect:127.0.0.2:8080");
        assert_eq!(d.to_string(), "no rule allows it (allow it with --allow-net=tcp:connect:127.0.0.2:8080)");
        let d = p.decide(Call::Connect, Proto::Tcp, ip("127.0.0.1"), 8080);
        assert_eq!(d.to_string(), "allowed by --allow-net=127.0.0.1:8080");
    }

    #[test]
    fn direction_and_protocol_rules() {
        let p = policy("bind:127.0.0.1:8080,udp:connect:[::1]:53", "", "");
        assert!(allows(&p, Call::Bind, Proto::Tcp, "127.0.0.1", 8080));
        assert!(allows(&p, Call::Listen, Proto::Tcp, "127.0.0.1", 8080));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 8080));
        assert!(!allows(&p, Call::SendTo, Proto::Udp, "127.0.0.1", 8080));
        assert!(allows(&p, Call::SendTo, Proto::Udp, "::1", 53));
        assert!(allows(&p, Call::Connect, Proto::Udp, "::1", 53));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "::1", 53));
        assert!(!allows(&p, Call::Bind, Proto::Udp, "::1", 53));
        let d = p.decide(Call::Listen, Proto::Tcp, ip("0.0.0.0"), 0);
        assert_eq!(d.flag_to_allow().unwrap(), "--allow-net=tcp:bind:0.0.0.0:0");
    }

    #[test]
    fn deny_wins_over_every_allow() {
        let p = policy("127.0.0.0/8,public", "127.0.0.2,tcp:127.0.0.1:22,8.8.8.8:53", "127.0.0.0/8");
        assert!(allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 80));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.2", 80));
        assert!(!allows(&p, Call::Bind, Proto::Udp, "::ffff:127.0.0.2", 80));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 22));
        assert!(allows(&p, Call::Connect, Proto::Udp, "127.0.0.1", 22));
        assert!(!allows(&p, Call::SendTo, Proto::Udp, "8.8.8.8", 53));
        assert!(allows(&p, Call::SendTo, Proto::Udp, "8.8.8.8", 54));
        let d = p.decide(Call::Connect, Proto::Tcp, ip("127.0.0.1"), 22);
        assert_eq!(d.to_string(), "denied by --deny-net=tcp:127.0.0.1:22, which wins over every allow");
        assert_eq!(d.flag_to_allow(), None);
        // The unspecified address reaches loopback, where the deny rule applies.
        let p = policy("", "127.0.0.1", "0.0.0.0/0");
        let d = p.decide(Call::Connect, Proto::Tcp, ip("0.0.0.0"), 80);
        assert!(!d.allowed());
        assert_eq!(d.judged, ip("127.0.0.1"));
    }

    #[test]
    fn addr_pool_answers_as_today() {
        for pool in ["127.0.0.1/32,::1/128", "0.0.0.0/32", "127.0.0.1/15", "::/0", "0.0.0.0/0,::/128", ""] {
            let p = policy("", "", pool);
            for addr in [
                "127.0.0.1",
                "127.1.2.3",
                "127.2.0.1",
                "0.0.0.0",
                "::",
                "::1",
                "::ffff:127.0.0.1",
                "10.1.2.3",
                "2001:db8::1",
            ] {
                let a = ip(addr);
                for (proto, port) in [(Proto::Tcp, 0), (Proto::Udp, 65535), (Proto::Tcp, 80)] {
                    assert_eq!(
                        p.decide(Call::Bind, proto, a, port).allowed(),
                        p.addr_pool.allows(a),
                        "bind {addr} in {pool}"
                    );
                    assert_eq!(
                        p.decide(Call::Listen, proto, a, port).allowed(),
                        p.addr_pool.allows(a),
                        "listen {addr} in {pool}"
                    );
                    // Today's rule: every address the call reaches must be in the pool.
                    let today = crate::policy::reached_by_outgoing(a).find(|&r| !p.addr_pool.allows(r));
                    for call in [Call::Connect, Call::SendTo] {
                        let d = p.decide(call, proto, a, port);
                        assert_eq!(d.allowed(), today.is_none(), "{call} {addr} in {pool}");
                        if let Some(refused) = today {
                            assert_eq!(d.judged, refused, "{call} {addr} in {pool}");
                        }
                    }
                }
            }
        }
        let p = policy("", "", "127.0.0.0/8");
        assert_eq!(
            p.decide(Call::Connect, Proto::Tcp, ip("127.0.0.9"), 1).to_string(),
            "allowed by --addr-pool=127.0.0.0/8"
        );
    }

    #[test]
    fn public_excludes_every_special_range() {
        let not_public = [
            "127.0.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "100.100.100.200",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.0.192",
            "192.88.99.1",
            "168.63.129.16",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "2001::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::8.8.8.8",
            "2002:a9fe:a9fe::1",
            "2002:0a00:0001::",
            "100::1",
            "5f00::1",
        ];
        for a in not_public {
            assert!(!is_public_unicast(ip(a)), "{a} is not public");
        }
        let public = [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
        ];
        for a in public {
            assert!(is_public_unicast(ip(a)), "{a} is public");
        }
        let p = policy("tcp:connect:public:443", "", "");
        assert!(allows(&p, Call::Connect, Proto::Tcp, "8.8.8.8", 443));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "169.254.169.254", 443));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "::ffff:169.254.169.254", 443));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "0.0.0.0", 443), "reaches loopback");
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "8.8.8.8", 80));
    }

    #[test]
    fn name_rules_allow_only_learned_addresses() {
        let p = policy("localhost:8080,*.example.com:443", "", "");
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 8080), "nothing resolved yet");
        p.learn("LocalHost.", [ip("127.0.0.1"), ip("::1")]);
        p.learn("elsewhere.org", [ip("127.0.0.2")]);
        assert_eq!(p.learned.len(), 2, "names no rule covers are not kept");
        assert!(allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 8080));
        assert!(allows(&p, Call::Connect, Proto::Udp, "::ffff:127.0.0.1", 8080));
        assert!(allows(&p, Call::Bind, Proto::Tcp, "::1", 8080));
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 8081), "the rule's port only");
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "127.0.0.2", 8080));
        assert!(
            !allows(&p, Call::Connect, Proto::Tcp, "127.0.0.1", 443),
            "learned for localhost, not example.com"
        );
        p.learn("a.example.com", [ip("93.184.216.34")]);
        let d = p.decide(Call::Connect, Proto::Tcp, ip("93.184.216.34"), 443);
        assert_eq!(
            d.to_string(),
            "allowed by --allow-net=*.example.com:443 (93.184.216.34 is an address of a.example.com)"
        );
        assert!(p.clone().learned.is_empty(), "a clone is another instance");
        assert!(p.allows_resolving("localhost") && p.allows_resolving("b.example.com"));
        assert!(!p.allows_resolving("example.com") && !p.allows_resolving("elsewhere.org"));
        let p = policy("*.example.com", "bad.example.com", "");
        assert!(!p.allows_resolving("bad.example.com") && p.allows_resolving("good.example.com"));
    }

    #[test]
    fn learning_is_bounded() {
        let p = policy("*.example.com", "", "");
        for i in 0..(MAX_LEARNED as u32 + 10) {
            p.learn(&format!("h{i}.example.com"), [IpAddr::V4(Ipv4Addr::from_bits(0x0a00_0000 + i))]);
        }
        assert_eq!(p.learned.len(), MAX_LEARNED);
        assert!(!allows(&p, Call::Connect, Proto::Tcp, "10.0.0.0", 1), "the oldest is forgotten");
        assert!(allows(&p, Call::Connect, Proto::Tcp, "10.0.16.9", 1));
    }

    /// parse(display(rule)) == rule, over rules built from pieces of every kind.
    #[test]
    fn display_parses_back() {
        let protos = ["", "tcp:", "UDP:"];
        let dirs = ["", "connect:", "Bind:"];
        let hosts = [
            "1.2.3.4",
            "10.0.0.0/8",
            "[::1]",
            "[fe80::/10]",
            "[::ffff:1.2.3.4/120]",
            "Host.Example.",
            "*.x.org",
            "public",
            "tcp.",
            "PUBLIC.",
        ];
        let ports = ["", ":0", ":65535", ":1-2", ":0-65535", ":007"];
        let mut n = 0;
        for proto in protos {
            for dir in dirs {
                for host in hosts {
                    for port in ports {
                        let text = format!("{proto}{dir}{host}{port}");
                        let rule = Rule::parse(&text).unwrap_or_else(|e| panic!("{e}"));
                        let shown = rule.to_string();
                        assert_eq!(Rule::parse(&shown), Ok(rule), "{text} → {shown}");
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, 540);
    }
}
