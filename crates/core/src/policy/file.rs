//! `--policy=FILE`: the network policy flags written down once, in a TOML file.
//!
//! ```toml
//! # wasock network policy
//! addr-pool = ["127.0.0.1/32", "::1/128"]                 # as --addr-pool
//! allow-resolve = ["localhost", "*.example.com"]          # as --allow-resolve
//! allow-net = ["tcp:connect:127.0.0.1:8080", "bind:127.0.0.1:9000-9010"]
//! deny-net = "127.0.0.1:22"                               # one string is one value
//! allow-peer = ["127.0.0.1"]                              # as --allow-peer
//! allow-port-sharing = true                               # as --allow-port-sharing
//! ```
//!
//! Each key is a flag's name without its dashes. Its value is a string or an array of
//! strings, and every string is read exactly as one value of that flag (so a comma list
//! where the flag takes one): a rule means the same in a file as on the command line.
//! `allow-port-sharing` is a boolean.
//!
//! A file only adds, as more flags would: its entries join those already in the policy, in
//! the order written, and `allow-port-sharing = false` leaves a `--allow-port-sharing` given
//! on the command line in force. So the order of `--policy` and the other flags never
//! matters, and a file cannot quietly take back what the command line granted.
//!
//! Anything else is an error rather than ignored: an ignored misspelt `deny-net` would
//! silently allow what its author meant to deny. A file with an error changes nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use toml::{Spanned, Value};

use super::{ALLOW_NET, AddrPool, Cidr, DENY_NET, Policy, PolicyError, ResolvePattern, Rule};

/// The largest policy file read (1 MiB): far more than any policy needs, and a wrong path
/// (a log, a device) fails at once instead of filling memory.
pub const MAX_POLICY_FILE_BYTES: u64 = 1 << 20;

/// A key of the file: one policy flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    AddrPool,
    AllowResolve,
    AllowNet,
    DenyNet,
    AllowPeer,
    AllowPortSharing,
}

impl Key {
    /// In the order the error for an unknown key lists them.
    const ALL: [Key; 6] = [
        Key::AddrPool,
        Key::AllowResolve,
        Key::AllowNet,
        Key::DenyNet,
        Key::AllowPeer,
        Key::AllowPortSharing,
    ];

    /// The key, which is also the flag's name without `--`.
    fn name(self) -> &'static str {
        match self {
            Key::AddrPool => "addr-pool",
            Key::AllowResolve => "allow-resolve",
            Key::AllowNet => "allow-net",
            Key::DenyNet => "deny-net",
            Key::AllowPeer => "allow-peer",
            Key::AllowPortSharing => "allow-port-sharing",
        }
    }

    fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A policy file that could not be used: where, and what is wrong.
#[derive(Debug)]
pub struct PolicyFileError {
    /// The file: its path, or the name given to [`Policy::merge_file_text`].
    pub file: String,
    /// The line (from 1) of the key at fault, when one is.
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: PolicyFileProblem,
}

/// What is wrong with a policy file.
#[derive(Debug)]
pub enum PolicyFileProblem {
    /// The file could not be read.
    Read(io::Error),
    /// The file is larger than [`MAX_POLICY_FILE_BYTES`].
    TooLarge,
    /// The file is not UTF-8 or not TOML. toml's message gives the line and column.
    Syntax(String),
    /// A top-level key or table that is not a policy flag (most likely a misspelt one).
    UnknownKey(String),
    /// A policy key whose value has the wrong type.
    WrongType {
        /// The key.
        key: &'static str,
        /// What its value must be.
        expected: &'static str,
        /// What it is (`an integer`, `a table as element 2 of the array`).
        found: String,
    },
    /// A value the flag's own parser refused.
    Entry {
        /// The key.
        key: &'static str,
        /// The flag parser's message, which quotes the flag and the value
        /// (`--allow-net=127.0.0.1:99999: port 99999 is out of range (0-65535)`).
        message: String,
    },
}

