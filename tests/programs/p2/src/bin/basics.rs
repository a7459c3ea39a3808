//! basics DIR ACTION [ARGS...]: prints `argc=N` and `argI=...` for every argument (argv[0]
//! too), `env_GREETING=VALUE` (or `unset`), `read=TEXT` from DIR/in.txt, writes
//! "written by a component" to DIR/out.txt (`write=ok`), tries DIR/../outside.txt
//! (`escape=...`), then ends as ACTION says: `exit:N` exits with N, `return` returns from
//! main (status 0), `panic` panics (a trap), `spin` loops in wasm without calling the host
//! (until `--timeout`), `alloc:MIB` fills MIB MiB of memory (`allocated=MIB`),
//! `sockets:N` binds N UDP sockets on 127.0.0.1 and keeps them open (`opened=N`).

use std::fs;

use wasock_p2_programs::{report, say};

fn main() {
    let all: Vec<String> = std::env::args().collect();
    say("argc", all.len());
    for (i, a) in all.iter().enumerate() {
        say(&format!("arg{i}"), a);
    }
    say("env_GREETING", std::env::var("GREETING").unwrap_or_else(|_| "unset".to_string()));
    let dir = all.get(1).cloned().unwrap_or_default();
    match fs::read_to_string(format!("{dir}/in.txt")) {
        Ok(text) => say("read", text.trim_end()),
        Err(e) => report("read", &e),
    }
    match fs::write(format!("{dir}/out.txt"), "written by a component\n") {
        Ok(()) => say("write", "ok"),
        Err(e) => report("write", &e),
    }
    match fs::read_to_string(format!("{dir}/../outside.txt")) {
        Ok(text) => say("escape", format!("read {}", text.trim_end())),
        Err(e) => report("escape", &e),
    }
    let action = all.get(2).cloned().unwrap_or_default();
    if let Some(code) = action.strip_prefix("exit:") {
        say("exiting", code);
        std::process::exit(code.parse().expect("exit code"));
    }
    if let Some(mib) = action.strip_prefix("alloc:") {
        let mib: usize = mib.parse().expect("MiB");
        let filled = vec![1u8; mib << 20];
        // Read back so that the allocation cannot be optimized away.
        say("allocated", filled.iter().map(|&b| b as usize).sum::<usize>() >> 20);
        return;
    }
    if let Some(count) = action.strip_prefix("sockets:") {
        let count: usize = count.parse().expect("count");
        let mut open = Vec::with_capacity(count);
        for i in 0..count {
            match std::net::UdpSocket::bind(("127.0.0.1", 0)) {
                Ok(socket) => open.push(socket),
                Err(e) => {
                    say("opened", i);
                    report("socket", &e);
                    return;
                }
            }
        }
        say("opened", open.len());
        return;
    }
    match action.as_str() {
        "return" => say("returning", 0),
        "spin" => {
            say("spinning", 1);
            let mut x = 1u64;
            // Ends only when the host stops it: x never becomes 0.
            while std::hint::black_box(x) != 0 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1) | 1;
            }
        }
        "panic" => panic!("the guest panics on purpose"),
        other => {
            say("unknown_action", other);
            std::process::exit(2);
        }
    }
}
