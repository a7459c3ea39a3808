//! The host state of one instance, and its builder.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::errno::{Errno, Result};
use crate::interrupt::Interrupt;
use crate::policy::{
    ALLOW_NET, AddrPool, Call, DENY_NET, Decision, DecisionHook, NetEvent, Policy, PolicyError,
    PolicyFileError, Proto, Rule, RuleError,
};
use crate::table::{DEFAULT_MAX_FDS, Descriptor, Dir, FdTable, File, Kind};

/// Everything the host functions of one instance share: arguments, environment, the fd
/// table, the network policy and the interruption state. All threads of an instance share one
/// `Ctx` (behind an `Arc`); locks are never held across blocking system calls.
pub struct Ctx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    table: Mutex<FdTable>,
    /// The network policy.
    pub policy: Policy,
    /// Stops blocked host calls.
    pub interrupt: Interrupt,
    trace: bool,
    /// Told every policy decision (`--net-log`, an embedder's callback).
    decision_hook: Option<DecisionHook>,
    /// The socket ABI of the module, for the decision log; set once it is known.
    socket_abi: OnceLock<&'static str>,
}

impl Ctx {
    /// The fd table, locked. Keep the guard short: never across a blocking call.
    pub fn table(&self) -> MutexGuard<'_, FdTable> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters more than stopping every later call, so poisoning is ignored.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor at `fd` if it holds every right in `need`: EBADF or ENOTCAPABLE.
    pub fn get(&self, fd: u32, need: u64) -> Result<Arc<Descriptor>, Errno> {
        let d = self.table().get(fd)?;
        d.require(need)?;
        Ok(d)
    }

    /// Adds a descriptor at the lowest free fd.
    pub fn push(&self, d: Descriptor) -> Result<u32, Errno> {
        self.table().push(d)
    }

    /// The guest's arguments, argv[0] first.
    pub fn args(&self) -> &[Vec<u8>] {
        &self.args
    }

    /// The guest's environment, one `KEY=VALUE` each.
    pub fn env(&self) -> &[Vec<u8>] {
        &self.env
    }

    /// Whether the policy lets the guest make `call` over `proto` on or to `addr` (every
    /// address a connect or send reaches, see [`crate::policy::reached_by_outgoing`]). The
    /// decision is reported as a module's ([`Ctx::report`]), under the name `import`. For
    /// socket implementations outside this crate (WASI preview 2 components), which must ask
    /// before the kernel acts.
    pub fn allows(&self, import: &str, call: Call, proto: Proto, addr: SocketAddr) -> bool {
        crate::sock::check(self, import, call, proto, addr).is_ok()
    }

    /// Whether the policy lets the guest resolve `name`; reported as [`Ctx::allows`].
    pub fn allows_resolve(&self, import: &str, name: &str) -> bool {
        crate::sock::check_resolve(self, import, name).is_ok()
    }

    /// Records that resolving `name` returned `addrs`, for `--allow-net` name rules (see
    /// [`Policy::learn`]). For resolvers outside this crate.
    pub fn learn(&self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) {
        self.policy.learn(name, addrs);
    }

    /// Tells the decision hook about `decision`, asked by the guest's `import`, and traces a
    /// denial.
    pub fn report(&self, import: &str, decision: &Decision<'_>) {
        self.log_decision(import, decision);
        if self.trace && !decision.allowed() {
            self.trace(format_args!("{}", crate::sock::denial_line(self, import, decision)));
        }
    }

    /// Tells the decision hook about `decision` (no trace line: the caller writes its own).
    pub(crate) fn log_decision(&self, import: &str, decision: &Decision<'_>) {
        if let Some(hook) = &self.decision_hook {
            hook(&NetEvent::of(self.socket_abi(), import, decision));
        }
    }