/// `FILE[:LINE]: what is wrong`, e.g.
/// `policy.toml:3: allow-net: --allow-net=127.0.0.1:99999: port 99999 is out of range (0-65535)`.
impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        match &self.problem {
            PolicyFileProblem::Read(error) => write!(f, ": cannot read the policy file: {error}"),
            PolicyFileProblem::TooLarge => write!(
                f,
                ": the policy file is larger than 1 MiB ({MAX_POLICY_FILE_BYTES} bytes), far more than a \
                 policy needs; is it the right file?"
            ),
            PolicyFileProblem::Syntax(message) => write!(f, ": {message}"),
            PolicyFileProblem::UnknownKey(key) => {
                write!(f, ": unknown key '{}'; the keys are ", key.escape_debug())?;
                for (i, known) in Key::ALL.iter().enumerate() {
                    let separator = if i == 0 { "" } else { ", " };
                    write!(f, "{separator}{}", known.name())?;
                }
                Ok(())
            }
            PolicyFileProblem::WrongType { key, expected, found } => {
                write!(f, ": {key}: expected {expected}, found {found}")
            }
            PolicyFileProblem::Entry { key, message } => write!(f, ": {key}: {message}"),
        }
    }
}

impl std::error::Error for PolicyFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            PolicyFileProblem::Read(error) => Some(error),
            _ => None,
        }
    }
}

impl Policy {
    /// Adds the policy file at `path` to this policy (see [`Policy::merge_file_text`]).
    /// Files larger than [`MAX_POLICY_FILE_BYTES`] are refused.
    pub fn merge_file(&mut self, path: &Path) -> Result<(), PolicyFileError> {
        let file_name = path.display().to_string();
        let error = |line, problem| PolicyFileError { file: file_name.clone(), line, problem };
        let file = std::fs::File::open(path).map_err(|e| error(None, PolicyFileProblem::Read(e)))?;
        // One byte past the limit is read rather than the size trusted: a pipe or a /proc
        // file reports none.
        let mut bytes = Vec::new();
        file.take(MAX_POLICY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| error(None, PolicyFileProblem::Read(e)))?;
        if bytes.len() as u64 > MAX_POLICY_FILE_BYTES {
            return Err(error(None, PolicyFileProblem::TooLarge));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let problem =
                format!("the file is not UTF-8 text (byte {at} is not valid UTF-8), which TOML requires");
            error(Some(line_at(e.as_bytes(), at)), PolicyFileProblem::Syntax(problem))
        })?;
        self.merge_file_text(&text, &file_name)
    }

    /// Adds the policy file `text` to this policy: its entries join those already present
    /// (from flags or other files), and `allow-port-sharing = true` turns sharing on while
    /// `false` leaves it as it is. `file` names the file in errors. On an error nothing is
    /// added. The format is in this module's documentation.
    pub fn merge_file_text(&mut self, text: &str, file: &str) -> Result<(), PolicyFileError> {
        let error = |line, problem| PolicyFileError { file: file.to_string(), line, problem };
        // Only the keys are spanned: toml 0.8 fails to read a spanned value holding a dotted
        // key (`a.b = 1`), and an error names the key's line, not the value's.
        let table: BTreeMap<Spanned<String>, Value> = toml::from_str(text)
            .map_err(|e| error(None, PolicyFileProblem::Syntax(e.to_string().trim_end().to_string())))?;
        // In file order, so that the error reported is the first one in the file and entries
        // are added in the order written.
        let mut entries: Vec<(usize, String, Value)> =
            table.into_iter().map(|(key, value)| (key.span().start, key.into_inner(), value)).collect();
        entries.sort_by_key(|(offset, _, _)| *offset);
        let mut additions = Additions::default();
        for (offset, key, value) in entries {
            additions
                .add(&key, value)
                .map_err(|problem| error(Some(line_at(text.as_bytes(), offset)), problem))?;
        }
        additions.merge_into(self);
        Ok(())
    }
}

