//! WASI preview 2 components: wasmtime-wasi's own implementation of every interface, under
//! wasock's policy. The policy judges each socket address (binds, connects, sends, accepted
//! and received peers) through wasmtime-wasi's `socket_addr_check`, and each name in our
//! `resolve-addresses`, which shadows wasmtime-wasi's (it only knows on and off), resolves as
//! it does and tells the policy what each name resolved to (for `--allow-net` name rules).
//! TCP and UDP are enabled only when the policy grants some address. Decisions are reported
//! by the core as a module's are.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, HasData, Linker, Resource, ResourceTable, ResourceTableError};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::SocketError;
use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    self, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{self, ErrorCode, IpAddress, IpAddressFamily, Network};
use wasmtime_wasi::p2::bindings::sockets::{tcp_create_socket, udp_create_socket};
use wasmtime_wasi::p2::{DynPollable, SocketResult, TcpSocket, UdpSocket};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsCtxView};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasock_core::Ctx;
use wasock_core::policy::{Call, Proto};

use crate::limits::{Budget, Limiter};
use crate::run::Error;

/// wasmtime-wasi keeps every resource of a component (sockets, streams, pollables, files)
/// in one table; a socket takes about four entries (itself, its streams, a pollable), so
/// the table holds this many per fd `--max-fds` allows. Past it wasmtime-wasi traps.
const RESOURCES_PER_FD: usize = 4;

/// The store data of a component instance.
pub(crate) struct ComponentHost {
    cx: Arc<Ctx>,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limiter,
    /// The name each live resolve-address stream resolves, by resource, so that the policy
    /// learns the addresses it yields.
    resolving: HashMap<u32, String>,
}

impl WasiView for ComponentHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// The linker every component gets: all of wasmtime-wasi's preview 2, with name lookup and
/// socket creation wrapped in the policy.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<ComponentHost>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    linker.allow_shadowing(true);
    let l = &mut linker;
    ip_name_lookup::add_to_linker::<ComponentHost, PolicedSockets>(l, PolicedSockets::view)?;
    tcp_create_socket::add_to_linker::<ComponentHost, PolicedSockets>(l, PolicedSockets::view)?;
    udp_create_socket::add_to_linker::<ComponentHost, PolicedSockets>(l, PolicedSockets::view)?;
    linker.allow_shadowing(false);
    Ok(linker)
}

/// Runs a command component's `wasi:cli/run` and returns its exit status: 0 when `run`
/// returns ok, 1 when it returns err, the code of `exit-with-code`.
pub(crate) fn run(
    engine: &Engine,
    linker: &Linker<ComponentHost>,
    component: &Component,
    cx: Arc<Ctx>,
    budget: &Arc<Budget>,
    timeout: Option<Duration>,
) -> Result<i32, Error> {
    let exports_run =
        component.component_type().exports(engine).any(|(name, _)| name.starts_with("wasi:cli/run@0.2."));
    if !exports_run {
        return Err(Error::Instantiate(
            "the component exports no wasi:cli/run@0.2 interface; wasock runs WASI preview 2 command \
             components (what wasm32-wasip2 builds from a program with a main)"
                .to_string(),
        ));
    }
    let wasi = wasi_ctx(&cx).map_err(|e| Error::Instantiate(format!("{e:#}")))?;
    let max_fds = cx.table().max();
    let capacity = max_fds as usize * RESOURCES_PER_FD;
    let mut table = ResourceTable::new();
    table.set_max_capacity(capacity);
    let host = ComponentHost {
        cx: cx.clone(),
        wasi,
        table,
        limits: Limiter::new(budget.clone()),
        resolving: HashMap::new(),
    };
    let mut store = Store::new(engine, host);
    store.limiter(|host| &mut host.limits);
    // wasm code that never calls the host stops at the next epoch tick after --timeout.
    crate::run::stop_with_instance(&mut store, &cx);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Instantiate(format!("cannot start the async runtime for a component: {e}")))?;
    let outcome = runtime.block_on(async {
        let command = Command::instantiate_async(&mut store, component, linker)
            .await
            .map_err(|e| Error::Instantiate(format!("{e:#}")))?;
        let run = command.wasi_cli_run().call_run(&mut store);
        // A guest awaiting the host (an accept, a read) is stopped by dropping the call.
        match timeout {
            Some(limit) => tokio::time::timeout(limit, run).await.map_err(|_| Error::Timeout(limit)),
            None => Ok(run.await),
        }
    });
    // A lookup still running on a blocking thread must not hold the run open.
    runtime.shutdown_background();
    match outcome? {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None if matches!(e.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)) => {
                Err(Error::Trap(format!(
                    "the component holds more sockets, streams and files than --max-fds={max_fds} \
                     allows ({capacity} resources); raise --max-fds"
                )))
            }
            None => Err(Error::Trap(crate::run::describe_trap(&e))),
        },
    }
}

