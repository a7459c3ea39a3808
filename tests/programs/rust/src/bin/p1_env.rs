//! Prints the whole environment in order, then the value of every name given as an argument,
//! like tests/programs/c/p1_env.c.

fn main() {
    for (key, value) in std::env::vars() {
        println!("env=[{key}={value}]");
    }
    for name in std::env::args().skip(1) {
        match std::env::var(&name) {
            Ok(value) => println!("getenv({name})=[{value}]"),
            Err(_) => println!("getenv({name})=(unset)"),
        }
    }
}
