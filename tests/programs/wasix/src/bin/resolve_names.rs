//! resolve_names CAPACITY NAME...: resolves each NAME through `wasix::resolve` into a buffer
//! of CAPACITY entries. Prints one line per name: `NAME count=N addrs=A,B,...` or
//! `NAME errno=N`. Entries are read as the `wasix` crate's `AddrIp` (a tag and the address
//! bytes in network order).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use wasock_wasix_programs::{args, errno, wasix};

fn main() {
    let args = args();
    let capacity: usize = args[0].parse().expect("CAPACITY");
    for name in &args[1..] {
        // SAFETY: AddrIp is plain old data; all zeros is valid.
        let mut found: Vec<wasix::AddrIp> = vec![unsafe { std::mem::zeroed() }; capacity];
        // SAFETY: `found` holds `capacity` entries and outlives the call.
        match unsafe { wasix::resolve(name, 0, found.as_mut_ptr(), capacity) } {
            Err(e) => println!("{name} errno={}", errno(e)),
            Ok(n) => {
                let shown: Vec<String> = found.iter().take(n.min(capacity)).map(address).collect();
                println!("{name} count={n} addrs={}", shown.join(","));
            }
        }
    }
}

/// An entry as text: the address, or `tagN` for an unknown tag.
fn address(entry: &wasix::AddrIp) -> String {
    // SAFETY: AddrIp is 18 plain bytes: the tag, padding, 16 address bytes.
    let raw: &[u8] = unsafe { std::slice::from_raw_parts(entry as *const _ as *const u8, 18) };
    match raw[0] {
        1 => IpAddr::V4(Ipv4Addr::new(raw[2], raw[3], raw[4], raw[5])).to_string(),
        2 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&raw[2..18]).unwrap())).to_string(),
        tag => format!("tag{tag}"),
    }
}
