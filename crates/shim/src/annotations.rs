//! The policy of a container, from the `wasock.*` OCI annotations of its bundle.
//!
//! The values are read by the same parsers as the `wasock` command's flags and a bad one gets
//! the same message, with the annotation's name in place of the flag's.

use std::time::Duration;

use wasock::CtxBuilder;

/// The annotations the shim reads: each stands for the `wasock` flag of the same name.
pub const KEYS: &[&str] = &[
    "wasock.addr-pool",
    "wasock.allow-resolve",
    "wasock.allow-net",
    "wasock.deny-net",
    "wasock.allow-peer",
    "wasock.policy",
    "wasock.max-fds",
    "wasock.timeout",
    "wasock.trace",
];

/// What the annotations set besides the guest's context.
#[derive(Debug, Default, PartialEq)]
pub struct Settings {
    /// `wasock.timeout`: stop the guest after this long.
    pub timeout: Option<Duration>,
    /// `wasock.trace`: `--trace`.
    pub trace: bool,
}

/// Keeps the `wasock.*` entries of an OCI spec's `annotations` object (its config.json as
/// text); the rest belongs to others. No `annotations`, or none of ours, means an empty list:
/// no network.
pub fn from_config_json(text: &[u8]) -> Result<Vec<(String, String)>, String> {
    let spec: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| format!("config.json is not valid JSON: {e}"))?;
    let Some(annotations) = spec.get("annotations").and_then(|a| a.as_object()) else {
        return Ok(Vec::new());
    };
    let mut ours = Vec::new();
    for (key, value) in annotations.iter().filter(|(k, _)| k.starts_with("wasock.")) {
        let value = value
            .as_str()
            .ok_or_else(|| format!("annotation {key} is not a string in config.json: {value}"))?;
        ours.push((key.clone(), value.to_string()));
    }
    Ok(ours)
}

/// Applies the annotations to `cx`. The error is the message for the container's stderr: it
/// names the annotation and the value.
pub fn apply(annotations: &[(String, String)], cx: &mut CtxBuilder) -> Result<Settings, String> {
    let mut settings = Settings::default();
    for (key, value) in annotations {
        match key.as_str() {
            "wasock.addr-pool" => {
                cx.addr_pool(value).map_err(|e| format!("{key}={value}: {e}"))?;
            }
            // The flag is repeatable and an annotation is not: a comma-separated list (a name
            // never holds a comma). The error quotes the entry at fault.
            "wasock.allow-resolve" => {
                for pattern in value.split(',') {
                    cx.allow_resolve(pattern).map_err(|e| format!("{key}={value}: {e}"))?;
                }
            }
            "wasock.allow-net" | "wasock.deny-net" | "wasock.allow-peer" => {
                let added = match key.as_str() {
                    "wasock.allow-net" => cx.allow_net(value),
                    "wasock.deny-net" => cx.deny_net(value),
                    _ => cx.allow_peer(value),
                };
                added.map_err(|e| format!("{key}={value}: '{}': {}", e.rule, e.problem))?;
            }
            // The policy file's TOML itself: a path would name a file of the image, which
            // must never grant itself anything.
            "wasock.policy" => {
                cx.policy_text(value, key).map_err(|e| e.to_string())?;
            }
            "wasock.max-fds" => {
                cx.max_fds(wasock::parse_number(key, value)?);
            }
            "wasock.timeout" => {
                settings.timeout = Some(Duration::from_millis(wasock::parse_number(key, value)?));
            }
            "wasock.trace" => {
                settings.trace = match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(format!("{key}={value}: expected true or false")),
                };
                cx.trace(settings.trace);
            }
            _ => {
                return Err(format!(
                    "unknown annotation {key}={value}; wasock reads {} (see docs/kubernetes.md)",
                    KEYS.join(", ")
                ));
            }
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keeps_only_wasock_annotations() {
        let spec = br#"{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.sandbox-id":"x",
            "wasock.addr-pool":"127.0.0.1/32"}}"#;
        assert_eq!(from_config_json(spec).unwrap(), pairs(&[("wasock.addr-pool", "127.0.0.1/32")]));
        assert!(from_config_json(br#"{"ociVersion":"1.0.2"}"#).unwrap().is_empty());
        assert!(
            from_config_json(br#"{"annotations":{"wasock.trace":1}}"#).unwrap_err().contains("wasock.trace")
        );
        assert!(from_config_json(b"{").unwrap_err().contains("config.json"));
    }

    #[test]
    fn applies_every_key() {
        let mut cx = CtxBuilder::new();
        let set = apply(
            &pairs(&[
                ("wasock.addr-pool", "127.0.0.1/32,::1/128"),
                ("wasock.allow-resolve", "localhost,*.example.com"),
                ("wasock.allow-net", "tcp:connect:localhost:8080,bind:127.0.0.1:9000"),
                ("wasock.deny-net", "127.0.0.1:22"),
                ("wasock.allow-peer", "127.0.0.0/8"),
                ("wasock.policy", "deny-net = [\"127.0.0.1:23\"]"),
                ("wasock.max-fds", "64"),
                ("wasock.timeout", "1500"),
                ("wasock.trace", "true"),
            ]),
            &mut cx,
        )
        .unwrap();
        assert_eq!(set, Settings { timeout: Some(Duration::from_millis(1500)), trace: true });
        let cx = cx.build().unwrap();
        assert_eq!(cx.policy.addr_pool.grants().len(), 2);
        let rules = |r: &[wasock::policy::Rule]| r.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        assert_eq!(rules(&cx.policy.allow_net), ["tcp:connect:localhost:8080", "bind:127.0.0.1:9000"]);
        assert_eq!(rules(&cx.policy.deny_net), ["127.0.0.1:22", "127.0.0.1:23"]);
        assert_eq!(rules(&cx.policy.allow_peer), ["127.0.0.0/8"]);
    }

    #[test]
    fn errors_name_the_annotation_and_value() {
        let err = |k: &str, v: &str| apply(&pairs(&[(k, v)]), &mut CtxBuilder::new()).unwrap_err();
        assert!(err("wasock.addr-pool", "127.0.0.1/33").starts_with("wasock.addr-pool=127.0.0.1/33: "));
        assert!(err("wasock.allow-resolve", "a..b").starts_with("wasock.allow-resolve=a..b: "));
        assert_eq!(
            err("wasock.allow-net", "127.0.0.1:80,127.0.0.1:99999"),
            "wasock.allow-net=127.0.0.1:80,127.0.0.1:99999: '127.0.0.1:99999': port 99999 is out of range (0-65535)"
        );
        assert!(err("wasock.allow-peer", "bind:127.0.0.1").contains("a peer rule has no direction"));
        assert!(err("wasock.policy", "addr-pool = [\"x\"]\n").starts_with("wasock.policy:1: addr-pool: "));
        assert_eq!(err("wasock.max-fds", "many"), "wasock.max-fds=many: expected a whole number");
        assert_eq!(err("wasock.timeout", "-1"), "wasock.timeout=-1: expected a whole number");
        assert_eq!(err("wasock.trace", "yes"), "wasock.trace=yes: expected true or false");
        assert!(err("wasock.adr-pool", "x").starts_with("unknown annotation wasock.adr-pool=x;"));
    }
}
