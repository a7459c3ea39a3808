//! random_get through the raw import, printing the keys tests/programs/c/p1_random.c prints:
//! two 32-byte draws in hex and statistics of one 1 MiB draw.

use wasock_test_programs::raw;

fn draw(buf: &mut [u8]) -> i32 {
    // SAFETY: `buf` is writable for its whole length during the call.
    unsafe { raw::random_get(buf.as_mut_ptr(), buf.len()) }
}

fn hex(buf: &[u8]) -> String {
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    if draw(&mut first) != 0 || draw(&mut second) != 0 {
        println!("FAIL random_get");
        std::process::exit(1);
    }
    println!("first={}", hex(&first));
    println!("second={}", hex(&second));

    let mut big = vec![0u8; 1 << 20];
    println!("big errno={}", draw(&mut big));
    let mut seen = [false; 256];
    for &b in &big {
        seen[b as usize] = true;
    }
    println!("big distinct={}", seen.iter().filter(|&&s| s).count());
    let tail_nonzero = big[big.len() - 65536..].iter().filter(|&&b| b != 0).count();
    println!("big tail_has_data={}", u32::from(tail_nonzero > 60000));
}
