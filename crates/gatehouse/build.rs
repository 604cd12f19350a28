//! The release binary's code in the order it runs: the functions that start-up and serving run (listed in
//! `link/symbol-order.txt`, recorded with `link/record-symbol-order.sh`) are placed first and together,
//! so the server's idle memory holds its own code, not the code around it. Only for release builds on
//! x86_64 Linux, where Rust links with LLD; names that no longer match are skipped without a warning.

fn main() {
    let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link/symbol-order.txt");
    println!("cargo::rerun-if-changed={}", order.display());
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux_x86_64 = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    if release && linux_x86_64 {
        println!(
            "cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={},--no-warn-symbol-ordering",
            order.display()
        );
    }
}
