use std::net::IpAddr;
use std::str::FromStr;

use super::PolicyError;

/// `ADDRESS/MASK`: a network in strict CIDR terms.
///
/// Unlike WAMR (spec §7.1, §11.11), a mask above the family's width is an error instead of
/// wrapping mod 256, an all-zero base is an ordinary network (`0.0.0.0/32` allows only
/// 0.0.0.0), and an IPv4-mapped IPv6 entry with a mask of 96 or more is an IPv4 network.
/// Host bits in the base are ignored, as in WAMR (`127.0.0.1/8` means 127.0.0.0/8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    base: IpAddr,
    prefix: u8,
}

/// The bits of an address of `ip`'s family: a full mask's length.
fn address_bits(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

impl Cidr {
    /// The network of one address (full mask). An IPv4-mapped address is its IPv4 address,
    /// as `::ffff:a.b.c.d/128` parses.
    pub fn single(addr: IpAddr) -> Cidr {
        let base = addr.to_canonical();
        Cidr { base, prefix: address_bits(base) }
    }

    /// The base address as given (host bits kept).
    pub fn base(&self) -> IpAddr {
        self.base
    }

    /// The mask length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether the network is one address (a full mask).
    pub fn is_single(&self) -> bool {
        self.prefix == address_bits(self.base)
    }

    /// Whether `addr` is inside. IPv4-mapped IPv6 addresses are judged as the IPv4 address
    /// they carry, so `::ffff:a.b.c.d` is no way around an IPv4 pool.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.base, addr.to_canonical()) {
            (IpAddr::V4(b), IpAddr::V4(a)) => prefix_eq(&b.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(b), IpAddr::V6(a)) => prefix_eq(&b.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }

    /// Whether WAMR reads this entry differently: an all-zero base (`0.0.0.0/N`, `::/N`)
    /// matches every address of its family there, whatever the mask.
    pub fn wamr_reads_as_every_address(&self) -> bool {
        self.base.is_unspecified()
    }

    /// A start-up warning for an entry that surely means WAMR's "every address": an
    /// all-zero base with a mask that is neither 0 (every address here too) nor the full
    /// width (the wildcard address alone, which servers grant to bind it).
    pub fn wamr_warning(&self) -> Option<String> {
        let width = address_bits(self.base);
        if !self.wamr_reads_as_every_address() || self.prefix == 0 || self.prefix == width {
            return None;
        }
        let (every, last) = match self.base {
            IpAddr::V4(_) => ("0.0.0.0/0", std::net::Ipv4Addr::from(u32::MAX >> self.prefix).to_string()),
            IpAddr::V6(_) => ("::/0", std::net::Ipv6Addr::from(u128::MAX >> self.prefix).to_string()),
        };
        Some(format!(
            "--addr-pool entry {self} is the network {} to {last}, not every address as WAMR reads it; \
             write {every} to allow every address of the family, or the peer's own address",
            self.base
        ))
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = (prefix / 8) as usize;
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || (a[full] ^ b[full]) & (0xffu8 << (8 - rest)) == 0
}

impl FromStr for Cidr {
    type Err = PolicyError;

    fn from_str(entry: &str) -> Result<Cidr, PolicyError> {
        let err = |problem: String| PolicyError { entry: entry.to_string(), problem };
        let Some((addr, mask)) = entry.split_once('/') else {
            return Err(err("the mask is missing; write ADDRESS/MASK, e.g. 127.0.0.1/32 or ::1/128".into()));
        };
        let base: IpAddr = addr.parse().map_err(|_| {
            err(format!("'{addr}' is not an IPv4 or IPv6 address (names are not accepted; use a numeric address such as 127.0.0.1)"))
        })?;
        if mask.is_empty() {
            return Err(err("the mask is missing after '/'; write ADDRESS/MASK, e.g. 127.0.0.1/32".into()));
        }
        let width = u32::from(address_bits(base));
        let prefix: u32 = if mask.bytes().all(|b| b.is_ascii_digit()) {
            mask.parse().unwrap_or(u32::MAX)
        } else {
            return Err(err(format!("the mask '{mask}' is not a decimal number")));
        };
        if prefix > width {
            return Err(err(format!(
                "the mask /{mask} is out of range: an {} mask is 0 to {width}",
                if width == 32 { "IPv4" } else { "IPv6" }
            )));
        }
        let mut cidr = Cidr { base, prefix: prefix as u8 };
        if let IpAddr::V6(v6) = base
            && let (Some(v4), true) = (v6.to_ipv4_mapped(), prefix >= 96)
        {
            cidr = Cidr { base: IpAddr::V4(v4), prefix: (prefix - 96) as u8 };
        }
        Ok(cidr)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// The addresses a guest may bind, connect and send to: a list of networks. Empty (the
/// default) denies everything. Ports are not restricted, as in WAMR.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrPool {
    grants: Vec<Cidr>,
}

impl AddrPool {
    /// Parses one `--addr-pool` value: entries separated by commas (empty items are skipped,
    /// as iwasm does). The first bad entry is the error.
    pub fn parse_list(list: &str) -> Result<Vec<Cidr>, PolicyError> {
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::parse).collect()
    }

    /// Grants a network.
    pub fn insert(&mut self, cidr: Cidr) {
        self.grants.push(cidr);
    }

    /// Whether `addr` may be used.
    pub fn allows(&self, addr: IpAddr) -> bool {
        self.grants.iter().any(|c| c.contains(addr))
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }

    /// What to say after a denial of `ip`: the entry that would allow it and, when the pool
    /// has an all-zero entry of the same family, how that entry differs from WAMR's reading.
    pub fn denial_hint(&self, ip: IpAddr) -> String {
        let ip = ip.to_canonical();
        let width = address_bits(ip);
        let mut hint = format!("allow it with --addr-pool={ip}/{width}");
        if let Some(zero) =
            self.grants.iter().find(|c| c.wamr_reads_as_every_address() && c.base.is_ipv4() == ip.is_ipv4())
        {
            let every = if ip.is_ipv4() { "0.0.0.0/0" } else { "::/0" };
            hint.push_str(&format!(
                "; note that {zero} grants only {zero} here, not every address as in WAMR: write {every} for that"
            ));
        }
        hint
    }

    /// The granted networks, in the order given.
    pub fn grants(&self) -> &[Cidr] {
        &self.grants
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(list: &str) -> AddrPool {
        let mut p = AddrPool::default();
        for c in AddrPool::parse_list(list).unwrap() {
            p.insert(c);
        }
        p
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_table() {
        let good = [
            ("127.0.0.1/32", "127.0.0.1/32"),
            ("127.0.0.1/15", "127.0.0.1/15"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("::1/128", "::1/128"),
            ("fe80::/10", "fe80::/10"),
            ("::ffff:127.0.0.1/128", "127.0.0.1/32"),
            ("::ffff:0.0.0.0/96", "0.0.0.0/0"),
        ];
        for (entry, shown) in good {
            assert_eq!(entry.parse::<Cidr>().unwrap().to_string(), shown, "{entry}");
        }
        let bad = [
            ("127.0.0.1", "mask is missing"),
            ("127.0.0.1/", "mask is missing"),
            ("/24", "not an IPv4 or IPv6 address"),
            ("localhost/32", "not an IPv4 or IPv6 address"),
            ("127.1/32", "not an IPv4 or IPv6 address"),
            ("0x7f.0.0.1/32", "not an IPv4 or IPv6 address"),
            ("1.2.3/8", "not an IPv4 or IPv6 address"),
            ("1.2.3.4/33", "out of range"),
            ("1.2.3.4/256", "out of range"),
            ("::1/129", "out of range"),
            ("1.2.3.4/-1", "not a decimal number"),
            ("1.2.3.4/+8", "not a decimal number"),
            ("1.2.3.4/ 8", "not a decimal number"),
            ("1.2.3.4/0x18", "not a decimal number"),
            ("1.2.3.4/8/9", "not a decimal number"),
            ("1.2.3.4/99999999999999999999", "out of range"),
        ];
        for (entry, problem) in bad {
            let e = entry.parse::<Cidr>().unwrap_err();
            assert!(e.problem.contains(problem), "{entry}: {e}");
            assert!(e.to_string().contains(entry), "message quotes the entry: {e}");
        }
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(AddrPool::parse_list("127.0.0.1/32,,::1/128").unwrap().len(), 2);
        assert!(AddrPool::parse_list("127.0.0.1/32,nope").is_err());
    }

    #[test]
    fn empty_pool_denies_everything() {
        let p = AddrPool::default();
        assert!(!p.allows(ip("127.0.0.1")));
        assert!(!p.allows(ip("::1")));
    }

    #[test]
    fn matching_is_strict_cidr() {
        let p = pool("127.0.0.1/15");
        assert!(p.allows(ip("127.1.2.3")));
        assert!(!p.allows(ip("127.2.0.1")));
        assert!(!p.allows(ip("126.255.255.255")));
        let p = pool("127.0.0.1/32");
        assert!(p.allows(ip("127.0.0.1")));
        assert!(!p.allows(ip("127.0.0.2")));
        assert!(!p.allows(ip("::1")), "families never cross");
        // WAMR lets an all-zero base match everything; we do not.
        let p = pool("0.0.0.0/32");
        assert!(!p.allows(ip("127.0.0.1")));
        assert!(p.allows(ip("0.0.0.0")));
        let p = pool("::/128");
        assert!(!p.allows(ip("::1")));
        let p = pool("::1/128,10.0.0.0/8");
        assert!(p.allows(ip("::1")));
        assert!(!p.allows(ip("::2")));
    }

    #[test]
    fn mapped_base_with_a_short_mask_is_an_ipv6_network() {
        // From the `policy` fuzz target (fuzz/corpus/policy/crash-d8fb5ff0…): below /96 a
        // mapped base stays an IPv6 network, which covers no mapped (= IPv4) address, not
        // even its own base; it does cover ordinary IPv6 addresses in its range.
        let c: Cidr = "::ffff:17.0.0.1/60".parse().unwrap();
        assert_eq!(c.to_string(), "::ffff:17.0.0.1/60");
        assert!(!c.contains(ip("::ffff:17.0.0.1")));
        assert!(!c.contains(ip("17.0.0.1")));
        assert!(c.contains(ip("::1")));
    }

    #[test]
    fn wamr_style_all_zero_entries_are_explained() {
        let c: Cidr = "0.0.0.0/15".parse().unwrap();
        let w = c.wamr_warning().expect("0.0.0.0/15 deserves a warning");
        assert!(w.contains("0.0.0.0 to 0.1.255.255") && w.contains("0.0.0.0/0"), "{w}");
        let c: Cidr = "::/8".parse().unwrap();
        assert!(c.wamr_warning().unwrap().contains("::/0"));
        for quiet in ["0.0.0.0/0", "0.0.0.0/32", "::/128", "::/0", "127.0.0.1/15"] {
            assert_eq!(quiet.parse::<Cidr>().unwrap().wamr_warning(), None, "{quiet}");
        }
        let hint = pool("0.0.0.0/15").denial_hint(ip("127.0.0.1"));
        assert!(hint.starts_with("allow it with --addr-pool=127.0.0.1/32"), "{hint}");
        assert!(hint.contains("0.0.0.0/15") && hint.contains("0.0.0.0/0"), "{hint}");
        assert!(!pool("::/8").denial_hint(ip("127.0.0.1")).contains("note"), "families never cross");
        assert_eq!(pool("").denial_hint(ip("::ffff:127.0.0.2")), "allow it with --addr-pool=127.0.0.2/32");
    }

    #[test]
    fn mapped_addresses_are_judged_as_ipv4() {
        let p = pool("127.0.0.1/32");
        assert!(p.allows(ip("::ffff:127.0.0.1")));
        assert!(!p.allows(ip("::ffff:127.0.0.2")));
        let p = pool("::/0");
        assert!(!p.allows(ip("::ffff:127.0.0.1")), "an IPv6 grant does not cover mapped IPv4");
        assert!(p.allows(ip("::1")));
    }
}
