//! Training checkpoints: a run saved after N steps and resumed in a fresh process gives, after M more steps,
//! bit for bit the parameters and losses of N + M uninterrupted steps; and what loading refuses.
//!
//! The fresh process is this test binary run again on one test (`<name> --exact`), with `CHILD` naming the
//! checkpoint: that run builds the model, optimizer and scheduler from other random parameters, loads the
//! checkpoint, trains M steps and writes its parameters and losses beside the checkpoint.

use std::path::Path;
use std::process::Command;

use rand::{rngs::StdRng, SeedableRng};
use torchlet::io::{load_checkpoint, load_safetensors, save_checkpoint, save_safetensors};
use torchlet::nn::{Linear, MSELoss, Module, ReLU, Sequential};
use torchlet::optim::lr_scheduler::{LRScheduler, OneCycleConfig, OneCycleLR, StepLR};
use torchlet::optim::{Adam, AdamConfig, Optimizer, RMSprop, RmsPropConfig, SgdConfig, SGD};
use torchlet::{Element, Result, Tensor};

const CHILD: &str = "TORCHLET_TEST_RESUME_FROM";
/// Steps before the checkpoint, and after it.
const N: usize = 7;
const M: usize = 9;
const BATCH: usize = 8;

fn mlp<T: Element>(seed: u64, hidden: usize) -> Sequential<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .add(Linear::with_rng(4, hidden, true, &mut rng))
        .add(ReLU)
        .add(Linear::with_rng(hidden, 3, true, &mut rng))
}

/// Three batches of fixed data, taken in turn: step `s` trains on batch `s % 3`.
fn batch<T: Element>(step: usize) -> Result<(Tensor<T>, Tensor<T>)> {
    let mut rng = StdRng::seed_from_u64(2024);
    let x = Tensor::<T>::randn_with(&[3 * BATCH, 4], &mut rng);
    let y = Tensor::<T>::randn_with(&[3 * BATCH, 3], &mut rng);
    let start = (step % 3) * BATCH;
    Ok((x.narrow(0, start, BATCH)?, y.narrow(0, start, BATCH)?))
}

/// The three optimizer and scheduler pairs.
#[derive(Clone, Copy)]
enum Pair {
    SgdMomentumStepLR,
    AmsgradOneCycle,
    RmspropStepLR,
}

enum Schedule {
    Step(StepLR),
    OneCycle(OneCycleLR),
}

impl Schedule {
    fn step<T: Element>(&mut self, opt: &mut dyn Optimizer<T>) -> Result<()> {
        match self {
            Schedule::Step(s) => s.step(opt),
            Schedule::OneCycle(s) => s.step(opt),
        }
    }

    fn as_dyn(&self) -> &dyn LRScheduler {
        match self {
            Schedule::Step(s) => s,
            Schedule::OneCycle(s) => s,
        }
    }

    fn as_dyn_mut(&mut self) -> &mut dyn LRScheduler {
        match self {
            Schedule::Step(s) => s,
            Schedule::OneCycle(s) => s,
        }
    }
}

struct Run<T: Element> {
    model: Sequential<T>,
    opt: Box<dyn Optimizer<T>>,
    schedule: Schedule,
}

impl<T: Element> Run<T> {
    fn new(pair: Pair, seed: u64) -> Result<Self> {
        let model = mlp::<T>(seed, 16);
        let params = model.parameters();
        let (opt, schedule): (Box<dyn Optimizer<T>>, _) = match pair {
            Pair::SgdMomentumStepLR => {
                let mut opt = Box::new(SGD::with_config(params, SgdConfig::new(0.05).momentum(0.9).nesterov(true))?);
                let s = StepLR::new(opt.as_mut(), 4, 0.5)?;
                (opt, Schedule::Step(s))
            }
            Pair::AmsgradOneCycle => {
                let mut opt = Box::new(Adam::with_config(params, AdamConfig::new(0.01).amsgrad(true))?);
                let s = OneCycleLR::new(opt.as_mut(), OneCycleConfig::new(0.05, N + M))?;
                (opt, Schedule::OneCycle(s))
            }
            Pair::RmspropStepLR => {
                let config = RmsPropConfig::new(0.01).momentum(0.5).centered(true).weight_decay(1e-3);
                let mut opt = Box::new(RMSprop::with_config(params, config)?);
                let s = StepLR::new(opt.as_mut(), 3, 0.7)?;
                (opt, Schedule::Step(s))
            }
        };
        Ok(Run { model, opt, schedule })
    }

