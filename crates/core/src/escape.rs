//! Guest-chosen text in trace and error lines.
//!
//! A name the guest passes (a host name to resolve, an import or function name in its
//! module) may hold newlines, escape sequences or bytes that are not UTF-8; printed as is,
//! it could forge a `--trace` line or rewrite the terminal. [`guest_text`] shows printable
//! ASCII as it is and everything else as `\n`, `\t`, `\\` or `\xNN`, so one guest string is
//! always one visible run of characters.

use std::fmt::Write as _;

/// `bytes` with every byte outside printable ASCII (and the backslash) escaped.
pub fn guest_text(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_and_non_ascii_are_escaped() {
        assert_eq!(guest_text("localhost"), "localhost");
        assert_eq!(guest_text("x\n[wasock] denied: y\r\x1b[2K"), "x\\n[wasock] denied: y\\r\\x1b[2K");
        assert_eq!(guest_text(b"a\\b\xff\x00\t"), "a\\\\b\\xff\\x00\\t");
        assert_eq!(guest_text("é"), "\\xc3\\xa9");
    }
}
