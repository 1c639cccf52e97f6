//! The CUDA storage of a build without the `cuda` feature: a type with no values, so every path that would
//! reach a GPU stops at the constructors with a clear error, while the [`BackendStorage`] contract is still
//! implemented, and checked by the compiler, in every build.

use super::backend::BackendStorage;
use super::pointwise::{BinaryOp, Side, UnaryOp};
use super::reduce::ReduceOp;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;
use std::convert::Infallible;
use std::marker::PhantomData;

/// Never constructed: [`CudaStorage::full`] and [`CudaStorage::from_host`] always fail.
#[derive(Debug)]
pub(crate) struct CudaStorage<T> {
    never: Infallible,
    _element: PhantomData<T>,
}

fn unavailable(ordinal: usize) -> Error {
    Error::Cuda(format!("device cuda:{ordinal} requested, but torchlet was built without the `cuda` feature"))
}

impl<T: Element> CudaStorage<T> {
    pub fn full(_n: usize, _value: T, ordinal: usize) -> Result<Self> {
        Err(unavailable(ordinal))
    }

    pub fn from_host(_host: &[T], ordinal: usize) -> Result<Self> {
        Err(unavailable(ordinal))
    }
}

impl<T: Element> BackendStorage<T> for CudaStorage<T> {
    fn device(&self) -> Device {
        match self.never {}
    }

    fn to_vec(&self, _layout: &Layout) -> Result<Vec<T>> {
        match self.never {}
    }

    fn unary(&self, _layout: &Layout, _op: UnaryOp, _c: T) -> Result<Self> {
        match self.never {}
    }

    fn unary_grad(&self, _: &Layout, _: &Self, _: &Layout, _: UnaryOp, _: T) -> Result<Self> {
        match self.never {}
    }

    fn binary(&self, _lhs: &Layout, _rhs: &Self, _rhs_layout: &Layout, _op: BinaryOp) -> Result<Self> {
        match self.never {}
    }

    fn binary_grad(
        &self,
        _: &Layout,
        _: &Self,
        _: &Layout,
        _: &Self,
        _: &Layout,
        _: BinaryOp,
        _: Side,
    ) -> Result<Self> {
        match self.never {}
    }

    fn where_cond(&self, _: &Layout, _: &Self, _: &Layout, _: &Self, _: &Layout) -> Result<Self> {
        match self.never {}
    }

    fn reduce_to(&self, _layout: &Layout, _out_shape: &[usize], _op: ReduceOp) -> Result<Self> {
        match self.never {}
    }

    fn matmul(&self, _lhs: &Layout, _rhs: &Self, _rhs_layout: &Layout) -> Result<Self> {
        match self.never {}
    }

    fn index_select0(&self, _layout: &Layout, _indices: &[usize]) -> Result<Self> {
        match self.never {}
    }

    fn index_add0(&mut self, _row_len: usize, _src: &Self, _src_layout: &Layout, _indices: &[usize]) -> Result<()> {
        match self.never {}
    }

    fn im2col(&self, _layout: &Layout, _windows: &crate::storage::window::Windows, _pad: T) -> Result<Self> {
        match self.never {}
    }

    fn col2im(&self, _layout: &Layout, _windows: &crate::storage::window::Windows) -> Result<Self> {
        match self.never {}
    }

    fn assign(&mut self, _dst: &Layout, _src: &Self, _src_layout: &Layout, _op: Option<BinaryOp>) -> Result<()> {
        match self.never {}
    }

    fn map_inplace(&mut self, _dst: &Layout, _op: UnaryOp, _c: T) -> Result<()> {
        match self.never {}
    }
}
