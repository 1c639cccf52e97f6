//! nn.Linear's forward, MSELoss's reductions and SGD's every option against libtorch's own, step by step.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn layer_loss_and_optimizer_parity_with_libtorch() {}

#[cfg(feature = "tch")]
mod parity {
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use tch::nn::{Module as _, OptimizerConfig};
    use torchlet::nn::{Linear, MSELoss, Module, Reduction};
    use torchlet::optim::{SgdConfig, SGD};
    use torchlet::Tensor;
    use torchlet_tutorials::libtorch::{from_tch, to_tch};

    fn close(ours: &Tensor<f64>, theirs: &tch::Tensor, what: &str) {
        let (a, b) = (ours.to_vec().unwrap(), from_tch::<f64>(theirs).unwrap().to_vec().unwrap());
        assert_eq!(a.len(), b.len(), "{what}");
        let scale = b.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!((x - y).abs() <= 1e-12 * scale, "{what}[{i}]: torchlet {x} vs libtorch {y}");
        }
    }

    #[test]
    fn linear_forward_matches_tch_nn_linear() {
        let mut rng = StdRng::seed_from_u64(1);
        for (batch, inputs, outputs, bias) in [(5, 3, 2, true), (1, 4, 1, false), (7, 1, 3, true)] {
            let ours = Linear::<f64>::with_rng(inputs, outputs, bias, &mut rng);
            let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
            let config = tch::nn::LinearConfig { bias, ..Default::default() };
            let mut theirs = tch::nn::linear(vs.root(), inputs as i64, outputs as i64, config);
            vs.double();
            theirs.ws = to_tch(ours.weight()).unwrap();
            theirs.bs = ours.bias().map(|b| to_tch(b).unwrap());
            let x = Tensor::<f64>::randn_with(&[batch, inputs], &mut rng);
            close(&ours.forward(&x).unwrap(), &theirs.forward(&to_tch(&x).unwrap()), "Linear forward");
        }
    }

    #[test]
    fn mse_loss_reductions_match_tch() {
        let mut rng = StdRng::seed_from_u64(2);
        let (a, b) = (Tensor::<f64>::randn_with(&[4, 3], &mut rng), Tensor::<f64>::randn_with(&[4, 3], &mut rng));
        for (ours, theirs) in [
            (Reduction::Mean, tch::Reduction::Mean),
            (Reduction::Sum, tch::Reduction::Sum),
            (Reduction::None, tch::Reduction::None),
        ] {
            let loss = MSELoss::with_reduction(ours).forward(&a, &b).unwrap();
            close(&loss, &to_tch(&a).unwrap().mse_loss(&to_tch(&b).unwrap(), theirs), "MSELoss");
        }
    }

    /// Trains `w` on `sum((x w - y)²)` for a few steps with torchlet's SGD and libtorch's (its C++
    /// `torch::optim::SGD`, which has every option but `maximize`), comparing `w` after every step.
    fn sgd_steps(config: SgdConfig) {
        let mut rng = StdRng::seed_from_u64(3);
        let (x, y, w0) = (
            Tensor::<f64>::randn_with(&[6, 3], &mut rng),
            Tensor::<f64>::randn_with(&[6, 2], &mut rng),
            Tensor::<f64>::randn_with(&[3, 2], &mut rng),
        );
        let w = w0.deep_clone().unwrap().requires_grad_(true).unwrap();
        let mut ours = SGD::with_config([w.clone()], config).unwrap();

        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        // New variables are f32 unless the store's kind says otherwise; f32 would round w0.
        vs.set_kind(tch::Kind::Double);
        let tw = vs.root().var_copy("w", &to_tch(&w0).unwrap());
        let sgd = tch::nn::Sgd {
            momentum: config.momentum,
            dampening: config.dampening,
            wd: config.weight_decay,
            nesterov: config.nesterov,
        };
        let mut theirs = sgd.build(&vs, config.lr).unwrap();
        let (tx, ty) = (to_tch(&x).unwrap(), to_tch(&y).unwrap());
        for step in 1..=6 {
            let loss = x.matmul(&w).unwrap().sub(&y).unwrap().square().unwrap().sum().unwrap();
            ours.zero_grad();
            loss.backward().unwrap();
            ours.step().unwrap();
            let tloss = (tx.matmul(&tw) - &ty).square().sum(None);
            theirs.zero_grad();
            tloss.backward();
            theirs.step();
            close(&w, &tw.detach(), &format!("{config:?} step {step}"));
        }
    }

    #[test]
    fn sgd_every_option_matches_tch() {
        let base = SgdConfig::new(0.01);
        for config in [
            base,
            base.momentum(0.9),
            base.momentum(0.9).dampening(0.3),
            base.momentum(0.9).nesterov(true),
            base.weight_decay(0.1),
            base.momentum(0.5).weight_decay(0.05).nesterov(true),
            base.momentum(0.8).dampening(0.5).weight_decay(0.2),
        ] {
            sgd_steps(config);
        }
    }
}
