//! Socket options (doc §3.2, §6.1): `sock_set_opt_flag`/`sock_get_opt_flag`,
//! `sock_set_opt_time`/`sock_get_opt_time`, `sock_set_opt_size`/`sock_get_opt_size`, and the
//! multicast memberships.
//!
//! Options go to the host socket at once, in every state (wasmer keeps some in the fd until
//! the host socket exists, and refuses others by state). Rust std's two calls on a fresh or
//! bound socket therefore succeed: REUSE_ADDR before `listen`, and CONNECT_TIMEOUT read
//! before `connect`. As for WAMR, no rights are needed (the fd must be a socket: EBADF,
//! ENOTSOCK). An option number that is not of the call's kind is EINVAL, and a flag other
//! than 0 or 1 too. Port sharing (SO_REUSEPORT, and SO_REUSEADDR on UDP) is EACCES unless
//! `--allow-port-sharing`, with the same trace line as for WAMR.
//!
//! Timeouts are kept by wasock (the host socket is non-blocking): RECV_TIMEOUT and
//! SEND_TIMEOUT bound every wait of a receive or a send (and SEND_TIMEOUT a blocking connect,
//! as SO_SNDTIMEO does on Linux); they are kept in microseconds, rounded up. wasock has no
//! separate connect or accept timeout: CONNECT_TIMEOUT and ACCEPT_TIMEOUT read as NONE, and
//! setting them is ENOTSUP (a listener's RECV_TIMEOUT bounds `accept`, as SO_RCVTIMEO does).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;

use super::abi::{self, sock_option as opt, sock_proto, sock_type};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::net::{Direction, Socket};
use crate::sock::with_socket;
use crate::sys;

/// Whether the socket is IPv6 (its bound address, or the unspecified one of its family).
fn is_ipv6(sock: &Socket) -> io::Result<bool> {
    Ok(sock.socket.local_addr()?.is_ipv6())
}

/// `sock_set_opt_flag(fd, option, flag)`: flag 0 or 1 (else EINVAL); options REUSE_PORT,
/// REUSE_ADDR, NO_DELAY, DONT_ROUTE, ONLY_V6, BROADCAST, MULTICAST_LOOP_V4/V6, KEEP_ALIVE,
/// OOB_INLINE. The kernel refuses what does not suit the socket (NO_DELAY on UDP: EOPNOTSUPP
/// or ENOPROTOOPT; ONLY_V6 once bound: EINVAL).
pub fn sock_set_opt_flag(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    option: u32,
    flag: u32,
) -> Result<()> {
    let on = match flag {
        0 => false,
        1 => true,
        _ => return Err(Errno::Inval.into()),
    };
    with_socket(cx, fd, 0, |sock| {
        let s = &sock.socket;
        match option {
            opt::REUSE_PORT => {
                if on {
                    crate::sock::check_port_sharing(cx, "sock_set_opt_flag", "SO_REUSEPORT")?;
                }
                s.set_reuse_port(on)?
            }
            opt::REUSE_ADDR => {
                if on && !sock.stream {
                    crate::sock::check_port_sharing(cx, "sock_set_opt_flag", "SO_REUSEADDR on a UDP socket")?;
                }
                s.set_reuse_address(on)?
            }
            opt::NO_DELAY => s.set_tcp_nodelay(on)?,
            opt::DONT_ROUTE => {
                sys::setsockopt_int(s.as_fd(), libc::SOL_SOCKET, libc::SO_DONTROUTE, on as i32)?
            }
            opt::ONLY_V6 => s.set_only_v6(on)?,
            opt::BROADCAST => s.set_broadcast(on)?,
            opt::MULTICAST_LOOP_V4 => s.set_multicast_loop_v4(on)?,
            opt::MULTICAST_LOOP_V6 => s.set_multicast_loop_v6(on)?,
            opt::KEEP_ALIVE => s.set_keepalive(on)?,
            opt::OOB_INLINE => s.set_out_of_band_inline(on)?,
            _ => return Err(Errno::Inval.into()),
        }
        Ok(())
    })
}

