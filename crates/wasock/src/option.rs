//! Option values that both the `wasock` command (flags) and the containerd shim (OCI
//! annotations) read, parsed by one function so that both say the same thing about a bad one.

/// Parses `value`, the value of the option `name` (`--max-fds`, `wasock.max-fds`), as a whole
/// number that fits `T`. The error is the message a person reads:
/// `--timeout=soon: expected a whole number`, `--max-fds=5000000000 is too large`.
pub fn parse_number<T: TryFrom<u64>>(name: &str, value: &str) -> Result<T, String> {
    let n: u64 = value.parse().map_err(|_| format!("{name}={value}: expected a whole number"))?;
    T::try_from(n).map_err(|_| format!("{name}={n} is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn numbers_and_their_messages() {
        assert_eq!(parse_number::<u32>("--max-fds", "64"), Ok(64));
        assert_eq!(
            parse_number::<u64>("--timeout", "soon"),
            Err("--timeout=soon: expected a whole number".to_string())
        );
        assert_eq!(
            parse_number::<u32>("wasock.max-fds", "5000000000"),
            Err("wasock.max-fds=5000000000 is too large".to_string())
        );
    }
}