    /// Trains steps `from..from + steps`, returning the losses.
    fn train(&mut self, from: usize, steps: usize) -> Result<Vec<T>> {
        let mut losses = Vec::with_capacity(steps);
        for step in from..from + steps {
            let (x, y) = batch::<T>(step)?;
            let loss = MSELoss::new().forward(&self.model.forward(&x)?, &y)?;
            self.opt.zero_grad();
            loss.backward()?;
            self.opt.step()?;
            self.schedule.step(self.opt.as_mut())?;
            losses.push(loss.item()?);
        }
        Ok(losses)
    }
}

fn bits<T: Element>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| v.to_f64().unwrap().to_bits()).collect()
}

/// The parent's side of one pair: the uninterrupted run, the first N steps, the checkpoint, the child, and
/// the comparison. `test` is the calling test's name, for the child's `--exact`.
fn resumes_exactly<T: Element>(test: &str, pair: Pair) -> Result<()> {
    if let Ok(checkpoint) = std::env::var(CHILD) {
        return resume_in_child::<T>(pair, Path::new(&checkpoint));
    }
    let mut straight = Run::<T>::new(pair, 1)?;
    let losses = straight.train(0, N + M)?;

    let mut first = Run::<T>::new(pair, 1)?;
    assert_eq!(bits(&first.train(0, N)?), bits(&losses[..N]));
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("run.safetensors");
    save_checkpoint(&checkpoint, &first.model, first.opt.as_ref(), Some(first.schedule.as_dyn()))?;

    // The test's full name in this binary: its module's path without the crate's name, then its own.
    let full_name = format!("{}::{test}", module_path!().split_once("::").map_or("", |(_, m)| m));
    let out = Command::new(std::env::current_exe().unwrap())
        .args([full_name.as_str(), "--exact", "--test-threads=1"])
        .env(CHILD, &checkpoint)
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && log.contains("1 passed"), "the resumed run failed:\n{log}");
    let resumed = load_safetensors::<T>(checkpoint.with_extension("out"))?;

    let expected: Vec<(String, Tensor<T>)> = straight.model.named_parameters();
    assert_eq!(resumed.len(), expected.len() + 1);
    for (name, tensor) in resumed {
        if name == "losses" {
            assert_eq!(bits(&tensor.to_vec()?), bits(&losses[N..]), "losses after the checkpoint");
        } else {
            let want = &expected.iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(bits(&tensor.to_vec()?), bits(&want.to_vec()?), "parameter {name}");
        }
    }
    Ok(())
}

/// The child's side: a fresh run from other parameters, the checkpoint loaded, M steps.
fn resume_in_child<T: Element>(pair: Pair, checkpoint: &Path) -> Result<()> {
    let mut run = Run::<T>::new(pair, 99)?;
    load_checkpoint(checkpoint, &run.model, run.opt.as_mut(), Some(run.schedule.as_dyn_mut()))?;
    let losses = run.train(N, M)?;
    let losses = Tensor::from_vec(losses, &[M])?;
    let params = run.model.named_parameters();
    let mut named: Vec<(&str, &Tensor<T>)> = params.iter().map(|(n, t)| (n.as_str(), t)).collect();
    named.push(("losses", &losses));
    save_safetensors(checkpoint.with_extension("out"), &named)
}

#[test]
fn sgd_with_nesterov_momentum_and_step_lr_resumes_exactly_f32() -> Result<()> {
    resumes_exactly::<f32>("sgd_with_nesterov_momentum_and_step_lr_resumes_exactly_f32", Pair::SgdMomentumStepLR)
}

#[test]
fn sgd_with_nesterov_momentum_and_step_lr_resumes_exactly_f64() -> Result<()> {
    resumes_exactly::<f64>("sgd_with_nesterov_momentum_and_step_lr_resumes_exactly_f64", Pair::SgdMomentumStepLR)
}

#[test]
fn amsgrad_with_one_cycle_resumes_exactly_f32() -> Result<()> {
    resumes_exactly::<f32>("amsgrad_with_one_cycle_resumes_exactly_f32", Pair::AmsgradOneCycle)
}

#[test]
fn amsgrad_with_one_cycle_resumes_exactly_f64() -> Result<()> {
    resumes_exactly::<f64>("amsgrad_with_one_cycle_resumes_exactly_f64", Pair::AmsgradOneCycle)
}

#[test]
fn centered_rmsprop_with_step_lr_resumes_exactly_f32() -> Result<()> {
    resumes_exactly::<f32>("centered_rmsprop_with_step_lr_resumes_exactly_f32", Pair::RmspropStepLR)
}

#[test]
fn centered_rmsprop_with_step_lr_resumes_exactly_f64() -> Result<()> {
    resumes_exactly::<f64>("centered_rmsprop_with_step_lr_resumes_exactly_f64", Pair::RmspropStepLR)
}

