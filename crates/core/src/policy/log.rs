//! What the policy decided, for `--net-log` and an embedder's callback: one [`NetEvent`] per
//! bind, listen, connect, send_to, accepted or received peer and name lookup judged, allowed
//! or denied.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use super::{Decision, Proto};

/// Called with every decision of an instance, on the thread that asked (keep it short: the
/// guest waits).
pub type DecisionHook = Arc<dyn Fn(&NetEvent<'_>) + Send + Sync>;

/// One decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetEvent<'a> {
    /// The socket ABI of the module (`WAMR`, `WASIX`, `WASI preview 2`, ...).
    pub abi: &'a str,
    /// The guest's import that asked (`sock_connect`, `connect`, `sock_addr_resolve`, ...).
    pub call: &'a str,
    /// The call as the policy judged it: `bind`, `listen`, `connect`, `send_to`, `accept`,
    /// `receive` or `resolve`.
    pub kind: &'a str,
    /// TCP or UDP; `None` for a name lookup.
    pub proto: Option<Proto>,
    /// The address the guest named, or the peer's; `None` for a name lookup.
    pub addr: Option<SocketAddr>,
    /// The name looked up, or the name a learned address came from (escaped: guest text).
    pub name: Option<String>,
    /// Whether the call went ahead.
    pub allowed: bool,
    /// The flag and rule that decided (`--allow-net=tcp:127.0.0.1:80`); `None` when nothing
    /// allowed it.
    pub rule: Option<String>,
    /// The flag that would allow a denied call; `None` when allowed or when a deny rule
    /// decided.
    pub flag_to_allow: Option<String>,
}

impl<'a> NetEvent<'a> {
    /// The event for a socket call's decision.
    pub fn of(abi: &'a str, call: &'a str, decision: &Decision<'_>) -> NetEvent<'a> {
        NetEvent {
            abi,
            call,
            kind: decision.call.name(),
            proto: Some(decision.proto),
            addr: Some(SocketAddr::new(decision.addr, decision.port)),
            name: decision.name().map(str::to_string),
            allowed: decision.allowed(),
            rule: decision.rule(),
            flag_to_allow: decision.flag_to_allow(),
        }
    }

    /// One JSON object (no newline) with `time` (Unix time in milliseconds) and every field;
    /// absent values are `null`.
    pub fn to_json(&self, unix_ms: u128) -> String {
        let mut line = format!("{{\"time\":{unix_ms},\"abi\":");
        push_json_str(&mut line, Some(self.abi));
        line.push_str(",\"call\":");
        push_json_str(&mut line, Some(self.call));
        line.push_str(",\"kind\":");
        push_json_str(&mut line, Some(self.kind));
        line.push_str(",\"proto\":");
        push_json_str(&mut line, self.proto.map(|p| if p == Proto::Tcp { "tcp" } else { "udp" }));
        let ip = self.addr.map(|a| a.ip().to_string());
        line.push_str(",\"addr\":");
        push_json_str(&mut line, ip.as_deref());
        match self.addr {
            Some(a) => {
                let _ = write!(line, ",\"port\":{}", a.port());
            }
            None => line.push_str(",\"port\":null"),
        }
        line.push_str(",\"name\":");
        push_json_str(&mut line, self.name.as_deref());
        line.push_str(if self.allowed { ",\"decision\":\"allow\"" } else { ",\"decision\":\"deny\"" });
        line.push_str(",\"rule\":");
        push_json_str(&mut line, self.rule.as_deref());
        line.push_str(",\"flag_to_allow\":");
        push_json_str(&mut line, self.flag_to_allow.as_deref());
        line.push('}');
        line
    }
}

/// `value` as a JSON string, or `null`.
fn push_json_str(out: &mut String, value: Option<&str>) {
    let Some(value) = value else {
        out.push_str("null");
        return;
    };
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ALLOW_NET, Call, Policy, Rule};

    #[test]
    fn events_are_one_json_object_with_every_field() {
        let p = Policy {
            allow_net: Rule::parse_list(ALLOW_NET, "tcp:connect:127.0.0.1:80").unwrap(),
            ..Policy::default()
        };
        let allowed = p.decide(Call::Connect, Proto::Tcp, "127.0.0.1".parse().unwrap(), 80);
        assert_eq!(
            NetEvent::of("WAMR", "sock_connect", &allowed).to_json(7),
            r#"{"time":7,"abi":"WAMR","call":"sock_connect","kind":"connect","proto":"tcp","addr":"127.0.0.1","port":80,"name":null,"decision":"allow","rule":"--allow-net=tcp:connect:127.0.0.1:80","flag_to_allow":null}"#
        );
        let denied = p.decide(Call::SendTo, Proto::Udp, "::1".parse().unwrap(), 53);
        let line = NetEvent::of("WASIX", "sock_send_to", &denied).to_json(8);
        assert!(line.contains(r#""addr":"::1","port":53,"#), "{line}");
        assert!(
            line.contains(
                r#""decision":"deny","rule":null,"flag_to_allow":"--allow-net=udp:connect:[::1]:53"}"#
            ),
            "{line}"
        );
    }

    #[test]
    fn guest_text_cannot_break_out_of_its_string() {
        let mut out = String::new();
        push_json_str(&mut out, Some("a\"b\\c\n\u{1b}é"));
        assert_eq!(out, r#""a\"b\\c\u000a\u001bé""#);
    }
}
