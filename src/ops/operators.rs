//! `std::ops` operators on tensors (`&a + &b`, `&a * 2.0`, `2.0 * &a`, `-&a`). They cannot return a
//! `Result`, so on an error they panic with the same message the method of the same name returns
//! (`a.add(&b)?`).

use crate::element::Element;
use crate::tensor::Tensor;
use std::ops::{Add, Div, Mul, Neg, Sub};

fn unwrap_op<T>(result: crate::Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! tensor_op {
    ($trait:ident, $method:ident, $scalar:ident) => {
        impl<T: Element> $trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                unwrap_op(Tensor::$method(&self, rhs))
            }
        }
        impl<T: Element> $trait<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                unwrap_op(Tensor::$method(&self, &rhs))
            }
        }
        impl<T: Element> $trait<&Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                unwrap_op(Tensor::$method(&self, rhs))
            }
        }
        impl<T: Element> $trait<Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                unwrap_op(Tensor::$method(&self, &rhs))
            }
        }
        impl<T: Element> $trait<T> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: T) -> Tensor<T> {
                unwrap_op(Tensor::$scalar(&self, rhs))
            }
        }
        impl<T: Element> $trait<T> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: T) -> Tensor<T> {
                unwrap_op(Tensor::$scalar(&self, rhs))
            }
        }
    };
}

tensor_op!(Add, add, add_scalar);
tensor_op!(Sub, sub, sub_scalar);
tensor_op!(Mul, mul, mul_scalar);
tensor_op!(Div, div, div_scalar);

/// `scalar op tensor` for the concrete element types (a blanket impl over `T` is not allowed).
macro_rules! scalar_lhs_ops {
    ($($t:ty),*) => {$(
        impl Add<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn add(self, rhs: &Tensor<$t>) -> Tensor<$t> {
                unwrap_op(rhs.add_scalar(self))
            }
        }
        impl Sub<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn sub(self, rhs: &Tensor<$t>) -> Tensor<$t> {
                unwrap_op(rhs.rsub_scalar(self))
            }
        }
        impl Mul<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn mul(self, rhs: &Tensor<$t>) -> Tensor<$t> {
                unwrap_op(rhs.mul_scalar(self))
            }
        }
        impl Div<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn div(self, rhs: &Tensor<$t>) -> Tensor<$t> {
                unwrap_op(rhs.rdiv_scalar(self))
            }
        }
    )*};
}

scalar_lhs_ops!(f32, f64);

impl<T: Element> Neg for &Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        unwrap_op(Tensor::neg(self))
    }
}

impl<T: Element> Neg for Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        unwrap_op(Tensor::neg(&self))
    }
}
