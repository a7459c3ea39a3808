//! File I/O under the preopen argv[1] with std::fs, printing exactly what
//! tests/programs/c/p1_file_io.c prints for the same steps (pread/pwrite through raw imports,
//! which std does not offer on wasip1 without an unstable feature).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use wasock_test_programs::{errno, pread, pwrite};

fn size_of(file: &File) -> u64 {
    file.metadata().expect("fstat").len()
}

fn tell(file: &mut File) -> u64 {
    file.stream_position().expect("tell")
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: p1_file_io DIR");
    let path = format!("{dir}/data.bin");

    let mut file = File::create(&path).expect("create data.bin");
    let wrote = file.write(b"hello, world\n").expect("write");
    println!("write={wrote} size={} tell={}", size_of(&file), tell(&mut file));
    drop(file);

    let mut file = OpenOptions::new().read(true).write(true).open(&path).expect("open data.bin read-write");
    println!("seek_set={}", file.seek(SeekFrom::Start(7)).expect("seek"));
    let mut buf = [0u8; 5];
    let got = file.read(&mut buf).expect("read");
    println!("read={got} [{}] tell={}", String::from_utf8_lossy(&buf[..got]), tell(&mut file));
    println!("seek_cur={}", file.seek(SeekFrom::Current(-3)).expect("seek"));
    println!("seek_end={}", file.seek(SeekFrom::End(-6)).expect("seek"));
    match file.seek(SeekFrom::Current(-100)) {
        Ok(pos) => println!("seek_negative={pos} errno=0"),
        Err(err) => println!("seek_negative=-1 errno={}", errno(&err)),
    }
    println!("seek_past_end={}", file.seek(SeekFrom::Start(100)).expect("seek"));
    let wrote = file.write(b"X").expect("write");
    println!("write_past_end={wrote} size={} tell={}", size_of(&file), tell(&mut file));
    let fd = file.as_raw_fd() as u32;
    let wrote = pwrite(fd, b"HELLO", 0).expect("pwrite");
    let mut buf = [0u8; 13];
    let got = pread(fd, &mut buf, 0).expect("pread");
    println!(
        "pwrite={wrote} pread={got} [{}] tell={}",
        String::from_utf8_lossy(&buf[..got]),
        tell(&mut file)
    );
    let mut buf = [0u8; 10];
    let got = pread(fd, &mut buf, 98).expect("pread");
    println!("pread_tail={got} bytes={},{},{}", buf[0], buf[1], buf[2] as char);
    file.set_len(5).expect("ftruncate");
    println!("truncated size={}", size_of(&file));
    drop(file);

    let mut file = OpenOptions::new().append(true).open(&path).expect("open data.bin for appending");
    let _ = file.seek(SeekFrom::Start(0));
    let wrote = file.write(b"!!").expect("write");
    println!("append={wrote} size={}", size_of(&file));
    drop(file);

    let mut file = File::open(format!("{dir}/host.txt")).expect("open host.txt");
    let mut buf = [0u8; 63];
    let got = file.read(&mut buf).expect("read");
    println!("host.txt size={} read={got} [{}]", size_of(&file), String::from_utf8_lossy(&buf[..got]));
    println!("read_at_eof={}", file.read(&mut buf).expect("read"));
    match file.write(b"no") {
        Ok(n) => println!("write_to_read_only={n} errno=0"),
        Err(err) => println!("write_to_read_only=-1 errno={}", errno(&err)),
    }
    drop(file);

    match File::open(format!("{dir}/missing.txt")) {
        Ok(_) => println!("open_missing=3 errno=0"),
        Err(err) => println!("open_missing=-1 errno={}", errno(&err)),
    }
}
