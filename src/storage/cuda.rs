//! CUDA storage (work in progress: the `cuda` feature does not build yet).
