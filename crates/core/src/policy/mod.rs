//! What a guest may reach on the network. Denied by default.
//!
//! Authority enters only here: `--addr-pool` builds the [`AddrPool`] and `--allow-resolve`
//! the [`ResolveAllowList`]. A denial is EACCES for the guest (spec §7) and, with `--trace`,
//! a line naming the flag that would allow it.

mod pool;
mod resolve;

pub use pool::{AddrPool, Cidr};
pub use resolve::{ResolveAllowList, ResolvePattern};

use std::fmt;

/// The network policy of one instance.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Addresses the guest may bind, connect or send to.
    pub addr_pool: AddrPool,
    /// Names the guest may resolve.
    pub allow_resolve: ResolveAllowList,
}

/// A policy entry that could not be parsed. The message quotes the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it and how to write it instead.
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid entry '{}': {}", self.entry, self.problem)
    }
}

impl std::error::Error for PolicyError {}
