//! Sandbox escape attempts with std::fs from inside the preopen argv[1], in the output format
//! of tests/programs/c/p1_sandbox.c: "name errno=N content=[...]", errno 0 meaning the
//! attempt succeeded. The host has put outside.txt next to the preopen and the symlinks
//! link_parent -> .., link_abs -> outside.txt's absolute path and link_etc -> /etc/passwd in it.

use std::fs;
use std::io::{self, Read};
use wasock_test_programs::errno;

fn report_read(name: &str, result: io::Result<fs::File>) {
    match result {
        Ok(mut file) => {
            let mut data = Vec::new();
            let _ = (&mut file).take(127).read_to_end(&mut data);
            let text = String::from_utf8_lossy(&data).replace('\n', " ");
            println!("{name} errno=0 content=[{text}]");
        }
        Err(err) => println!("{name} errno={} content=[]", errno(&err)),
    }
}

fn report<T>(name: &str, result: io::Result<T>) {
    match result {
        Ok(_) => println!("{name} errno=0 content=[]"),
        Err(err) => println!("{name} errno={} content=[]", errno(&err)),
    }
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: p1_sandbox DIR");
    let at = |name: &str| format!("{dir}/{name}");

    report_read("open_dotdot", fs::File::open(at("../outside.txt")));
    report_read("open_inner_dotdot", fs::File::open(at("sub/../../outside.txt")));
    report_read("open_etc_passwd", fs::File::open("/etc/passwd"));
    report_read("open_link_parent", fs::File::open(at("link_parent/outside.txt")));
    report_read("open_link_abs", fs::File::open(at("link_abs")));
    report_read("open_link_etc", fs::File::open(at("link_etc")));
    report("read_dir_parent", fs::read_dir(at("..")));
    report("read_dir_link_parent", fs::read_dir(at("link_parent")));
    report("stat_dotdot", fs::metadata(at("../outside.txt")));
    report("stat_link_parent", fs::metadata(at("link_parent/outside.txt")));
    report("mkdir_dotdot", fs::create_dir(at("../made_outside")));
    report("rename_out", fs::rename(at("inside.txt"), at("../moved_outside.txt")));
    report("unlink_dotdot", fs::remove_file(at("../outside.txt")));
    report("create_dotdot", fs::File::create(at("../created_outside.txt")));
    report("create_through_link", fs::File::create(at("link_parent/created_outside.txt")));
}
