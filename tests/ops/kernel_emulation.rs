//! The CUDA kernels run on the CPU (kernels/emulate): the kernel module exactly as NVRTC compiles it, built
//! with g++ against a shim of the CUDA built-ins, checks every pointwise op code against the CPU's own
//! implementation and the strided indexing, reductions and index kernels against reference loops. This needs
//! no GPU and no CUDA, only a C++20 compiler; without one the test says so loudly and fails, since CI has one.

use std::path::Path;
use std::process::Command;
use torchlet::Element;

fn emulate<T: Element>(name: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("module.cu"), torchlet::cuda::kernel_source::<T>()).expect("writing module.cu");
    let reference = dir.path().join("reference.txt");
    std::fs::write(&reference, torchlet::cuda::emulation_reference::<T>()).expect("writing reference.txt");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels/emulate/emulate.cpp");
    let binary = dir.path().join(name);
    let compiled = Command::new("g++")
        .args(["-std=c++20", "-O2", "-pthread", "-Wno-unknown-pragmas", "-I"])
        .arg(dir.path())
        .arg(&source)
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap_or_else(|e| panic!("the kernel emulation needs g++ (C++20) on PATH: {e}"));
    assert!(
        compiled.status.success(),
        "g++ failed to build the emulation for {name}:\n{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let run = Command::new(&binary).arg(&reference).output().expect("running the emulation");
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    assert!(run.status.success(), "the emulated {name} kernels disagree with the references:\n{stdout}");
    assert!(stdout.contains(": 0 failures of "), "{stdout}");
}

#[test]
fn f32_kernels_match_the_cpu() {
    emulate::<f32>("emulate_f32");
}

#[test]
fn f64_kernels_match_the_cpu() {
    emulate::<f64>("emulate_f64");
}
