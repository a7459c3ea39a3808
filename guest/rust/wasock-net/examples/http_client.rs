//! A small HTTP/1.1 GET client: `http_client http://HOST[:PORT]/PATH`.
//!
//! Resolves HOST with the runtime (`--allow-resolve=HOST`; IP literals need no lookup),
//! connects to the first address that accepts, sends
//! `GET /PATH HTTP/1.1` with `Host` and `Connection: close`, and prints the status line and the
//! body (chunked bodies are decoded) to stdout, the headers to stderr. Exit status: 0 for a
//! 2xx response, 1 for any other status, 2 for a usage error, 3 when the request failed.
//!
//! ```sh
//! wasock --addr-pool=127.0.0.1/32 --allow-resolve=localhost http_client.wasm http://localhost:8080/
//! ```

use std::io::{self, Read, Write};
use std::process::ExitCode;

use wasock_net::{TcpStream, lookup_host};

/// Responses larger than this are cut off, so a misbehaving server cannot exhaust memory.
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

struct Url<'a> {
    host: &'a str,
    port: u16,
    /// "host" or "host:port", as the Host header wants it.
    authority: &'a str,
    path: &'a str,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, url] = args.as_slice() else {
        eprintln!("usage: http_client http://HOST[:PORT]/PATH");
        return ExitCode::from(2);
    };
    let url = match parse_url(url) {
        Ok(url) => url,
        Err(message) => {
            eprintln!("http_client: {message}");
            return ExitCode::from(2);
        }
    };
    match get(&url) {
        Ok(status) if (200..300).contains(&status) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("http_client: {err}");
            ExitCode::from(3)
        }
    }
}

fn parse_url(url: &str) -> Result<Url<'_>, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?} is not an http:// URL (https is not supported)"))?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let (host, port) = split_host_port(authority).ok_or_else(|| format!("bad host or port in {url:?}"))?;
    if host.is_empty() {
        return Err(format!("no host in {url:?}"));
    }
    Ok(Url { host, port, authority, path })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the default port is 80.
fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => 80,
            _ => after.strip_prefix(':')?.parse().ok()?,
        };
        return Some((host, port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, port.parse().ok()?)),
        None => Some((authority, 80)),
    }
}

/// Sends the request and prints the response; returns the status code.
fn get(url: &Url<'_>) -> io::Result<u16> {
    let addrs: Vec<_> = lookup_host(url.host, url.port)?.collect();
    let mut stream = TcpStream::connect(addrs.as_slice()).map_err(|err| {
        io::Error::new(err.kind(), format!("cannot connect to {} ({addrs:?}): {err}", url.authority))
    })?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: wasock-net-http-client\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path, url.authority
    );
    stream.write_all(request.as_bytes())?;

    let mut response = Vec::new();
    (&mut stream).take(MAX_RESPONSE).read_to_end(&mut response)?;
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad response: {what}"));
    let header_end = find(&response, b"\r\n\r\n").ok_or_else(|| invalid("no end of headers"))?;
    let head = std::str::from_utf8(&response[..header_end]).map_err(|_| invalid("headers are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| invalid(&format!("status line {status_line:?}")))?;
    let mut chunked = false;
    for header in lines {
        eprintln!("{header}");
        if let Some((name, value)) = header.split_once(':') {
            chunked |= name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked");
        }
    }
    let body = &response[header_end + 4..];
    let body =
        if chunked { dechunk(body).ok_or_else(|| invalid("broken chunked body"))? } else { body.to_vec() };

    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{status_line}")?;
    stdout.write_all(&body)?;
    stdout.flush()?;
    Ok(status)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// Decodes `Transfer-Encoding: chunked` (chunk extensions and trailers are skipped).
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(body, b"\r\n")?;
        let size_field = std::str::from_utf8(&body[..line_end]).ok()?;
        let size_hex = size_field.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size..)?.strip_prefix(b"\r\n")?;
    }
}
