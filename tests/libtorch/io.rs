//! safetensors files against libtorch (feature `tch`): what torchlet writes, tch reads with the same names,
//! shapes, dtypes and bits, and the other way round; `nn.Linear` parameters move between a tch `VarStore`
//! and torchlet's `Linear` under torch's state_dict names.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn safetensors_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{shape_of, to_tch, values, Both};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use torchlet::io::{load_parameters, load_safetensors, save_parameters, save_safetensors};
    use torchlet::nn::Linear;
    use torchlet::Tensor;

    fn torchlet_to_tch<T: Both + PartialEq>(kind: tch::Kind) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ours.safetensors");
        let mut rng = StdRng::seed_from_u64(3);
        let a = Tensor::<T>::randn_with(&[4, 3], &mut rng);
        let b = Tensor::<T>::randn_with(&[5], &mut rng);
        let t = a.t().unwrap(); // a strided view: tch must see its logical layout
        let s = Tensor::<T>::scalar(T::from_f64_lossy(-2.5));
        save_safetensors(&path, &[("a", &a), ("b", &b), ("a_t", &t), ("s", &s)]).unwrap();

        let read = tch::Tensor::read_safetensors(&path).unwrap();
        assert_eq!(read.len(), 4);
        for (name, ours) in [("a", &a), ("b", &b), ("a_t", &t), ("s", &s)] {
            let (_, theirs) = read.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("tch did not find {name}"));
            assert_eq!(theirs.kind(), kind, "{name}");
            assert_eq!(shape_of(theirs), ours.shape(), "{name}");
            assert_eq!(values::<T>(theirs), ours.to_vec().unwrap(), "{name}: bit-identical values");
        }
    }

    fn tch_to_torchlet<T: Both + PartialEq>(kind: tch::Kind) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("theirs.safetensors");
        tch::manual_seed(11);
        let x = tch::Tensor::randn([2, 3, 4], (kind, tch::Device::Cpu));
        let y = tch::Tensor::arange(7, (kind, tch::Device::Cpu));
        tch::Tensor::write_safetensors(&[("x", &x), ("y", &y)], &path).unwrap();

        let loaded = load_safetensors::<T>(&path).unwrap();
        let names: Vec<&str> = loaded.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x", "y"]);
        for ((_, ours), theirs) in loaded.iter().zip([&x, &y]) {
            assert_eq!(ours.shape(), shape_of(theirs));
            assert_eq!(ours.to_vec().unwrap(), values::<T>(theirs));
        }
    }

    #[test]
    fn torchlet_writes_what_tch_reads_f32() {
        torchlet_to_tch::<f32>(tch::Kind::Float);
    }

    #[test]
    fn torchlet_writes_what_tch_reads_f64() {
        torchlet_to_tch::<f64>(tch::Kind::Double);
    }

    #[test]
    fn tch_writes_what_torchlet_reads_f32() {
        tch_to_torchlet::<f32>(tch::Kind::Float);
    }

    #[test]
    fn tch_writes_what_torchlet_reads_f64() {
        tch_to_torchlet::<f64>(tch::Kind::Double);
    }

    #[test]
    fn a_tch_dtype_torchlet_does_not_read_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("half.safetensors");
        let h = tch::Tensor::ones([2], (tch::Kind::Half, tch::Device::Cpu));
        tch::Tensor::write_safetensors(&[("h", &h)], &path).unwrap();
        let err = load_safetensors::<f32>(&path).unwrap_err().to_string();
        assert!(err.contains("\"h\"") && err.contains("has dtype F16") && err.contains("F32 and F64 only"), "{err}");
    }

    #[test]
    fn linear_parameters_move_between_tch_varstore_and_torchlet() {
        let dir = tempfile::tempdir().unwrap();
        // tch → torchlet: a VarStore's nn::linear saved as .safetensors has the keys `weight` and `bias`.
        let theirs_path = dir.path().join("tch_linear.safetensors");
        tch::manual_seed(5);
        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let linear = tch::nn::linear(vs.root(), 3, 2, Default::default());
        vs.set_kind(tch::Kind::Double);
        vs.save(&theirs_path).unwrap();
        let ours = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
        load_parameters(&ours, &theirs_path).unwrap();
        assert_eq!(ours.weight().to_vec().unwrap(), values::<f64>(&linear.ws));
        assert_eq!(ours.bias().unwrap().to_vec().unwrap(), values::<f64>(linear.bs.as_ref().unwrap()));

        // torchlet → tch: our saved parameters load into the VarStore by name.
        let ours_path = dir.path().join("torchlet_linear.safetensors");
        let trained = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(9));
        save_parameters(&trained, &ours_path).unwrap();
        vs.load(&ours_path).unwrap();
        assert_eq!(values::<f64>(&linear.ws), trained.weight().to_vec().unwrap());
        assert_eq!(values::<f64>(linear.bs.as_ref().unwrap()), trained.bias().unwrap().to_vec().unwrap());
        // And both compute the same layer.
        let x = Tensor::<f64>::new([[1.0, -2.0, 0.5]]);
        let y_theirs = to_tch(&x).linear(&linear.ws, linear.bs.as_ref());
        let y_ours = torchlet::nn::Module::forward(&trained, &x).unwrap();
        super::common::torch::assert_close(&y_ours.to_vec().unwrap(), &values::<f64>(&y_theirs), 1e-15, "linear(x)");
    }

    /// A `Sequential` MLP saved by torchlet loads into a tch `VarStore` laid out as `nn.Sequential` names its
    /// parameters (`0.weight`, `2.bias`), giving the same outputs; a tch-trained store loads back.
    #[test]
    fn a_sequential_mlp_moves_between_torchlet_and_tch() {
        use torchlet::nn::{Module, ReLU, Sequential, Tanh};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mlp.safetensors");
        let mut rng = StdRng::seed_from_u64(5);
        let model = Sequential::<f64>::new()
            .add(Linear::with_rng(3, 8, true, &mut rng))
            .add(Tanh)
            .add(Linear::with_rng(8, 4, true, &mut rng))
            .add(ReLU)
            .add(Linear::with_rng(4, 2, true, &mut rng));
        save_parameters(&model, &path).unwrap();

        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        vs.set_kind(tch::Kind::Double);
        let root = vs.root();
        let cfg = tch::nn::LinearConfig::default();
        let theirs = tch::nn::seq()
            .add(tch::nn::linear(&root / "0", 3, 8, cfg))
            .add_fn(|x| x.tanh())
            .add(tch::nn::linear(&root / "2", 8, 4, cfg))
            .add_fn(|x| x.relu())
            .add(tch::nn::linear(&root / "4", 4, 2, cfg));
        vs.load(&path).unwrap();
        let x = Tensor::<f64>::randn_with(&[5, 3], &mut rng);
        use tch::nn::Module as _;
        let expected = theirs.forward(&to_tch(&x));
        let close = super::common::torch::assert_close::<f64>;
        close(&model.forward(&x).unwrap().to_vec().unwrap(), &values::<f64>(&expected), f64::RTOL, "saved by torchlet");

        // Back: change tch's parameters, save them, load into a fresh torchlet model of the same layout.
        tch::no_grad(|| {
            for (_, mut v) in vs.variables() {
                let _ = v.g_mul_scalar_(0.5);
            }
        });
        let back = dir.path().join("back.safetensors");
        vs.save(&back).unwrap();
        load_parameters(&model, &back).unwrap();
        let expected = theirs.forward(&to_tch(&x));
        close(&model.forward(&x).unwrap().to_vec().unwrap(), &values::<f64>(&expected), f64::RTOL, "saved by tch");
    }
}
