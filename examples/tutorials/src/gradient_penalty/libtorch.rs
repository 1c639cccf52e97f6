//! T11c's libtorch twin (feature `tch`): the critic as tch's `nn::linear` layers in a `VarStore`, the input
//! gradient by `run_backward` with `create_graph`, and tch's Adam with betas (0.5, 0.9).

use super::{check_parameters, Critic, CriticLosses, BETAS, LAMBDA, LAYERS, SLOPE};
use crate::libtorch::{from_tch, tch_error, to_tch, TchElement};
use std::marker::PhantomData;
use tch::nn::OptimizerConfig;
use torchlet::error::Result;
use torchlet::tensor::Tensor;

/// T11c trained by libtorch, the reference for [`super::AutodiffCritic`] and [`super::ManualCritic`]: the
/// penalty with `g.norm(2, dim=1)` as WGAN-GP's code writes it. tch binds `leaky_relu` at its default slope
/// only, so the LeakyReLU is `where(z > 0, z, 0.2·z)`: the same values, and the same gradient (`g` where
/// `z > 0`, `0.2·g` elsewhere) and second derivative (0).
///
/// ```
/// use torchlet_tutorials::gradient_penalty::{critic_data, AutodiffCritic, Critic, LR};
/// use torchlet_tutorials::libtorch::TchCritic;
/// // libtorch's initial parameters, copied into torchlet's critic: both train in step.
/// let mut theirs = TchCritic::<f64>::new(LR, 0)?;
/// let mut ours = AutodiffCritic::new(&theirs.parameters()?)?;
/// let data = critic_data(0, 3)?;
/// for alpha in &data.alphas {
///     let a = theirs.train_step(&data.real, &data.fake, alpha)?.total;
///     let b = ours.train_step(&data.real, &data.fake, alpha)?.total;
///     assert!((a - b).abs() <= 1e-12 * a.abs());
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TchCritic<T: TchElement> {
    _vs: tch::nn::VarStore,
    layers: Vec<tch::nn::Linear>,
    optimizer: tch::nn::Optimizer,
    _element: PhantomData<T>,
}

impl<T: TchElement> TchCritic<T> {
    /// The critic initialised from `seed` (`tch::manual_seed`) by `nn::linear`'s defaults, in `T`, trained
    /// with tch's Adam at `lr` and betas (0.5, 0.9).
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
        let adam = tch::nn::Adam { beta1: BETAS.0, beta2: BETAS.1, ..Default::default() };
        let optimizer = adam.build(&vs, lr).map_err(tch_error)?;
        Ok(TchCritic { _vs: vs, layers, optimizer, _element: PhantomData })
    }

    /// The critic holding copies of torchlet's `params` (as [`super::initial_parameters`] lists them).
    pub fn from_parameters(params: &[Tensor<T>], lr: f64) -> Result<Self> {
        check_parameters("TchCritic", params)?;
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
                z.where_self(&z.gt(0.0), &(&z * SLOPE))
            } else {
                z
            }
        })
    }

    /// `∇ₓ D(x)` of each row, with its graph when `create_graph`.
    fn input_gradient_tch(&self, x: &tch::Tensor, create_graph: bool) -> Result<tch::Tensor> {
        let score = self.forward(x).sum(None::<tch::Kind>);
        let mut g = tch::Tensor::f_run_backward(&[&score], &[x], create_graph, create_graph).map_err(tch_error)?;
        Ok(g.remove(0))
    }

    /// `mean D(real)`, `mean D(fake)`, the penalty and the loss, with their graphs.
    fn loss(&self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<[tch::Tensor; 4]> {
        let (real, fake, alpha) = (to_tch(real)?, to_tch(fake)?, to_tch(alpha)?);
        let d_real = self.forward(&real).mean(None::<tch::Kind>);
        let d_fake = self.forward(&fake).mean(None::<tch::Kind>);
        let one_minus_alpha: tch::Tensor = alpha.ones_like() - &alpha;
        let x_hat = (&alpha * &real + one_minus_alpha * &fake).set_requires_grad(true);
        let g = self.input_gradient_tch(&x_hat, true)?;
        let norm = g.f_norm_scalaropt_dim(2, [1], false).map_err(tch_error)?;
        let penalty = (norm - 1.0).square().mean(None::<tch::Kind>) * LAMBDA;
        let loss = &d_fake - &d_real + &penalty;
        Ok([d_real, d_fake, penalty, loss])
    }
}

impl<T: TchElement> Critic<T> for TchCritic<T> {
    fn train_step(&mut self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<CriticLosses> {
        let [d_real, d_fake, penalty, loss] = self.loss(real, fake, alpha)?;
        self.optimizer.zero_grad();
        loss.f_backward().map_err(tch_error)?;
        self.optimizer.step();
        let value = |t: &tch::Tensor| from_tch::<T>(&t.detach())?.item();
        Ok(CriticLosses::new(value(&d_real)?, value(&d_fake)?, value(&penalty)?, value(&loss)?))
    }

    fn gradient(&self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<Vec<Tensor<T>>> {
        let [_, _, _, loss] = self.loss(real, fake, alpha)?;
        let grads = tch::Tensor::f_run_backward(&[loss], &self.tensors(), false, false).map_err(tch_error)?;
        grads.iter().map(from_tch).collect()
    }

    fn input_gradient(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let x = to_tch(x)?.set_requires_grad(true);
        from_tch(&self.input_gradient_tch(&x, false)?.detach())
    }

    fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        self.tensors().into_iter().map(|p| from_tch(&p.detach())).collect()
    }
}
