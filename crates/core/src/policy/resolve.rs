use std::str::FromStr;

use super::PolicyError;

/// One `--allow-resolve` pattern: an exact name, `*.suffix` (any name that ends in
/// `.suffix`), or `*` (every name). Names compare case-insensitively and a trailing dot is
/// ignored. WAMR compares case-sensitively and treats `*x` as a bare string suffix, so that
/// `*example.com` also allows `badexample.com` (spec §7.2); we accept only `*.` wildcards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolvePattern {
    /// Every name.
    Any,
    /// Exactly this name (lower case, no trailing dot).
    Exact(String),
    /// Names ending in this suffix, which starts with a dot.
    Suffix(String),
}

fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl FromStr for ResolvePattern {
    type Err = PolicyError;

    fn from_str(entry: &str) -> Result<ResolvePattern, PolicyError> {
        let err = |problem: &str| PolicyError { entry: entry.to_string(), problem: problem.to_string() };
        if entry == "*" {
            return Ok(ResolvePattern::Any);
        }
        if entry.is_empty() {
            return Err(err("the name is empty; write a host name such as localhost or *.example.com"));
        }
        if entry.contains(',') {
            return Err(err("names contain no ','; give one name per --allow-resolve"));
        }
        if entry.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("a name contains no spaces or control characters"));
        }
        let (wild, name) = match entry.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        if name.contains('*') {
            return Err(err("'*' may appear only at the start, as in *.example.com"));
        }
        // An empty label ("a..b", "localhost..", ".a") never matches a looked-up name (only one
        // trailing dot is ignored): refuse it instead of keeping an entry that allows nothing.
        if name.contains("..") || (!wild && name.starts_with('.')) {
            return Err(err(
                "a name has no empty labels ('..' or a leading '.'), as in localhost or *.example.com",
            ));
        }
        if wild {
            if !name.starts_with('.') || name.len() < 2 {
                return Err(err("a wildcard must be '*.' followed by a domain, as in *.example.com"));
            }
            return Ok(ResolvePattern::Suffix(normalize(name)));
        }
        Ok(ResolvePattern::Exact(normalize(name)))
    }
}

impl ResolvePattern {
    /// Whether the pattern allows `host`.
    pub fn matches(&self, host: &str) -> bool {
        let host = normalize(host);
        match self {
            ResolvePattern::Any => true,
            ResolvePattern::Exact(name) => host == *name,
            ResolvePattern::Suffix(suffix) => host.len() > suffix.len() && host.ends_with(suffix.as_str()),
        }
    }
}

/// The name handed to the resolver for a guest's `host`: the form the allow-list judged
/// (lower case, one trailing dot dropped). `None` for a name that still ends in a dot
/// (`localhost..`), which names nothing. A trailing dot would make glibc skip /etc/hosts
/// and ask DNS, so `localhost.` must be looked up as `localhost`.
pub fn lookup_name(host: &str) -> Option<String> {
    let name = normalize(host);
    (!name.ends_with('.')).then_some(name)
}

/// The names a guest may resolve. Empty (the default) denies every lookup. Numeric
/// addresses must be allowed too, as in WAMR.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolveAllowList {
    patterns: Vec<ResolvePattern>,
}

impl ResolveAllowList {
    /// Allows names matching `pattern`.
    pub fn insert(&mut self, pattern: ResolvePattern) {
        self.patterns.push(pattern);
    }

    /// Whether `host` may be resolved.
    pub fn allows(&self, host: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(patterns: &[&str]) -> ResolveAllowList {
        let mut l = ResolveAllowList::default();
        for p in patterns {
            l.insert(p.parse().unwrap());
        }
        l
    }

    #[test]
    fn parse_table() {
        assert_eq!("*".parse(), Ok(ResolvePattern::Any));
        assert_eq!("LocalHost.".parse(), Ok(ResolvePattern::Exact("localhost".into())));
        assert_eq!("*.Example.com".parse(), Ok(ResolvePattern::Suffix(".example.com".into())));
        for bad in ["", "a,b", "*example.com", "*.", "a.*.com", "two words", "*x"] {
            let e = bad.parse::<ResolvePattern>().unwrap_err();
            assert!(e.to_string().contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn empty_labels_are_refused() {
        // Found by the `policy` fuzz target (fuzz/corpus/policy/crash-2f1a6a9a…): "*.ex…m5.00.."
        // was accepted as a suffix ending in '.', which no normalized host name can end with.
        for bad in ["*.ex.m5.00..", "localhost..", "a..b", ".localhost", "*..example.com", "*..", "."] {
            let e = bad.parse::<ResolvePattern>().unwrap_err();
            assert!(e.problem.contains("empty labels"), "{bad}: {e}");
        }
        // One trailing dot is still the usual absolute-name spelling.
        assert_eq!("localhost.".parse(), Ok(ResolvePattern::Exact("localhost".into())));
        assert!("*.example.com.".parse::<ResolvePattern>().unwrap().matches("a.example.com"));
    }

    #[test]
    fn lookups_never_end_in_a_dot() {
        assert_eq!(lookup_name("localhost.").as_deref(), Some("localhost"));
        assert_eq!(lookup_name("LocalHost").as_deref(), Some("localhost"));
        assert_eq!(lookup_name("127.0.0.1.").as_deref(), Some("127.0.0.1"));
        assert_eq!(lookup_name("localhost.."), None);
        assert_eq!(lookup_name("."), Some(String::new()));
    }

    #[test]
    fn matching() {
        let l = list(&["localhost", "*.example.com", "127.0.0.1"]);
        assert!(l.allows("localhost"));
        assert!(l.allows("LOCALHOST"));
        assert!(l.allows("localhost."));
        assert!(l.allows("a.example.com"));
        assert!(l.allows("x.y.Example.COM"));
        assert!(!l.allows("example.com"));
        assert!(!l.allows("badexample.com"));
        assert!(!l.allows(".example.com"));
        assert!(l.allows("127.0.0.1"));
        assert!(!l.allows("127.0.0.2"));
        assert!(!ResolveAllowList::default().allows("localhost"));
        assert!(list(&["*"]).allows("anything.at.all"));
    }
}
