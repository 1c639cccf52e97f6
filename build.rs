// Build script: only relevant with the optional `tch` feature. The tutorials' crate (examples/tutorials)
// includes it too, for its libtorch twins. (Plain comments, not `//!`: an included file cannot hold inner docs.)

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Without `tch` there is nothing to do, and libtorch must not be required.
    if env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");

    // torch-sys links libtorch dynamically but records no run-time search path
    // for it, so test binaries, examples and benches would need LD_LIBRARY_PATH.
    // Embed an rpath instead, resolved the same way torch-sys resolves it
    // (LIBTORCH_LIB, else LIBTORCH, which .cargo/config.toml sets to .libtorch).
    let root = env::var_os("LIBTORCH_LIB")
        .or_else(|| env::var_os("LIBTORCH"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap()).join(".libtorch"));
    let lib = root.join("lib");
    if !lib.join("libtorch_cpu.so").exists() {
        println!("cargo:warning=libtorch not found in {}; run scripts/setup-libtorch.sh", lib.display());
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
