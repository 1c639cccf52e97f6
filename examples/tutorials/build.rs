// The library's build script, shared: with the `tch` feature it embeds the libtorch rpath, so the libtorch
// twins' tests and doc tests run without LD_LIBRARY_PATH.
include!("../../build.rs");