    /// Tells the decision hook about a name lookup: allowed or not, and by which flag.
    pub(crate) fn report_lookup(&self, import: &str, name: &str, rule: Option<String>, flag: Option<String>) {
        if let Some(hook) = &self.decision_hook {
            hook(&NetEvent {
                abi: self.socket_abi(),
                call: import,
                kind: "resolve",
                proto: None,
                addr: None,
                name: Some(crate::escape::guest_text(name)),
                allowed: rule.is_some(),
                rule,
                flag_to_allow: flag,
            });
        }
    }

    /// Names the module's socket ABI in decision logs (the first call wins).
    pub fn set_socket_abi(&self, name: &'static str) {
        let _ = self.socket_abi.set(name);
    }

    /// The module's socket ABI, as set by [`Ctx::set_socket_abi`]; `unknown` before.
    pub fn socket_abi(&self) -> &'static str {
        self.socket_abi.get().copied().unwrap_or("unknown")
    }

    /// Whether `--trace` is on.
    pub fn tracing(&self) -> bool {
        self.trace
    }

    /// Writes one trace line to stderr when tracing is on.
    pub fn trace(&self, line: fmt::Arguments<'_>) {
        if self.trace {
            eprintln!("[wasock] {line}");
        }
    }
}

/// Builds a [`Ctx`].
///
/// Defaults: no arguments, an empty environment, the host's stdin, stdout and stderr, no
/// preopened directories, an empty network policy (every bind, connect, send_to and name
/// lookup is denied), at most [`DEFAULT_MAX_FDS`] open fds, no tracing.
pub struct CtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdio: [Option<std::fs::File>; 3],
    preopens: Vec<(String, cap_std::fs::Dir)>,
    policy: Policy,
    max_fds: u32,
    trace: bool,
    decision_hook: Option<DecisionHook>,
}

impl Default for CtxBuilder {
    fn default() -> Self {
        CtxBuilder::new()
    }
}

