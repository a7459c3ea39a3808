//! Ends in the way argv[1] names, after one line to stdout and one to stderr:
//! `exit N` calls std::process::exit(N); `return N` returns ExitCode N from main.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: p1_exit exit|return CODE");
        return ExitCode::from(100);
    }
    let code: u8 = args[2].parse().expect("CODE must be 0..=255");
    println!("stdout: {} {code}", args[1]);
    eprintln!("stderr: {} {code}", args[1]);
    match args[1].as_str() {
        "exit" => std::process::exit(i32::from(code)),
        "return" => ExitCode::from(code),
        other => {
            eprintln!("unknown mode {other}");
            ExitCode::from(100)
        }
    }
}