/// The line (from 1) of byte `offset` of `text`.
fn line_at(text: &[u8], offset: usize) -> usize {
    text.iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

/// What a file adds, kept apart until the whole file has parsed.
#[derive(Default)]
struct Additions {
    cidrs: Vec<Cidr>,
    patterns: Vec<ResolvePattern>,
    allow_net: Vec<Rule>,
    deny_net: Vec<Rule>,
    allow_peer: Vec<Rule>,
    port_sharing: bool,
}

const STRINGS: &str = "a string or an array of strings";

impl Additions {
    /// Parses one top-level entry of the file.
    fn add(&mut self, name: &str, value: Value) -> Result<(), PolicyFileProblem> {
        let key = Key::from_name(name).ok_or_else(|| PolicyFileProblem::UnknownKey(name.to_string()))?;
        let rule_error =
            |e: super::RuleError| PolicyFileProblem::Entry { key: key.name(), message: e.to_string() };
        match key {
            Key::AddrPool => {
                for list in strings(key, value)? {
                    self.cidrs.extend(AddrPool::parse_list(&list).map_err(|e| flag_error(key, &list, e))?);
                }
            }
            Key::AllowResolve => {
                for pattern in strings(key, value)? {
                    self.patterns.push(pattern.parse().map_err(|e| flag_error(key, &pattern, e))?);
                }
            }
            Key::AllowNet => {
                for list in strings(key, value)? {
                    self.allow_net.extend(Rule::parse_list(ALLOW_NET, &list).map_err(rule_error)?);
                }
            }
            Key::DenyNet => {
                for list in strings(key, value)? {
                    self.deny_net.extend(Rule::parse_list(DENY_NET, &list).map_err(rule_error)?);
                }
            }
            Key::AllowPeer => {
                for list in strings(key, value)? {
                    self.allow_peer.extend(Rule::parse_peer_list(&list).map_err(rule_error)?);
                }
            }
            Key::AllowPortSharing => match value {
                Value::Boolean(on) => self.port_sharing |= on,
                other => {
                    let found = a_type(&other).to_string();
                    return Err(PolicyFileProblem::WrongType {
                        key: key.name(),
                        expected: "true or false",
                        found,
                    });
                }
            },
        }
        Ok(())
    }

    fn merge_into(self, policy: &mut Policy) {
        for cidr in self.cidrs {
            policy.addr_pool.insert(cidr);
        }
        for pattern in self.patterns {
            policy.allow_resolve.insert(pattern);
        }
        policy.allow_net.extend(self.allow_net);
        policy.deny_net.extend(self.deny_net);
        policy.allow_peer.extend(self.allow_peer);
        policy.allow_port_sharing |= self.port_sharing;
    }
}

/// The flag values of a list key: one string, or each string of an array.
fn strings(key: Key, value: Value) -> Result<Vec<String>, PolicyFileProblem> {
    let wrong_type = |found| PolicyFileProblem::WrongType { key: key.name(), expected: STRINGS, found };
    match value {
        Value::String(one) => Ok(vec![one]),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s),
                other => Err(wrong_type(format!("{} as element {} of the array", a_type(&other), i + 1))),
            })
            .collect(),
        other => Err(wrong_type(a_type(&other).to_string())),
    }
}

/// An `--addr-pool` or `--allow-resolve` error in the CLI's words: `--FLAG=VALUE: problem`.
fn flag_error(key: Key, value: &str, error: PolicyError) -> PolicyFileProblem {
    PolicyFileProblem::Entry { key: key.name(), message: format!("--{}={value}: {error}", key.name()) }
}

