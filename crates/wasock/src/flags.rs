//! Command-line flags, parsed in two steps as ripgrep does: [`LowArgs::parse`] only checks
//! syntax (no I/O); `main` then builds the context and policy from it.
//!
//! Options come before the module file, as with iwasm; everything after the file is the
//! guest's (or, with `-f`, the function's) arguments.

use std::ffi::OsString;
use std::fmt::Write as _;

// Compiled in here rather than taken from the library: this file is also built on its own
// (the `flags` fuzz target, core's fuzz-corpus test), with std alone.
#[path = "option.rs"]
mod option;

/// One flag: its names, the name of its value if it takes one, and its help.
pub struct FlagDef {
    /// `--long` name, without dashes.
    pub long: &'static str,
    /// `-x` name, if any.
    pub short: Option<char>,
    /// The value's placeholder; `None` for a switch.
    pub value: Option<&'static str>,
    /// One line or a few of help.
    pub help: &'static str,
}

/// Every flag, in the order `--help` lists them.
pub const FLAGS: &[FlagDef] = &[
    FlagDef {
        long: "dir",
        short: None,
        value: Some("PATH"),
        help: "Grant the guest the host directory PATH, under the same name. Repeatable.",
    },
    FlagDef {
        long: "map-dir",
        short: None,
        value: Some("GUEST::HOST"),
        help: "Grant the host directory HOST under the guest name GUEST. Repeatable.",
    },
    FlagDef {
        long: "env",
        short: None,
        value: Some("KEY=VALUE"),
        help: "Set an environment variable for the guest. Repeatable.",
    },
    FlagDef {
        long: "addr-pool",
        short: None,
        value: Some("CIDR[,CIDR...]"),
        help: "Addresses the guest may bind, connect and send to, e.g. 127.0.0.1/32,::1/128.\nRepeatable; nothing is allowed by default.",
    },
    FlagDef {
        long: "allow-resolve",
        short: None,
        value: Some("PATTERN"),
        help: "A name the guest may resolve: an exact name, *.suffix or *. Repeatable;\nnothing is allowed by default (numeric addresses too must be allowed).",
    },
    FlagDef {
        long: "allow-net",
        short: None,
        value: Some("RULE[,RULE...]"),
        help: "Allow binding, connecting or sending as RULE says:\n[tcp|udp:][connect|bind:]HOST[:PORT|:LOW-HIGH], HOST an address, a CIDR,\n[IPv6], a name (allows resolving it, then only the addresses it resolved to)\nor public (every public unicast address). Without a protocol or direction,\nboth; without a port, all. E.g. tcp:connect:localhost:8080, bind:127.0.0.1:9000,\nudp:[::1]:5353. Repeatable; adds to --addr-pool.",
    },
    FlagDef {
        long: "deny-net",
        short: None,
        value: Some("RULE[,RULE...]"),
        help: "Refuse what RULE covers (same grammar), whatever allows it; a name rule\nrefuses resolving the name. Repeatable.",
    },
    FlagDef {
        long: "allow-peer",
        short: None,
        value: Some("RULE[,RULE...]"),
        help: "Once given, accept connections and datagrams only from peers RULE covers\n([tcp|udp:]ADDRESS-OR-CIDR[:PORTS]); others are dropped before the guest sees\nthem (--trace says so). Repeatable.",
    },
    FlagDef {
        long: "policy",
        short: None,
        value: Some("FILE"),
        help: "Read more of the network policy from a TOML file whose keys are these flags'\nnames (addr-pool, allow-resolve, allow-net, deny-net, allow-peer: arrays of\nstrings; allow-port-sharing: a boolean). Adds to the flags. Repeatable.",
    },
    FlagDef {
        long: "net-log",
        short: None,
        value: Some("FILE"),
        help: "Append one JSON line per policy decision to FILE: time, ABI, call, protocol,\naddress, port, name, allow or deny, the rule that decided, the flag that\nwould allow it. Datagrams received are logged only when dropped.",
    },
    FlagDef {
        long: "allow-port-sharing",
        short: None,
        value: None,
        help: "Let the guest share ports with other sockets of the host: SO_REUSEPORT, and\nSO_REUSEADDR on UDP sockets. Off by default (EACCES), because the kernel then\nhands part of a host service's connections or datagrams to the guest.",
    },
    FlagDef {
        long: "function",
        short: Some('f'),
        value: Some("NAME"),
        help: "Call the export NAME instead of _start; the arguments after the module are\nits arguments, and its results are printed as iwasm does (0x2a:i32).",
    },
    FlagDef {
        long: "timeout",
        short: None,
        value: Some("MS"),
        help: "Stop the guest after MS milliseconds, even if it is blocked in a host call.",
    },
    FlagDef {
        long: "max-threads",
        short: None,
        value: Some("N"),
        help: "Threads a wasi-threads guest may run besides its main thread (default 64);\nthread-spawn fails past it.",
    },
    FlagDef {
        long: "max-fds",
        short: None,
        value: Some("N"),
        help: "Open files and sockets the guest may hold at once, stdio included (default\n1024); opening more fails with EMFILE. A component may hold 4 x N resources\n(sockets, streams, files) and traps past them.",
    },
    FlagDef {
        long: "max-memory",
        short: None,
        value: Some("BYTES"),
        help: "The most linear memory the instance may hold in all: every memory of every\nthread together (default 4 GiB); memory.grow fails past it.",
    },
    FlagDef {
        long: "max-table-elements",
        short: None,
        value: Some("N"),
        help: "The most table elements (function references) the instance, and each of\nits threads, may hold in all its tables (default 1000000); table.grow fails\npast it.",
    },
    FlagDef {
        long: "stack-size",
        short: None,
        value: Some("BYTES"),
        help: "Native stack available to wasm frames (wasmtime's max_wasm_stack); values\nbelow wasmtime's 512 KiB default are raised to it. The C stack of a guest\nlives in its own linear memory and is sized when it is linked.",
    },
    FlagDef {
        long: "heap-size",
        short: None,
        value: Some("BYTES"),
        help: "Accepted for iwasm compatibility and ignored: wasock has no host-managed\napp heap; guests allocate with their own malloc inside linear memory.",
    },
    FlagDef {
        long: "no-cache",
        short: None,
        value: None,
        help: "Compile the module afresh instead of reusing the compiled copy kept in\n$WASOCK_CACHE_DIR, else $XDG_CACHE_HOME/wasock, else ~/.cache/wasock.",
    },
    FlagDef {
        long: "trace",
        short: Some('v'),
        value: None,
        help: "Print each host call with its result, each policy denial with the flag that\nwould allow it, and imports wasock lacks, to stderr. -v=N (iwasm's log\nlevel) turns this on for N >= 3.",
    },
    FlagDef {
        long: "interp",
        short: None,
        value: None,
        help: "Accepted for iwasm compatibility (as are --fast-jit, --llvm-jit and\n--multi-tier-jit); wasock always compiles with Cranelift.",
    },
    FlagDef { long: "version", short: None, value: None, help: "Print the version and exit." },
    FlagDef { long: "help", short: Some('h'), value: None, help: "Print this help and exit." },
];

