//! T11b's libtorch twin (feature `tch`): the tanh network as tch's `nn::linear` layers in a `VarStore`, u″ by
//! `run_backward` (torch's `autograd.grad`) twice with `create_graph`, and tch's Adam.

use super::{boundary, check_parameters, collocation, source, Losses, Pinn, LAYERS};
use crate::libtorch::{from_tch, tch_error, to_tch, TchElement};
use std::marker::PhantomData;
use tch::nn::OptimizerConfig;
use torchlet::error::Result;
use torchlet::tensor::Tensor;

/// T11b trained by libtorch, the reference for [`super::AutodiffPinn`] and [`super::ManualPinn`].
/// `run_backward` takes no `grad_outputs`, so u′ is the gradient of `u.sum()`, which is the same: each point's
/// u depends on its own x only.
///
/// ```
/// use torchlet_tutorials::libtorch::TchPinn;
/// use torchlet_tutorials::pinn::{AutodiffPinn, Pinn};
/// // libtorch's initial parameters, copied into torchlet's model: both train in step.
/// let mut theirs = TchPinn::<f64>::new(1e-3, 0)?;
/// let mut ours = AutodiffPinn::new(&theirs.parameters()?, 1e-3)?;
/// for _ in 0..3 {
///     let (a, b) = (theirs.train_step()?.total, ours.train_step()?.total);
///     assert!((a - b).abs() <= 1e-13 * a);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TchPinn<T: TchElement> {
    _vs: tch::nn::VarStore,
    layers: Vec<tch::nn::Linear>,
    optimizer: tch::nn::Optimizer,
    x: tch::Tensor,
    source: tch::Tensor,
    boundary: tch::Tensor,
    _element: PhantomData<T>,
}

impl<T: TchElement> TchPinn<T> {
    /// The network initialised from `seed` (`tch::manual_seed`) by `nn::linear`'s defaults, in `T`, trained
    /// with tch's Adam at `lr` (torch's defaults otherwise).
    pub fn new(lr: f64, seed: i64) -> Result<Self> {
        tch::manual_seed(seed);
        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let root = vs.root();
        let layers = LAYERS
            .iter()
            .enumerate()
            .map(|(i, &(n_in, n_out))| tch::nn::linear(&root / i, n_in as i64, n_out as i64, Default::default()))
            .collect();
        vs.set_kind(T::KIND);
        let optimizer = tch::nn::Adam::default().build(&vs, lr).map_err(tch_error)?;
        let x = collocation::<T>();
        Ok(TchPinn {
            _vs: vs,
            layers,
            optimizer,
            source: to_tch(&source(&x)?)?,
            x: to_tch(&x)?.set_requires_grad(true),
            boundary: to_tch(&boundary::<T>())?,
            _element: PhantomData,
        })
    }

    /// The network holding copies of torchlet's `params` (as [`super::initial_parameters`] lists them).
    pub fn from_parameters(params: &[Tensor<T>], lr: f64) -> Result<Self> {
        check_parameters("TchPinn", params)?;
        let net = Self::new(lr, 0)?;
        let _guard = tch::no_grad_guard();
        for (theirs, ours) in net.tensors().into_iter().zip(params) {
            theirs.shallow_clone().f_copy_(&to_tch(&ours.detach())?).map_err(tch_error)?;
        }
        Ok(net)
    }

    fn tensors(&self) -> Vec<&tch::Tensor> {
        self.layers.iter().flat_map(|l| [Some(&l.ws), l.bs.as_ref()]).flatten().collect()
    }

    fn forward(&self, x: &tch::Tensor) -> tch::Tensor {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x.shallow_clone(), |h, (i, layer)| {
            let z = h.apply(layer);
            if i < last {
                z.tanh()
            } else {
                z
            }
        })
    }

    /// The equation's term, the boundary term and their sum, with their graphs.
    fn loss(&self) -> Result<[tch::Tensor; 3]> {
        let u = self.forward(&self.x);
        let grad = |y: &tch::Tensor| -> Result<tch::Tensor> {
            let total = y.sum(None::<tch::Kind>);
            let mut g = tch::Tensor::f_run_backward(&[total], &[&self.x], true, true).map_err(tch_error)?;
            Ok(g.remove(0))
        };
        let du = grad(&u)?;
        let ddu = grad(&du)?;
        let equation = (ddu + &self.source).square().mean(None::<tch::Kind>);
        let boundary = self.forward(&self.boundary).square().sum(None::<tch::Kind>);
        let total = &equation + &boundary;
        Ok([equation, boundary, total])
    }
}

impl<T: TchElement> Pinn<T> for TchPinn<T> {
    fn train_step(&mut self) -> Result<Losses> {
        let [equation, boundary, loss] = self.loss()?;
        self.optimizer.zero_grad();
        loss.f_backward().map_err(tch_error)?;
        self.optimizer.step();
        let value = |t: &tch::Tensor| from_tch::<T>(&t.detach())?.item();
        Ok(Losses::new(value(&equation)?, value(&boundary)?, value(&loss)?))
    }

    fn gradient(&self) -> Result<Vec<Tensor<T>>> {
        let [_, _, loss] = self.loss()?;
        let grads = tch::Tensor::f_run_backward(&[loss], &self.tensors(), false, false).map_err(tch_error)?;
        grads.iter().map(from_tch).collect()
    }

    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _guard = tch::no_grad_guard();
        from_tch(&self.forward(&to_tch(x)?))
    }

    fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        self.tensors().into_iter().map(|p| from_tch(&p.detach())).collect()
    }
}