/// `sock_get_opt_flag(fd, option, *flag)`: one byte, 0 or 1. The options of
/// [`sock_set_opt_flag`], and LISTENING (SO_ACCEPTCONN).
pub fn sock_get_opt_flag(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, option: u32, flag: u32) -> Result<()> {
    mem.check(flag, 1)?;
    let on = with_socket(cx, fd, 0, |sock| {
        let s = &sock.socket;
        let int = |level, name| sys::getsockopt_int(s.as_fd(), level, name).map(|v| v != 0);
        Ok(match option {
            opt::REUSE_PORT => s.reuse_port()?,
            opt::REUSE_ADDR => s.reuse_address()?,
            opt::NO_DELAY => s.tcp_nodelay()?,
            opt::DONT_ROUTE => int(libc::SOL_SOCKET, libc::SO_DONTROUTE)?,
            opt::ONLY_V6 => s.only_v6()?,
            opt::BROADCAST => s.broadcast()?,
            opt::MULTICAST_LOOP_V4 => s.multicast_loop_v4()?,
            opt::MULTICAST_LOOP_V6 => s.multicast_loop_v6()?,
            opt::LISTENING => int(libc::SOL_SOCKET, libc::SO_ACCEPTCONN)?,
            opt::KEEP_ALIVE => s.keepalive()?,
            opt::OOB_INLINE => s.out_of_band_inline()?,
            _ => return Err(Errno::Inval.into()),
        })
    })?;
    mem.write(flag, on as u8)?;
    Ok(())
}

/// Nanoseconds as the microseconds wasock keeps, rounded up so that a short timeout is not
/// none (0).
fn ns_to_us(ns: u64) -> u64 {
    ns.div_ceil(1000)
}

/// `sock_set_opt_time(fd, option, *option_timestamp)`: RECV_TIMEOUT and SEND_TIMEOUT (NONE or
/// 0 is no timeout), LINGER (NONE is off; SOME(t) is on for t seconds, rounded up, so SOME(0)
/// is the abortive close). CONNECT_TIMEOUT and ACCEPT_TIMEOUT: ENOTSUP (see the module
/// docs). Any other option, or a tag other than NONE and SOME: EINVAL.
pub fn sock_set_opt_time(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, option: u32, time: u32) -> Result<()> {
    let value = abi::decode_option_timestamp(&mem.read_array(time)?)?;
    with_socket(cx, fd, 0, |sock| {
        match option {
            opt::RECV_TIMEOUT => sock.set_timeout_us(Direction::Read, value.map_or(0, ns_to_us)),
            opt::SEND_TIMEOUT => sock.set_timeout_us(Direction::Write, value.map_or(0, ns_to_us)),
            opt::LINGER => {
                let seconds =
                    value.map_or(0, |ns| i32::try_from(ns.div_ceil(1_000_000_000)).unwrap_or(i32::MAX));
                sys::set_linger(sock.socket.as_fd(), value.is_some(), seconds)?
            }
            opt::CONNECT_TIMEOUT | opt::ACCEPT_TIMEOUT => return Err(Errno::NotSup.into()),
            _ => return Err(Errno::Inval.into()),
        }
        Ok(())
    })
}

/// `sock_get_opt_time(fd, option, *option_timestamp)`: the options of [`sock_set_opt_time`];
/// CONNECT_TIMEOUT and ACCEPT_TIMEOUT are always NONE (Rust std reads CONNECT_TIMEOUT before
/// every connect and then uses its own default).
pub fn sock_get_opt_time(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, option: u32, time: u32) -> Result<()> {
    mem.check(time, abi::OPTION_TIMESTAMP_SIZE)?;
    let value = with_socket(cx, fd, 0, |sock| {
        let timeout = |dir| match sock.timeout_us(dir) {
            0 => None,
            us => Some(us.saturating_mul(1000)),
        };
        Ok(match option {
            opt::RECV_TIMEOUT => timeout(Direction::Read),
            opt::SEND_TIMEOUT => timeout(Direction::Write),
            opt::LINGER => match sys::linger(sock.socket.as_fd())? {
                (true, seconds) => Some(u64::try_from(seconds).unwrap_or(0).saturating_mul(1_000_000_000)),
                (false, _) => None,
            },
            opt::CONNECT_TIMEOUT | opt::ACCEPT_TIMEOUT => None,
            _ => return Err(Errno::Inval.into()),
        })
    })?;
    mem.write_bytes(time, &abi::encode_option_timestamp(value))?;
    Ok(())
}

/// `sock_set_opt_size(fd, option, u64)`: RECV_BUF_SIZE and SEND_BUF_SIZE (the kernel doubles
/// and caps them), TTL (IP_TTL, or IPV6_UNICAST_HOPS on an IPv6 socket) and MULTICAST_TTL_V4.
/// A value too large for the option is EINVAL, as is any other option.
pub fn sock_set_opt_size(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    option: u32,
    size: u64,
) -> Result<()> {
    let as_usize = || usize::try_from(size).map_err(|_| Errno::Inval);
    let as_u32 = || u32::try_from(size).map_err(|_| Errno::Inval);
    with_socket(cx, fd, 0, |sock| {
        let s = &sock.socket;
        match option {
            opt::RECV_BUF_SIZE => s.set_recv_buffer_size(as_usize()?)?,
            opt::SEND_BUF_SIZE => s.set_send_buffer_size(as_usize()?)?,
            opt::TTL if is_ipv6(sock)? => s.set_unicast_hops_v6(as_u32()?)?,
            opt::TTL => s.set_ttl_v4(as_u32()?)?,
            opt::MULTICAST_TTL_V4 => s.set_multicast_ttl_v4(as_u32()?)?,
            _ => return Err(Errno::Inval.into()),
        }
        Ok(())
    })
}