impl CtxBuilder {
    /// A builder with the defaults above.
    pub fn new() -> CtxBuilder {
        CtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            stdio: [None, None, None],
            preopens: Vec::new(),
            policy: Policy::default(),
            max_fds: DEFAULT_MAX_FDS,
            trace: false,
            decision_hook: None,
        }
    }

    /// Appends one argument (argv[0] first).
    pub fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Adds `key=value` to the environment.
    pub fn env(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let mut kv = key.as_ref().to_vec();
        kv.push(b'=');
        kv.extend_from_slice(value.as_ref());
        self.env.push(kv);
        self
    }

    /// Uses `file` as the guest's stdin (0), stdout (1) or stderr (2) instead of the host's.
    /// Like the host's, it is treated as shared with others: its flags are never changed (see
    /// [`File::stdio`]). For core modules only: a component's stdio is the host's.
    pub fn stdio(&mut self, fd: usize, file: std::fs::File) -> &mut Self {
        self.stdio[fd] = Some(file);
        self
    }

    /// Grants the guest the host directory `host` under the name `guest` (`--dir`,
    /// `--map-dir`). The guest can reach nothing outside it.
    pub fn preopen_dir(&mut self, host: impl AsRef<Path>, guest: impl Into<String>) -> io::Result<&mut Self> {
        let host = host.as_ref();
        let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority()).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot open directory {}: {e}", host.display()))
        })?;
        self.preopens.push((guest.into(), dir));
        Ok(self)
    }

    /// Sets the network policy (every `--addr-pool`, `--allow-resolve`, `--allow-net`, ...).
    pub fn policy(&mut self, policy: Policy) -> &mut Self {
        self.policy = policy;
        self
    }

    /// Grants the addresses of one `--addr-pool` value (`CIDR[,CIDR...]`) for bind, connect
    /// and send_to. Nothing is granted by default.
    pub fn addr_pool(&mut self, list: &str) -> Result<&mut Self, PolicyError> {
        for cidr in AddrPool::parse_list(list)? {
            self.policy.addr_pool.insert(cidr);
        }
        Ok(self)
    }

    /// Allows resolving names matching one `--allow-resolve` pattern (`name`, `*.suffix` or
    /// `*`). Nothing is allowed by default.
    pub fn allow_resolve(&mut self, pattern: &str) -> Result<&mut Self, PolicyError> {
        self.policy.allow_resolve.insert(pattern.parse()?);
        Ok(self)
    }

    /// Lets the guest share ports with the host's sockets (SO_REUSEPORT, and SO_REUSEADDR on
    /// UDP), which lets it take part of a host service's traffic. Off by default.
    pub fn allow_port_sharing(&mut self, on: bool) -> &mut Self {
        self.policy.allow_port_sharing = on;
        self
    }

    /// Adds the rules of one `--allow-net` value (`RULE[,RULE...]`).
    pub fn allow_net(&mut self, list: &str) -> Result<&mut Self, RuleError> {
        self.policy.allow_net.extend(Rule::parse_list(ALLOW_NET, list)?);
        Ok(self)
    }

    /// Adds the rules of one `--deny-net` value; they win over every allow.
    pub fn deny_net(&mut self, list: &str) -> Result<&mut Self, RuleError> {
        self.policy.deny_net.extend(Rule::parse_list(DENY_NET, list)?);
        Ok(self)
    }

    /// Adds the rules of one `--allow-peer` value: once any is given, connections and
    /// datagrams from other peers are dropped before the guest sees them.
    pub fn allow_peer(&mut self, list: &str) -> Result<&mut Self, RuleError> {
        self.policy.allow_peer.extend(Rule::parse_peer_list(list)?);
        Ok(self)
    }

    /// Adds the entries of a `--policy` TOML file (see [`Policy::merge_file`]).
    pub fn policy_file(&mut self, path: &Path) -> Result<&mut Self, PolicyFileError> {
        self.policy.merge_file(path)?;
        Ok(self)
    }

    /// Adds the entries of policy TOML text; `source` names it in errors.
    pub fn policy_text(&mut self, text: &str, source: &str) -> Result<&mut Self, PolicyFileError> {
        self.policy.merge_file_text(text, source)?;
        Ok(self)
    }

    /// Calls `hook` with every policy decision, allowed or denied (`--net-log`).
    pub fn on_decision(&mut self, hook: DecisionHook) -> &mut Self {
        self.decision_hook = Some(hook);
        self
    }

    /// Caps the number of open fds (EMFILE past it).
    pub fn max_fds(&mut self, max: u32) -> &mut Self {
        self.max_fds = max;
        self
    }

    /// Logs each host call and each policy denial to stderr.
    pub fn trace(&mut self, on: bool) -> &mut Self {
        self.trace = on;
        self
    }

    /// Builds the context: stdio at fds 0–2, then the preopens in the order given.
    pub fn build(&mut self) -> io::Result<Ctx> {
        let mut table = FdTable::new(self.max_fds.max(3 + self.preopens.len() as u32));
        for (fd, custom) in self.stdio.iter_mut().enumerate() {
            let file = match custom.take() {
                Some(f) => f,
                None => {
                    let owned = match fd {
                        0 => io::stdin().as_fd().try_clone_to_owned(),
                        1 => io::stdout().as_fd().try_clone_to_owned(),
                        _ => io::stderr().as_fd().try_clone_to_owned(),
                    };
                    match owned {
                        Ok(o) => std::fs::File::from(o),
                        // A closed host stdio fd: give the guest /dev/null instead.
                        Err(_) => std::fs::OpenOptions::new().read(true).write(true).open("/dev/null")?,
                    }
                }
            };
            table.push(Descriptor::new(Kind::File(File::stdio(file)))).map_err(io::Error::other)?;
        }
        for (guest, dir) in self.preopens.drain(..) {
            table
                .push(Descriptor::new(Kind::Dir(Dir { dir, preopen: Some(guest) })))
                .map_err(io::Error::other)?;
        }
        Ok(Ctx {
            args: std::mem::take(&mut self.args),
            env: std::mem::take(&mut self.env),
            table: Mutex::new(table),
            policy: std::mem::take(&mut self.policy),
            interrupt: Interrupt::new()?,
            trace: self.trace,
            decision_hook: self.decision_hook.clone(),
            socket_abi: OnceLock::new(),
        })
    }
}
