//! The host state of one instance, and its builder.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::errno::{Errno, Result};
use crate::interrupt::Interrupt;
use crate::policy::{AddrPool, Policy, PolicyError};
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

    /// Whether the policy lets the guest bind `addr`. A denial is traced as `call`'s, in the
    /// same words as for a module's sockets. For socket implementations outside this crate
    /// (WASI preview 2 components), which must ask before the kernel acts.
    pub fn allows_bind(&self, call: &str, addr: SocketAddr) -> bool {
        crate::sock::check_bind(self, call, addr).is_ok()
    }

    /// Whether the policy lets the guest connect or send to `addr` (every address that
    /// reaches, see [`crate::policy::reached_by_outgoing`]); traced as [`Ctx::allows_bind`].
    pub fn allows_destination(&self, call: &str, addr: SocketAddr) -> bool {
        crate::sock::check_destination(self, call, addr).is_ok()
    }

    /// Whether `--allow-resolve` lets the guest resolve `name`; traced as [`Ctx::allows_bind`].
    pub fn allows_resolve(&self, name: &str) -> bool {
        crate::sock::check_resolve(self, name).is_ok()
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

    /// Sets the network policy (`--addr-pool`, `--allow-resolve`).
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
        })
    }
}