/// iwasm running-mode switches, accepted and ignored.
const IGNORED_SWITCHES: &[&str] = &["fast-jit", "llvm-jit", "multi-tier-jit"];

/// The parsed command line, before anything is opened.
#[derive(Debug, Default, PartialEq)]
pub struct LowArgs {
    /// `--dir` values.
    pub dirs: Vec<String>,
    /// `--map-dir` values split into (guest, host).
    pub map_dirs: Vec<(String, String)>,
    /// `--env` values split into (key, value).
    pub envs: Vec<(String, String)>,
    /// `--addr-pool` values, unparsed.
    pub addr_pools: Vec<String>,
    /// `--allow-resolve` values, unparsed.
    pub allow_resolves: Vec<String>,
    /// `--allow-net` values, unparsed.
    pub allow_nets: Vec<String>,
    /// `--deny-net` values, unparsed.
    pub deny_nets: Vec<String>,
    /// `--allow-peer` values, unparsed.
    pub allow_peers: Vec<String>,
    /// `--policy` files.
    pub policy_files: Vec<String>,
    /// `--net-log`.
    pub net_log: Option<String>,
    /// `-f` / `--function`.
    pub function: Option<String>,
    /// `--timeout` in ms.
    pub timeout_ms: Option<u64>,
    /// `--stack-size`.
    pub stack_size: Option<usize>,
    /// `--max-threads`.
    pub max_threads: Option<u32>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--max-fds`.
    pub max_fds: Option<u32>,
    /// `--max-memory` in bytes.
    pub max_memory: Option<usize>,
    /// `--max-table-elements`.
    pub max_table_elements: Option<usize>,
    /// `--allow-port-sharing`.
    pub allow_port_sharing: bool,
    /// `--trace`, `-v`, `-v=N` with N >= 3.
    pub trace: bool,
    /// What to do.
    pub mode: Mode,
}

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
pub enum Mode {
    /// Print help.
    #[default]
    Help,
    /// Print the version.
    Version,
    /// Run a module: its path and the arguments after it.
    Run {
        /// The module file.
        module: OsString,
        /// Its arguments (not including argv[0]).
        args: Vec<OsString>,
    },
}

/// A usage error: the message says which argument and what to write instead.
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

impl LowArgs {
    /// Parses `args` (without the program name).
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<LowArgs, UsageError> {
        let mut low = LowArgs::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let bytes = arg.as_encoded_bytes();
            if !(bytes.starts_with(b"-") && bytes.len() > 1) {
                low.mode = Mode::Run { module: arg, args: it.collect() };
                return Ok(low);
            }
            let Some(text) = arg.to_str() else {
                return Err(UsageError(format!(
                    "option {} is not valid UTF-8; wasock's option values are text",
                    arg.to_string_lossy()
                )));
            };
            let (name, inline) = match text.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (text, None),
            };
            if name == "-v" {
                low.trace |= match inline.as_deref() {
                    None => true,
                    Some(n) => match n.parse::<u8>() {
                        Ok(level @ 0..=5) => level >= 3,
                        _ => return Err(UsageError(format!("-v={n}: the log level is 0 to 5"))),
                    },
                };
                continue;
            }
            let def = match name.strip_prefix("--") {
                Some(long) if IGNORED_SWITCHES.contains(&long) => continue,
                Some(long) => FLAGS.iter().find(|f| f.long == long),
                None => {
                    FLAGS.iter().find(|f| f.short.is_some_and(|s| name[1..] == *s.encode_utf8(&mut [0; 4])))
                }
            }
            .ok_or_else(|| UsageError(format!("unknown option {name}; see wasock --help")))?;
            let value = match (def.value, inline) {
                (None, None) => String::new(),
                (None, Some(_)) => return Err(UsageError(format!("{name} takes no value"))),
                (Some(_), Some(v)) => v,
                (Some(placeholder), None) => match it.next() {
                    None => return Err(UsageError(format!("{name} needs a value: {name}={placeholder}"))),
                    Some(v) => v.into_string().map_err(|v| {
                        UsageError(format!(
                            "{name} {}: the value is not valid UTF-8; wasock's option values are text",
                            v.to_string_lossy()
                        ))
                    })?,
                },
            };
            if def.value.is_some() && value.is_empty() {
                return Err(UsageError(format!(
                    "{name} needs a non-empty value: {name}={}",
                    def.value.unwrap_or("")
                )));
            }
            low.apply(def.long, value)?;
            if matches!(def.long, "help" | "version") {
                return Ok(low);
            }
        }
        Err(UsageError("no module given: wasock [options] app.wasm [args...]; see wasock --help".into()))
    }

    fn apply(&mut self, long: &str, value: String) -> Result<(), UsageError> {
        let number =
            |what: &str| option::parse_number::<u64>(&format!("--{what}"), &value).map_err(UsageError);
        match long {
            "dir" => self.dirs.push(value),
            "map-dir" => {
                let (guest, host) = value.split_once("::").ok_or_else(|| {
                    UsageError(format!(
                        "--map-dir={value}: expected GUEST::HOST, e.g. --map-dir=/data::./data"
                    ))
                })?;
                self.map_dirs.push((guest.to_string(), host.to_string()));
            }
            "env" => match value.split_once('=') {
                Some((k, v)) if !k.is_empty() => self.envs.push((k.to_string(), v.to_string())),
                _ => {
                    return Err(UsageError(format!(
                        "--env={value}: expected KEY=VALUE with a non-empty KEY"
                    )));
                }
            },
            "addr-pool" => self.addr_pools.push(value),
            "allow-resolve" => self.allow_resolves.push(value),
            "allow-net" => self.allow_nets.push(value),
            "deny-net" => self.deny_nets.push(value),
            "allow-peer" => self.allow_peers.push(value),
            "policy" => self.policy_files.push(value),
            "net-log" => self.net_log = Some(value),
            "function" => self.function = Some(value),
            "timeout" => self.timeout_ms = Some(number("timeout")?),
            "stack-size" => self.stack_size = Some(number("stack-size")? as usize),
            "max-threads" => {
                self.max_threads = Some(option::parse_number("--max-threads", &value).map_err(UsageError)?)
            }
            "heap-size" => {
                number("heap-size")?;
            }
            "trace" => self.trace = true,
            "no-cache" => self.no_cache = true,
            "max-fds" => self.max_fds = Some(option::parse_number("--max-fds", &value).map_err(UsageError)?),
            "max-memory" => self.max_memory = Some(number("max-memory")? as usize),
            "max-table-elements" => self.max_table_elements = Some(number("max-table-elements")? as usize),
            "allow-port-sharing" => self.allow_port_sharing = true,
            "interp" => {}
            "version" => self.mode = Mode::Version,
            "help" => self.mode = Mode::Help,
            _ => unreachable!("every FLAGS entry is handled"),
        }
        Ok(())
    }
}

/// iwasm's rule for the exit status, which wasock follows.
pub const EXIT_STATUS_HELP: &str = "\nExit status: the guest's own (its proc_exit code, or 0 when _start returns; for\na component, 0 when wasi:cli/run returns ok, 1 for err, N for exit-with-code);\n1 when the command line is wrong (an unknown option, a missing or malformed\nvalue, a malformed policy entry or rule), when the guest traps,\nor when it runs past --timeout; 255 when the module cannot be loaded or started\n(unreadable or invalid module, a --dir that cannot be opened, a failed\ninstantiation).\n";

/// The text of `--help`, generated from [`FLAGS`].
pub fn help() -> String {
    let mut out = String::from(
        "wasock: run WebAssembly programs with real sockets (WASI preview 1 with WAMR's, WasmEdge's\n\
         or WASIX's socket ABI, whichever the module imports; --trace names it), and WASI\n\
         preview 2 components with wasi:sockets, under the same options and policy\n\n\
         Usage: wasock [options] app.wasm [args...]\n\n\
         Options (before the module, as with iwasm):\n",
    );
    for f in FLAGS {
        let mut names = String::new();
        if let Some(s) = f.short {
            let _ = write!(names, "-{s}, ");
        }
        let _ = write!(names, "--{}", f.long);
        if let Some(v) = f.value {
            let _ = write!(names, "={v}");
        }
        let _ = writeln!(out, "  {names}");
        for line in f.help.lines() {
            let _ = writeln!(out, "        {line}");
        }
    }
    out.push_str(EXIT_STATUS_HELP);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<LowArgs, UsageError> {
        LowArgs::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn options_stop_at_the_module() {
        let low = parse(&["--dir=.", "--env=A=b=c", "app.wasm", "--dir=x", "-v"]).unwrap();
        assert_eq!(low.dirs, ["."]);
        assert_eq!(low.envs, [("A".to_string(), "b=c".to_string())]);
        assert!(!low.trace);
        assert_eq!(
            low.mode,
            Mode::Run { module: "app.wasm".into(), args: vec!["--dir=x".into(), "-v".into()] }
        );
    }

    #[test]
    fn values_inline_or_separate() {
        let low = parse(&["-f", "add", "--timeout", "50", "--map-dir=/g::/h", "m.wasm", "1", "2"]).unwrap();
        assert_eq!(low.function.as_deref(), Some("add"));
        assert_eq!(low.timeout_ms, Some(50));
        assert_eq!(low.map_dirs, [("/g".to_string(), "/h".to_string())]);
        let low = parse(&["--function=add", "--addr-pool=127.0.0.1/32", "--addr-pool", "::1/128", "m.wasm"])
            .unwrap();
        assert_eq!(low.addr_pools, ["127.0.0.1/32", "::1/128"]);
    }

    #[test]
    fn verbosity() {
        assert!(parse(&["-v", "m.wasm"]).unwrap().trace);
        assert!(parse(&["--trace", "m.wasm"]).unwrap().trace);
        assert!(parse(&["-v=3", "m.wasm"]).unwrap().trace);
        assert!(!parse(&["-v=2", "m.wasm"]).unwrap().trace);
        assert!(parse(&["-v=9", "m.wasm"]).is_err());
    }

    #[test]
    fn usage_errors_name_the_argument() {
        let e = parse(&["--nope", "m.wasm"]).unwrap_err();
        assert!(e.0.contains("--nope"));
        assert!(parse(&["--env=novalue", "m.wasm"]).unwrap_err().0.contains("KEY=VALUE"));
        assert!(parse(&["--env==v", "m.wasm"]).is_err());
        assert!(parse(&["--map-dir=/x", "m.wasm"]).unwrap_err().0.contains("GUEST::HOST"));
        assert!(parse(&["--timeout=soon", "m.wasm"]).unwrap_err().0.contains("soon"));
        assert!(parse(&["--dir=", "m.wasm"]).is_err());
        assert!(parse(&["--dir"]).is_err());
        assert!(parse(&[]).unwrap_err().0.contains("no module"));
        assert!(parse(&["--version=1"]).is_err());
    }

    #[test]
    fn non_utf8_option_values_are_usage_errors_not_modules() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(b"--dir=/tmp/\xff".to_vec());
        let e = LowArgs::parse([bad, "m.wasm".into()]).unwrap_err();
        assert!(e.0.contains("not valid UTF-8") && e.0.contains("--dir="), "{}", e.0);
        let value = OsString::from_vec(b"/tmp/\xff".to_vec());
        let e = LowArgs::parse(["--dir".into(), value, "m.wasm".into()]).unwrap_err();
        assert!(e.0.contains("not valid UTF-8") && e.0.contains("--dir"), "{}", e.0);
        // A module path need not be UTF-8, nor its arguments.
        let module = OsString::from_vec(b"m\xff.wasm".to_vec());
        let low = LowArgs::parse([module.clone(), OsString::from_vec(b"-\xff".to_vec())]).unwrap();
        assert!(matches!(low.mode, Mode::Run { module: m, .. } if m == module));
    }

    #[test]
    fn limits_and_switches() {
        let low = parse(&["--max-table-elements=5000", "--allow-port-sharing", "m.wasm"]).unwrap();
        assert_eq!(low.max_table_elements, Some(5000));
        assert!(low.allow_port_sharing);
        assert!(parse(&["--allow-port-sharing=yes", "m.wasm"]).is_err());
        assert!(parse(&["--max-table-elements=many", "m.wasm"]).is_err());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&["--help"]).unwrap().mode, Mode::Help);
        assert_eq!(parse(&["-h"]).unwrap().mode, Mode::Help);
        assert_eq!(parse(&["--version", "x.wasm"]).unwrap().mode, Mode::Version);
        assert!(parse(&["--interp", "--fast-jit", "m.wasm"]).is_ok());
        let h = help();
        for f in FLAGS {
            assert!(h.contains(&format!("--{}", f.long)), "{} missing from help", f.long);
        }
    }
}