/// The guest's WASI context: its arguments, environment and directories from `cx`, the
/// host's stdio, sockets judged by the policy.
fn wasi_ctx(cx: &Arc<Ctx>) -> wasmtime::Result<WasiCtx> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut wasi = WasiCtxBuilder::new();
    wasi.inherit_stdio();
    for arg in cx.args() {
        wasi.arg(text(arg));
    }
    for var in cx.env() {
        let var = text(var);
        let (key, value) = var.split_once('=').unwrap_or((&var, ""));
        wasi.env(key, value);
    }
    // The directories the core opened, reopened by their fds (the same directories even if
    // their paths were renamed since), once the fd table's lock is released.
    let preopens: Vec<(String, String)> = cx
        .table()
        .preopens()
        .map(|(guest, dir)| (guest.to_string(), format!("/proc/self/fd/{}", dir.as_raw_fd())))
        .collect();
    for (guest, path) in preopens {
        wasi.preopened_dir(&path, guest, FsPerms::ReadWrite)?;
    }
    cx.set_socket_abi("WASI preview 2");
    let network = cx.policy.grants_network();
    wasi.allow_tcp(network).allow_udp(network).allow_ip_name_lookup(true);
    let judged = cx.clone();
    wasi.socket_addr_check(move |addr, used| {
        let allowed = allows(&judged, addr, used);
        Box::pin(async move { allowed })
    });
    Ok(wasi.build())
}

/// Whether the policy lets a component use `addr` as `used` says. A decision is reported
/// under the name of the preview 1 call that does the same, so both give one line.
fn allows(cx: &Ctx, addr: SocketAddr, used: SocketAddrUse) -> bool {
    let (import, call, proto) = match used {
        // wasmtime-wasi asks this before a connect or listen on an unbound TCP socket (the
        // kernel's implicit bind), and for an explicit bind of the same: an ephemeral port on
        // the wildcard address reaches nothing by itself, and a listen on it is judged next.
        SocketAddrUse::TcpBind if addr.ip().is_unspecified() && addr.port() == 0 => return true,
        SocketAddrUse::TcpBind => ("sock_bind", Call::Bind, Proto::Tcp),
        SocketAddrUse::UdpBind => ("sock_bind", Call::Bind, Proto::Udp),
        SocketAddrUse::TcpListen => ("sock_listen", Call::Listen, Proto::Tcp),
        SocketAddrUse::TcpConnect => ("sock_connect", Call::Connect, Proto::Tcp),
        SocketAddrUse::UdpSend => ("sock_send_to", Call::SendTo, Proto::Udp),
        // Peers: wasmtime-wasi drops a refused connection or datagram and waits for the next.
        SocketAddrUse::TcpAccept => ("sock_accept", Call::Accept, Proto::Tcp),
        SocketAddrUse::UdpReceive => ("sock_recv_from", Call::Receive, Proto::Udp),
    };
    // Every received datagram is judged: only refusals are worth a report then.
    if call == Call::Receive && cx.policy.allow_peer.is_empty() {
        return true;
    }
    cx.allows(import, call, proto, addr)
}

/// wasmtime-wasi's `wasi:sockets` functions that wasock wraps in the policy: name lookup
/// and socket creation (only when the policy grants some address).
struct PolicedSockets;

impl HasData for PolicedSockets {
    type Data<'a> = Policed<'a>;
}

/// wasmtime-wasi's sockets of one instance, with the instance's policy.
struct Policed<'a> {
    cx: Arc<Ctx>,
    sockets: WasiSocketsCtxView<'a>,
    resolving: &'a mut HashMap<u32, String>,
}

impl PolicedSockets {
    fn view(host: &mut ComponentHost) -> Policed<'_> {
        let ComponentHost { cx, wasi, table, resolving, .. } = host;
        Policed { cx: cx.clone(), sockets: WasiSocketsCtxView { ctx: wasi.sockets(), table }, resolving }
    }
}

impl Policed<'_> {
    /// AccessDenied, traced, when the policy grants no address: such a socket could bind,
    /// connect and send nowhere, so none is made.
    fn check_network(&self, what: &str) -> Result<(), SocketError> {
        if self.cx.policy.grants_network() {
            return Ok(());
        }
        self.cx.trace(format_args!(
            "denied: creating a {what} socket: the policy grants no address (allow addresses with \
             --addr-pool=CIDR or --allow-net=RULE)"
        ));
        Err(ErrorCode::AccessDenied.into())
    }
}