/// Everything a model, an optimizer and a scheduler hold, as values: to check that a refused load
/// changed nothing.
fn snapshot<T: Element>(run: &Run<T>) -> (Vec<u64>, Vec<u64>, String, String) {
    let values = |named: Vec<(String, Tensor<T>)>| named.iter().flat_map(|(_, t)| bits(&t.to_vec().unwrap())).collect();
    (
        values(run.model.named_parameters()),
        values(run.opt.state_dict()),
        serde_json::to_string(&run.opt.param_group()).unwrap(),
        serde_json::to_string(&run.schedule.as_dyn().state_dict()).unwrap(),
    )
}

#[test]
fn a_checkpoint_of_another_shape_or_dtype_is_refused_and_changes_nothing() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    let mut saved = Run::<f32>::new(Pair::AmsgradOneCycle, 1)?;
    saved.train(0, 3)?;
    save_checkpoint(&path, &saved.model, saved.opt.as_ref(), Some(saved.schedule.as_dyn()))?;
    let shown = path.display();

    // Another width: every tensor whose shape differs is listed.
    let mut narrow = Run::<f32>::new(Pair::AmsgradOneCycle, 2)?;
    narrow.model = mlp(2, 8);
    narrow.opt = Box::new(Adam::with_config(narrow.model.parameters(), AdamConfig::new(0.01).amsgrad(true))?);
    narrow.train(0, 2)?;
    let before = snapshot(&narrow);
    let err = load_checkpoint(&path, &narrow.model, narrow.opt.as_mut(), Some(narrow.schedule.as_dyn_mut()));
    assert_eq!(
        err.unwrap_err().to_string(),
        format!(
            "load_checkpoint: 3 problems loading {shown}: size mismatch for \"0.weight\": shape [16, 4], but the \
             parameter in the model has shape [8, 4]; size mismatch for \"0.bias\": shape [16], but the parameter \
             in the model has shape [8]; size mismatch for \"2.weight\": shape [3, 16], but the parameter in the \
             model has shape [3, 8]"
        )
    );
    assert!(snapshot(&narrow) == before, "a refused checkpoint changes nothing");

    // Another dtype.
    let mut wide = Run::<f64>::new(Pair::AmsgradOneCycle, 3)?;
    wide.train(0, 2)?;
    let before = snapshot(&wide);
    let err = load_checkpoint(&path, &wide.model, wide.opt.as_mut(), Some(wide.schedule.as_dyn_mut()));
    assert_eq!(
        err.unwrap_err().to_string(),
        format!(
            "load_checkpoint: 4 problems loading {shown}: tensor \"0.weight\" has dtype F32, but the model's \
             parameter is torch.float64 (F64); tensor \"0.bias\" has dtype F32, but the model's parameter is \
             torch.float64 (F64); tensor \"2.weight\" has dtype F32, but the model's parameter is torch.float64 \
             (F64); tensor \"2.bias\" has dtype F32, but the model's parameter is torch.float64 (F64)"
        )
    );
    assert!(snapshot(&wide) == before);

    // Another optimizer, refused after the scheduler's state was loaded: the scheduler is put back.
    let mut other = Run::<f32>::new(Pair::SgdMomentumStepLR, 4)?;
    other.schedule = Schedule::OneCycle(OneCycleLR::new(other.opt.as_mut(), OneCycleConfig::new(0.05, N + M))?);
    other.train(0, 2)?;
    let before = snapshot(&other);
    let err = load_checkpoint(&path, &other.model, other.opt.as_mut(), Some(other.schedule.as_dyn_mut()));
    let err = err.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "load_checkpoint: the optimizer in {shown}: SGD::load_param_group: the keys do not match SGD's \
             parameter group"
        )),
        "{err}"
    );
    assert!(snapshot(&other) == before);

    // An optimizer over the same parameters in another order: its hyperparameters load, then Adam refuses
    // the state of the first parameter; the hyperparameters and the scheduler's state are put back.
    let mut reordered = Run::<f32>::new(Pair::AmsgradOneCycle, 5)?;
    let mut params = reordered.model.parameters();
    params.reverse();
    reordered.opt = Box::new(Adam::with_config(params, AdamConfig::new(0.01).amsgrad(true))?);
    reordered.schedule = Schedule::Step(StepLR::new(reordered.opt.as_mut(), 2, 0.5)?);
    reordered.train(0, 3)?;
    let before = snapshot(&reordered);
    let err = load_checkpoint(&path, &reordered.model, reordered.opt.as_mut(), Some(reordered.schedule.as_dyn_mut()));
    let err = err.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "load_checkpoint: the scheduler in {shown}: StepLR::load_state_dict: the keys do not match StepLR's \
             state: missing key(s) [\"step_size\", \"gamma\"], unexpected key(s) [\"_anneal_func_type\""
        )),
        "{err}"
    );
    assert!(snapshot(&reordered) == before);
    reordered.schedule = Schedule::OneCycle(OneCycleLR::new(reordered.opt.as_mut(), OneCycleConfig::new(0.05, N + M))?);
    reordered.train(3, 1)?;
    let before = snapshot(&reordered);
    let err = load_checkpoint(&path, &reordered.model, reordered.opt.as_mut(), Some(reordered.schedule.as_dyn_mut()));
    assert_eq!(
        err.unwrap_err().to_string(),
        format!(
            "load_checkpoint: the optimizer in {shown}: Adam::load_state_dict: state.0.exp_avg has shape [16, 4], \
             but parameter 0 has shape [3]"
        )
    );
    assert!(snapshot(&reordered) == before);

    // A file of the same tensors without the metadata is not a checkpoint.
    let mut plain = Run::<f32>::new(Pair::AmsgradOneCycle, 6)?;
    let bare = dir.path().join("bare.safetensors");
    let tensors: Vec<(String, Tensor<f32>)> = load_safetensors(&path)?;
    let named: Vec<(&str, &Tensor<f32>)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    save_safetensors(&bare, &named)?;
    let before = snapshot(&plain);
    let err = load_checkpoint(&bare, &plain.model, plain.opt.as_mut(), None).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "load_checkpoint: {} has no \"optimizer\" metadata: not a checkpoint of save_checkpoint",
            bare.display()
        )
    );
    assert!(snapshot(&plain) == before);

    // A scheduler's state with no scheduler to take it.
    let err = load_checkpoint(&path, &plain.model, plain.opt.as_mut(), None).unwrap_err().to_string();
    assert_eq!(err, format!("load_checkpoint: {shown} holds a scheduler's state, but no scheduler was given"));
    assert!(snapshot(&plain) == before);
    Ok(())
}