/// `sock_get_opt_size(fd, option, *u64)`: the options of [`sock_set_opt_size`], and TYPE
/// (STREAM 1 or DGRAM 2) and PROTO (TCP 6 or UDP 17), which are what the socket is (wasmer:
/// EINVAL; wasix-libc asks for PROTO and ignores the answer).
pub fn sock_get_opt_size(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, option: u32, size: u32) -> Result<()> {
    mem.check(size, 8)?;
    let value = with_socket(cx, fd, 0, |sock| {
        let s = &sock.socket;
        Ok(match option {
            opt::RECV_BUF_SIZE => s.recv_buffer_size()? as u64,
            opt::SEND_BUF_SIZE => s.send_buffer_size()? as u64,
            opt::TTL if is_ipv6(sock)? => u64::from(s.unicast_hops_v6()?),
            opt::TTL => u64::from(s.ttl_v4()?),
            opt::MULTICAST_TTL_V4 => u64::from(s.multicast_ttl_v4()?),
            opt::TYPE => u64::from(if sock.stream { sock_type::STREAM } else { sock_type::DGRAM }),
            opt::PROTO => u64::from(if sock.stream { sock_proto::TCP } else { sock_proto::UDP }),
            _ => return Err(Errno::Inval.into()),
        })
    })?;
    mem.write(size, value)?;
    Ok(())
}

/// Joins or leaves an IPv4 multicast group on the interface with address `interface`
/// (0.0.0.0: the kernel's choice). Not subject to the address pool, as for WAMR: joining
/// sends nothing to a destination the guest chooses.
fn membership_v4(
    cx: &Ctx,
    mem: &GuestMemory<'_>,
    fd: u32,
    group: u32,
    interface: u32,
    join: bool,
) -> Result<()> {
    let group: Ipv4Addr = abi::read_addr_ip4(mem, group)?;
    let interface: Ipv4Addr = abi::read_addr_ip4(mem, interface)?;
    with_socket(cx, fd, 0, |sock| {
        match join {
            true => sock.socket.join_multicast_v4(&group, &interface)?,
            false => sock.socket.leave_multicast_v4(&group, &interface)?,
        }
        Ok(())
    })
}

/// Joins or leaves an IPv6 multicast group on the interface with index `interface` (0: the
/// kernel's choice).
fn membership_v6(
    cx: &Ctx,
    mem: &GuestMemory<'_>,
    fd: u32,
    group: u32,
    interface: u32,
    join: bool,
) -> Result<()> {
    let group: Ipv6Addr = abi::read_addr_ip6(mem, group)?;
    with_socket(cx, fd, 0, |sock| {
        match join {
            true => sock.socket.join_multicast_v6(&group, interface)?,
            false => sock.socket.leave_multicast_v6(&group, interface)?,
        }
        Ok(())
    })
}

/// `sock_join_multicast_v4(fd, *group, *interface)`: IP_ADD_MEMBERSHIP.
pub fn sock_join_multicast_v4(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    group: u32,
    interface: u32,
) -> Result<()> {
    membership_v4(cx, mem, fd, group, interface, true)
}

/// `sock_leave_multicast_v4(fd, *group, *interface)`: IP_DROP_MEMBERSHIP.
pub fn sock_leave_multicast_v4(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    group: u32,
    interface: u32,
) -> Result<()> {
    membership_v4(cx, mem, fd, group, interface, false)
}

/// `sock_join_multicast_v6(fd, *group, interface index)`: IPV6_JOIN_GROUP; the group's
/// groups are little-endian u16s (see [`abi::decode_addr_ip6`]).
pub fn sock_join_multicast_v6(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    group: u32,
    interface: u32,
) -> Result<()> {
    membership_v6(cx, mem, fd, group, interface, true)
}

/// `sock_leave_multicast_v6(fd, *group, interface index)`: IPV6_LEAVE_GROUP.
pub fn sock_leave_multicast_v6(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    group: u32,
    interface: u32,
) -> Result<()> {
    membership_v6(cx, mem, fd, group, interface, false)
}
