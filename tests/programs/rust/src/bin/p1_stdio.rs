//! stdio in both directions, like tests/programs/c/p1_stdio.c:
//! `echo` reads stdin to the end and prints it; `big N` writes N bytes of a pattern to stdout.

use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("echo") => {
            let mut data = Vec::new();
            std::io::stdin().take(1 << 20).read_to_end(&mut data).expect("read stdin");
            println!("stdin bytes={}", data.len());
            println!("stdin=[{}]", String::from_utf8_lossy(&data));
        }
        Some("big") if args.len() == 3 => {
            let len: usize = args[2].parse().expect("N must be a number");
            let pattern = b"0123456789abcdefghijklmnopqrstuvwxyz\n";
            let data: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
            let mut out = std::io::stdout().lock();
            out.write_all(&data).expect("write stdout");
            out.flush().expect("flush stdout");
            eprintln!("done");
        }
        _ => {
            eprintln!("usage: p1_stdio echo | big N");
            std::process::exit(100);
        }
    }
}
