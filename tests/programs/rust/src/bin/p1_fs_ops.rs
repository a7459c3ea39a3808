//! Directory operations under the preopen argv[1] with std::fs, printing exactly what
//! tests/programs/c/p1_fs_ops.c prints for the same steps.

use std::fs;
use wasock_test_programs::{errno, report};

fn print_file(label: &str, path: &str) {
    match fs::read(path) {
        Ok(data) => println!("{label}=[{}]", String::from_utf8_lossy(&data)),
        Err(err) => println!("{label}=open failed errno={}", errno(&err)),
    }
}

fn report_stat(label: &str, path: &str) {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => println!("{label}=exists dir"),
        Ok(meta) if meta.is_file() => println!("{label}=exists file"),
        Ok(_) => println!("{label}=exists other"),
        Err(err) => println!("{label}=-1 errno={}", errno(&err)),
    }
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: p1_fs_ops DIR");
    let at = |name: &str| format!("{dir}/{name}");

    report("mkdir sub", fs::create_dir(at("sub")));
    report("mkdir sub again", fs::create_dir(at("sub")));
    report_stat("stat sub", &at("sub"));
    report("write sub/a.txt", fs::write(at("sub/a.txt"), "aaa"));
    report("rename sub/a.txt b.txt", fs::rename(at("sub/a.txt"), at("b.txt")));
    report_stat("stat sub/a.txt", &at("sub/a.txt"));
    print_file("b.txt", &at("b.txt"));
    report("write c.txt", fs::write(at("c.txt"), "ccc"));
    report("rename b.txt over c.txt", fs::rename(at("b.txt"), at("c.txt")));
    print_file("c.txt", &at("c.txt"));
    report("rename sub sub2", fs::rename(at("sub"), at("sub2")));
    report_stat("stat sub", &at("sub"));
    report("write sub2/inner.txt", fs::write(at("sub2/inner.txt"), "inner"));
    report("rmdir sub2 (not empty)", fs::remove_dir(at("sub2")));
    report("unlink sub2/inner.txt", fs::remove_file(at("sub2/inner.txt")));
    report("rmdir sub2", fs::remove_dir(at("sub2")));
    report_stat("stat sub2", &at("sub2"));
    report("rmdir missing", fs::remove_dir(at("missing")));
    report("unlink missing", fs::remove_file(at("missing")));
    report("unlink host_remove_me.txt", fs::remove_file(at("host_remove_me.txt")));
    report("mkdir made_by_guest", fs::create_dir(at("made_by_guest")));
    report("write made_by_guest/f.txt", fs::write(at("made_by_guest/f.txt"), "guest wrote this"));
}
