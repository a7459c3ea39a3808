//! Threads blocked in host calls while another thread ends the program:
//! `threads_blocked accept|join [exit:CODE|trap]`.
//!
//! Listens on 127.0.0.1:0 and prints `port=N`; whoever started it connects once and never
//! sends. The program connects to that listener itself too, then a reader thread per accepted
//! connection blocks in recv. A second listener that nobody connects to blocks in accept: on
//! the main thread (`accept`), or on a thread the main thread joins (`join`, so the main
//! thread waits in `memory.atomic.wait32`). Then, 300 ms later, a last thread prints
//! `exiting with CODE` and calls exit(CODE), or prints `trapping` and executes
//! `unreachable`; without a third argument nothing ends it.
//! Any blocked call that returns prints `unexpected: ...` and exits 3.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use wasock_net::{TcpListener, TcpStream};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (main_waits, ending) = match args.as_slice() {
        [_, mode] => (mode.as_str(), None),
        [_, mode, ending] => (mode.as_str(), Some(ending.as_str())),
        _ => return usage(),
    };
    if main_waits != "accept" && main_waits != "join" {
        return usage();
    }
    let ending = match ending {
        None => None,
        Some("trap") => Some(None),
        Some(other) => match other.strip_prefix("exit:").map(str::parse::<i32>) {
            Some(Ok(code)) => Some(Some(code)),
            _ => return usage(),
        },
    };

    let control = TcpListener::bind("127.0.0.1:0").expect("bind the control listener");
    let control_addr = control.local_addr().expect("control listener address");
    let idle = TcpListener::bind("127.0.0.1:0").expect("bind the idle listener");
    println!("port={}", control_addr.port());
    // Held open (and silent) for the whole run so that its peer's recv stays blocked.
    let _self_client = TcpStream::connect(control_addr).expect("connect to our own listener");

    for reader in 0..2 {
        let (mut stream, peer) = control.accept().expect("accept on the control listener");
        std::thread::spawn(move || {
            println!("reader {reader}: blocked in recv from {peer}");
            let mut buf = [0u8; 64];
            let result = stream.read(&mut buf);
            println!("unexpected: reader {reader}: recv returned {result:?}");
            std::process::exit(3);
        });
    }

    if let Some(ending) = ending {
        std::thread::spawn(move || {
            // Long enough for the other threads to be inside their blocking calls.
            std::thread::sleep(Duration::from_millis(300));
            match ending {
                Some(code) => {
                    println!("exiting with {code}");
                    std::process::exit(code);
                }
                None => {
                    println!("trapping");
                    core::arch::wasm32::unreachable();
                }
            }
        });
    }

    if main_waits == "accept" {
        println!("main: blocked in accept");
        accept_forever(&idle)
    } else {
        let acceptor = std::thread::spawn(move || {
            println!("acceptor: blocked in accept");
            accept_forever(&idle)
        });
        println!("main: blocked in join");
        let joined = acceptor.join();
        println!("unexpected: join returned {}", joined.is_ok());
        ExitCode::from(3)
    }
}

/// Accepts on a listener nobody connects to: only the end of the program stops it.
fn accept_forever(idle: &TcpListener) -> ! {
    let result = idle.accept();
    println!("unexpected: accept returned {result:?}");
    std::process::exit(3);
}

fn usage() -> ExitCode {
    eprintln!("usage: threads_blocked accept|join [exit:CODE|trap]");
    ExitCode::from(2)
}
