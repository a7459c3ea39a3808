// Runs a WASI program with wasock from Rust:   embed app.wasm [ARGS...]
// (a preview 1 module or a preview 2 component: load_file tells which).
//
// The program gets its arguments, GREETING=hello, the current directory as /data, the
// network 127.0.0.1 (connect, bind, send) and the name `localhost` to resolve.
use std::path::Path;
use std::process::ExitCode;

use wasock::{CtxBuilder, Runtime, RuntimeConfig};

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: embed app.wasm [ARGS...]");
        return Ok(ExitCode::from(2));
    };
    let runtime = Runtime::new(&RuntimeConfig::default())?;
    let program = runtime.load_file(Path::new(path))?;

    let mut cx = CtxBuilder::new();
    for arg in &args {
        cx.arg(arg); // argv[0] is the module path, as with the wasock command
    }
    cx.env("GREETING", "hello").preopen_dir(".", "/data")?;
    cx.addr_pool("127.0.0.1/32")?.allow_resolve("localhost")?;

    // The guest's exit status (proc_exit or wasi:cli/exit, or 0 when main returns). A trap
    // is an Err.
    let status = runtime.run(&program, cx.build()?)?;
    Ok(ExitCode::from(status as u8))
}
