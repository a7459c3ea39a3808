//! Prints argc and every argv entry in brackets, like tests/programs/c/p1_args.c.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("argc={}", args.len());
    for (i, arg) in args.iter().enumerate() {
        println!("argv[{i}]=[{arg}]");
    }
}