/// A layer with a buffer: it counts the rows it has seen, as batch norm counts its batches.
struct Counting {
    linear: Linear<f64>,
    seen: Tensor<f64>,
}

impl Module<f64> for Counting {
    fn forward(&self, x: &Tensor<f64>) -> Result<Tensor<f64>> {
        self.seen.add_scalar_(x.shape()[0] as f64)?;
        self.linear.forward(x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<f64>)> {
        self.linear.named_parameters()
    }
    fn named_buffers(&self) -> Vec<(String, Tensor<f64>)> {
        vec![("num_rows_seen".to_string(), self.seen.clone())]
    }
}

#[test]
fn buffers_are_saved_and_restored_under_their_container_names() -> Result<()> {
    let model = |seed| -> Sequential<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        Sequential::new()
            .add(ReLU)
            .add(Counting { linear: Linear::with_rng(4, 2, true, &mut rng), seen: Tensor::zeros(&[1]) })
    };
    let trained = model(1);
    let mut opt = SGD::new(trained.parameters(), 0.1)?;
    for step in 0..3 {
        let (x, _) = batch::<f64>(step)?;
        opt.zero_grad();
        trained.forward(&x)?.sum()?.backward()?;
        opt.step()?;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    save_checkpoint(&path, &trained, &opt, None)?;
    let names: Vec<String> = load_safetensors::<f64>(&path)?.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["model.1.bias", "model.1.num_rows_seen", "model.1.weight"]);

    let fresh = model(2);
    load_checkpoint(&path, &fresh, &mut SGD::new(fresh.parameters(), 0.3)?, None)?;
    assert_eq!(fresh.named_buffers()[0].1.to_vec()?, vec![3.0 * BATCH as f64]);
    assert_eq!(fresh.named_parameters()[0].1.to_vec()?, trained.named_parameters()[0].1.to_vec()?);
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Flips in the header (names, shapes, offsets, the metadata's JSON) are caught or harmless, never a
    /// panic, and a refused file changes nothing.
    #[test]
    fn bit_flipped_checkpoint_headers_load_or_fail_cleanly(
        flips in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 0u8..8), 1..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.safetensors");
        let mut saved = Run::<f32>::new(Pair::AmsgradOneCycle, 1).unwrap();
        saved.train(0, 2).unwrap();
        save_checkpoint(&path, &saved.model, saved.opt.as_ref(), Some(saved.schedule.as_dyn())).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        for (at, bit) in &flips {
            bytes[8 + at.index(header_end - 8)] ^= 1 << bit;
        }
        std::fs::write(&path, &bytes).unwrap();

        let mut run = Run::<f32>::new(Pair::AmsgradOneCycle, 2).unwrap();
        run.train(0, 1).unwrap();
        let before = snapshot(&run);
        if load_checkpoint(&path, &run.model, run.opt.as_mut(), Some(run.schedule.as_dyn_mut())).is_err() {
            proptest::prop_assert!(snapshot(&run) == before);
        }
    }
}