impl tcp_create_socket::Host for Policed<'_> {
    fn create_tcp_socket(&mut self, family: IpAddressFamily) -> SocketResult<Resource<TcpSocket>> {
        self.check_network("TCP")?;
        tcp_create_socket::Host::create_tcp_socket(&mut self.sockets, family)
    }
}

impl udp_create_socket::Host for Policed<'_> {
    async fn create_udp_socket(&mut self, family: IpAddressFamily) -> SocketResult<Resource<UdpSocket>> {
        self.check_network("UDP")?;
        udp_create_socket::Host::create_udp_socket(&mut self.sockets, family).await
    }
}

// Name lookup's errors are network's: wasmtime-wasi's conversions, unchanged.
impl network::Host for Policed<'_> {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        network::Host::convert_error_code(&mut self.sockets, error)
    }

    fn network_error_code(
        &mut self,
        err: Resource<wasmtime_wasi::p2::bindings::io::error::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        network::Host::network_error_code(&mut self.sockets, err)
    }
}

impl network::HostNetwork for Policed<'_> {
    fn drop(&mut self, network: Resource<Network>) -> wasmtime::Result<()> {
        network::HostNetwork::drop(&mut self.sockets, network)
    }
}

impl ip_name_lookup::Host for Policed<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> Result<Resource<ResolveAddressStream>, SocketError> {
        // wasmtime-wasi maps Unicode names to punycode (and full-width dots to dots) after
        // this check; judging only ASCII names keeps the name judged the name resolved.
        if !name.is_ascii() {
            return Err(ErrorCode::InvalidArgument.into());
        }
        if !self.cx.allows_resolve("resolve-addresses", &name) {
            return Err(ErrorCode::AccessDenied.into());
        }
        let name = wasock_core::policy::lookup_name(&name).ok_or(ErrorCode::InvalidArgument)?;
        let stream = ip_name_lookup::Host::resolve_addresses(&mut self.sockets, network, name.clone())?;
        self.resolving.insert(stream.rep(), name);
        Ok(stream)
    }
}

impl HostResolveAddressStream for Policed<'_> {
    fn resolve_next_address(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> Result<Option<IpAddress>, SocketError> {
        let rep = stream.rep();
        let next = self.sockets.resolve_next_address(stream)?;
        if let (Some(addr), Some(name)) = (next, self.resolving.get(&rep)) {
            let ip = match addr {
                IpAddress::Ipv4((a, b, c, d)) => std::net::IpAddr::from([a, b, c, d]),
                IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => std::net::IpAddr::from([a, b, c, d, e, f, g, h]),
            };
            self.cx.learn(name, [ip]);
        }
        Ok(next)
    }

    fn subscribe(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        HostResolveAddressStream::subscribe(&mut self.sockets, stream)
    }

    fn drop(&mut self, stream: Resource<ResolveAddressStream>) -> wasmtime::Result<()> {
        self.resolving.remove(&stream.rep());
        HostResolveAddressStream::drop(&mut self.sockets, stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(pool: &str) -> Ctx {
        let mut b = wasock_core::CtxBuilder::new();
        b.addr_pool(pool).expect("pool");
        b.build().expect("ctx")
    }

    #[test]
    fn every_use_of_an_address_is_judged_by_the_pool() {
        let cx = cx("127.0.0.1/32");
        let inside: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let outside: SocketAddr = "127.0.0.2:80".parse().unwrap();
        for used in [
            SocketAddrUse::TcpBind,
            SocketAddrUse::UdpBind,
            SocketAddrUse::TcpListen,
            SocketAddrUse::TcpConnect,
            SocketAddrUse::UdpSend,
        ] {
            assert!(allows(&cx, inside, used), "{used:?} {inside}");
            assert!(!allows(&cx, outside, used), "{used:?} {outside}");
        }
        // Connecting or sending to the wildcard address reaches loopback: judged as such.
        let wildcard: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert!(allows(&cx, wildcard, SocketAddrUse::TcpConnect));
        assert!(!allows(&self::cx("10.0.0.0/8"), wildcard, SocketAddrUse::UdpSend));
    }

    #[test]
    fn only_the_implicit_tcp_bind_of_the_wildcard_is_free() {
        let cx = cx("127.0.0.1/32");
        let implicit: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(allows(&cx, implicit, SocketAddrUse::TcpBind));
        assert!(allows(&cx, "[::]:0".parse().unwrap(), SocketAddrUse::TcpBind));
        // A fixed port on the wildcard, a UDP bind (which receives from anyone), or a
        // listen on the wildcard is a real bind.
        assert!(!allows(&cx, "0.0.0.0:8080".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!allows(&cx, implicit, SocketAddrUse::UdpBind));
        assert!(!allows(&cx, implicit, SocketAddrUse::TcpListen));
    }
}