/// `a string`, `an integer`, ...: a TOML value's type for a message.
fn a_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"# wasock network policy
addr-pool = ["127.0.0.1/32", "::1/128"]     # as --addr-pool
allow-resolve = ["localhost", "*.example.com"]  # as --allow-resolve
allow-net = ["tcp:connect:127.0.0.1:8080", "bind:127.0.0.1:9000-9010"]  # as --allow-net
deny-net = ["127.0.0.1:22"]                  # as --deny-net
allow-peer = ["127.0.0.1"]                   # as --allow-peer
allow-port-sharing = true                    # as --allow-port-sharing
"#;

    /// The policy the flags of [`FULL`] give, through the flag parsers.
    fn full_by_flags() -> Policy {
        let mut p = Policy::default();
        flags(&mut p, &["127.0.0.1/32", "::1/128"], &["localhost", "*.example.com"]);
        p.allow_net =
            Rule::parse_list(ALLOW_NET, "tcp:connect:127.0.0.1:8080,bind:127.0.0.1:9000-9010").unwrap();
        p.deny_net = Rule::parse_list(DENY_NET, "127.0.0.1:22").unwrap();
        p.allow_peer = Rule::parse_peer_list("127.0.0.1").unwrap();
        p.allow_port_sharing = true;
        p
    }

    /// Adds `--addr-pool` and `--allow-resolve` values as the CLI does.
    fn flags(p: &mut Policy, pools: &[&str], patterns: &[&str]) {
        for list in pools {
            for cidr in AddrPool::parse_list(list).unwrap() {
                p.addr_pool.insert(cidr);
            }
        }
        for pattern in patterns {
            p.allow_resolve.insert(pattern.parse().unwrap());
        }
    }

    fn assert_same(got: &Policy, want: &Policy) {
        assert_eq!(got.addr_pool, want.addr_pool);
        assert_eq!(got.allow_resolve, want.allow_resolve);
        assert_eq!(got.allow_net, want.allow_net);
        assert_eq!(got.deny_net, want.deny_net);
        assert_eq!(got.allow_peer, want.allow_peer);
        assert_eq!(got.allow_port_sharing, want.allow_port_sharing);
    }

    fn merged(text: &str) -> Result<Policy, PolicyFileError> {
        let mut p = Policy::default();
        p.merge_file_text(text, "policy.toml")?;
        Ok(p)
    }

    fn error(text: &str) -> String {
        match merged(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_full_file_fills_every_field_as_the_flags_do() {
        assert_same(&merged(FULL).unwrap(), &full_by_flags());
        assert!(!full_by_flags().allow_net.is_empty() && !full_by_flags().allow_peer.is_empty());
    }

    #[test]
    fn a_string_is_one_flag_value_which_may_be_a_comma_list() {
        let text = r#"
addr-pool = "127.0.0.1/32, ::1/128"
allow-resolve = "localhost"
allow-net = ["tcp:connect:127.0.0.1:8080,bind:127.0.0.1:9000-9010"]
deny-net = "127.0.0.1:22"
allow-peer = "127.0.0.1"
allow-port-sharing = true
"#;
        let mut want = full_by_flags();
        want.allow_resolve = Default::default();
        want.allow_resolve.insert("localhost".parse().unwrap());
        assert_same(&merged(text).unwrap(), &want);
    }

    #[test]
    fn a_file_adds_to_the_flags() {
        let mut p = Policy::default();
        flags(&mut p, &["192.0.2.0/24"], &["a.example.org"]);
        p.allow_net = Rule::parse_list(ALLOW_NET, "udp:198.51.100.1:53").unwrap();
        p.deny_net = Rule::parse_list(DENY_NET, "192.0.2.7").unwrap();
        p.allow_peer = Rule::parse_peer_list("203.0.113.0/24").unwrap();
        p.allow_port_sharing = true;
        // The file's entries come after the flags', and its `false` keeps the flag's `true`.
        p.merge_file_text(
            &FULL.replace("allow-port-sharing = true", "allow-port-sharing = false"),
            "policy.toml",
        )
        .unwrap();
        let mut want = Policy::default();
        flags(
            &mut want,
            &["192.0.2.0/24", "127.0.0.1/32,::1/128"],
            &["a.example.org", "localhost", "*.example.com"],
        );
        want.allow_net = Rule::parse_list(
            ALLOW_NET,
            "udp:198.51.100.1:53,tcp:connect:127.0.0.1:8080,bind:127.0.0.1:9000-9010",
        )
        .unwrap();
        want.deny_net = Rule::parse_list(DENY_NET, "192.0.2.7,127.0.0.1:22").unwrap();
        want.allow_peer = Rule::parse_peer_list("203.0.113.0/24,127.0.0.1").unwrap();
        want.allow_port_sharing = true;
        assert_same(&p, &want);

        // A file's `true` turns sharing on; its `false` leaves it off.
        let mut p = Policy::default();
        p.merge_file_text("allow-port-sharing = false", "a.toml").unwrap();
        assert!(!p.allow_port_sharing);
        p.merge_file_text("allow-port-sharing = true", "b.toml").unwrap();
        assert!(p.allow_port_sharing);
    }

    #[test]
    fn an_empty_file_changes_nothing() {
        for text in ["", "\n\n", "# only a comment\n", "allow-net = []\naddr-pool = []"] {
            let mut p = full_by_flags();
            p.merge_file_text(text, "policy.toml").unwrap();
            assert_same(&p, &full_by_flags());
        }
    }

    #[test]
    fn a_syntax_error_gives_tomls_line_and_column() {
        let e = error("addr-pool = [\"127.0.0.1/32\"]\nallow-net = [\"127.0.0.1:80\"");
        assert!(e.starts_with("policy.toml: TOML parse error at line 2, column"), "{e}");
        let e = error("allow-net = [\"127.0.0.1:80\"]\nallow-net = [\"127.0.0.1:81\"]");
        assert!(e.starts_with("policy.toml: TOML parse error at line 2"), "{e}");
        assert!(e.contains("duplicate key"), "{e}");
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line_and_the_keys() {
        let text =
            format!("{}alow-net = [\"127.0.0.1:80\"]\n", FULL.replace("allow-port-sharing = true", ""));
        assert_eq!(
            error(&text),
            "policy.toml:8: unknown key 'alow-net'; the keys are addr-pool, allow-resolve, allow-net, \
             deny-net, allow-peer, allow-port-sharing"
        );
        assert!(error("\n[net]\nallow = true").starts_with("policy.toml:2: unknown key 'net'; the keys are"));
        assert!(error("policy = \"x\"").starts_with("policy.toml:1: unknown key 'policy';"));
        assert!(error("\n\nalow-net.tcp = true").starts_with("policy.toml:3: unknown key 'alow-net';"));
        // Keys are exact, as flag names are.
        assert!(error("Allow-Net = []").starts_with("policy.toml:1: unknown key 'Allow-Net';"));
    }

    #[test]
    fn the_first_error_in_the_file_is_reported() {
        // In a table, `allow-net` sorts before `zz`; the file has `zz` first.
        let e = error("zz = 1\nallow-net = \"127.0.0.1:99999\"");
        assert!(e.starts_with("policy.toml:1: unknown key 'zz'"), "{e}");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused() {
        for (text, want) in [
            (
                "allow-net = 80",
                "policy.toml:1: allow-net: expected a string or an array of strings, found an integer",
            ),
            (
                "\naddr-pool = [\"127.0.0.1/32\", 8]",
                "policy.toml:2: addr-pool: expected a string or an array of strings, found an integer as element 2 of the array",
            ),
            (
                "deny-net = [[\"127.0.0.1\"]]",
                "policy.toml:1: deny-net: expected a string or an array of strings, found an array as element 1 of the array",
            ),
            (
                "\n\n[allow-peer]\nhost = \"127.0.0.1\"",
                "policy.toml:3: allow-peer: expected a string or an array of strings, found a table",
            ),
            (
                "allow-resolve.name = \"localhost\"",
                "policy.toml:1: allow-resolve: expected a string or an array of strings, found a table",
            ),
            (
                "allow-port-sharing = \"yes\"",
                "policy.toml:1: allow-port-sharing: expected true or false, found a string",
            ),
            (
                "allow-port-sharing = [true]",
                "policy.toml:1: allow-port-sharing: expected true or false, found an array",
            ),
            (
                "allow-net = 1979-05-27",
                "policy.toml:1: allow-net: expected a string or an array of strings, found a date-time",
            ),
        ] {
            assert_eq!(error(text), want);
        }
    }

    #[test]
    fn a_bad_rule_is_named_with_its_line_and_the_flags_message() {
        let text =
            "# policy\naddr-pool = \"127.0.0.1/32\"\nallow-net = [\"127.0.0.1:8080\", \"127.0.0.1:99999\"]\n";
        assert_eq!(
            error(text),
            "policy.toml:3: allow-net: --allow-net=127.0.0.1:99999: port 99999 is out of range (0-65535)"
        );
        // Quoted keys are found too.
        assert_eq!(
            error("\n\"deny-net\" = [\n  \"127.0.0.1:22\",\n  \"127.0.0.1:,\",\n]"),
            "policy.toml:2: deny-net: --deny-net=127.0.0.1:,: rule 2 of 2 is empty; separate rules with a \
             single ',' and no trailing ','"
        );
    }

    #[test]
    fn a_bad_network_or_name_is_named_as_its_flag() {
        assert_eq!(
            error("addr-pool = [\"::1/128\", \"127.0.0.1/32,127.0.0.1/33\"]"),
            "policy.toml:1: addr-pool: --addr-pool=127.0.0.1/32,127.0.0.1/33: invalid entry '127.0.0.1/33': \
             the mask /33 is out of range: an IPv4 mask is 0 to 32"
        );
        assert_eq!(
            error("allow-resolve = [\"*example.com\"]"),
            "policy.toml:1: allow-resolve: --allow-resolve=*example.com: invalid entry '*example.com': \
             a wildcard must be '*.' followed by a domain, as in *.example.com"
        );
    }

    #[test]
    fn a_peer_rule_with_a_direction_is_refused() {
        assert_eq!(
            error("allow-peer = [\"127.0.0.1\", \"connect:127.0.0.1\"]"),
            "policy.toml:1: allow-peer: --allow-peer=connect:127.0.0.1: a peer rule has no direction: leave out 'connect:'"
        );
    }

    #[test]
    fn a_file_with_an_error_changes_nothing() {
        let mut p = full_by_flags();
        p.allow_port_sharing = false;
        let text = FULL
            .replace("deny-net = [\"127.0.0.1:22\"]", "deny-net = [\"127.0.0.1:22\", \"bind:127.0.0.1:x\"]");
        let e = p.merge_file_text(&text, "policy.toml").unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(matches!(e.problem, PolicyFileProblem::Entry { key: "deny-net", .. }), "{e}");
        let mut want = full_by_flags();
        want.allow_port_sharing = false;
        assert_same(&p, &want);
    }

    #[test]
    fn a_file_is_read_from_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, FULL).unwrap();
        let mut p = Policy::default();
        p.merge_file(&path).unwrap();
        assert_same(&p, &full_by_flags());

        std::fs::write(&path, "allow-net = \"127.0.0.1:99999\"").unwrap();
        let e = Policy::default().merge_file(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:1: allow-net: --allow-net=127.0.0.1:99999: port 99999 is out of range (0-65535)",
                path.display()
            )
        );

        std::fs::write(&path, b"# \xff\n").unwrap();
        let e = Policy::default().merge_file(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:1: the file is not UTF-8 text (byte 2 is not valid UTF-8), which TOML requires",
                path.display()
            )
        );

        let missing = dir.path().join("missing.toml");
        let e = Policy::default().merge_file(&missing).unwrap_err();
        assert!(
            matches!(&e.problem, PolicyFileProblem::Read(io) if io.kind() == io::ErrorKind::NotFound),
            "{e}"
        );
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("{}: cannot read the policy file: ", missing.display())),
            "{shown}"
        );
        assert!(std::error::Error::source(&e).is_some());
        let e = Policy::default().merge_file(dir.path()).unwrap_err();
        assert!(matches!(e.problem, PolicyFileProblem::Read(_)), "a directory: {e}");
    }

    #[test]
    fn a_file_over_1_mib_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        // A policy of exactly the limit (a rule, then comment lines) is read.
        let mut text = String::from("allow-net = \"127.0.0.1:80\"\n");
        let line = format!("#{}\n", " ".repeat(62));
        while text.len() + line.len() <= MAX_POLICY_FILE_BYTES as usize {
            text.push_str(&line);
        }
        text.push_str(&"#".repeat(MAX_POLICY_FILE_BYTES as usize - text.len()));
        assert_eq!(text.len() as u64, MAX_POLICY_FILE_BYTES);
        std::fs::write(&path, &text).unwrap();
        let mut p = Policy::default();
        p.merge_file(&path).unwrap();
        assert_eq!(p.allow_net.len(), 1);

        // One byte more is refused, and nothing is added.
        text.push('#');
        std::fs::write(&path, &text).unwrap();
        let e = p.merge_file(&path).unwrap_err();
        assert!(matches!(e.problem, PolicyFileProblem::TooLarge), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: the policy file is larger than 1 MiB (1048576 bytes), far more than a policy needs; \
                 is it the right file?",
                path.display()
            )
        );
        assert_eq!(p.allow_net.len(), 1);
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_at(b"a\nb\nc", 0), 1);
        assert_eq!(line_at(b"a\nb\nc", 2), 2);
        assert_eq!(line_at(b"a\nb\nc", 4), 3);
        assert_eq!(line_at(b"a\n", 99), 2);
    }
}
