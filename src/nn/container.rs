//! Containers: `Sequential` (layers applied in order) and `ModuleList` (layers held, applied by the caller).
//! Both name their children's parameters by position, `0.weight`, `2.bias`, exactly as torch's `state_dict`,
//! so a safetensors file moves between the two unchanged, and pass `train`/`eval` on to every child. Each
//! keeps forward hooks of its own and of each layer (see [`super::Hooked`]).

use super::hooks::{ForwardHook, ForwardHooks};
use super::Module;
use crate::autograd::RemovableHandle;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A container's layer, with the forward hooks registered on it through the container.
struct Layer<T: Element> {
    module: Box<dyn Module<T> + Send + Sync>,
    hooks: ForwardHooks<T>,
}

/// The children's named tensors (`named` picks parameters or buffers), prefixed by their position.
fn positional<T: Element>(
    layers: &[Layer<T>],
    named: impl Fn(&dyn Module<T>) -> Vec<(String, Tensor<T>)>,
) -> Vec<(String, Tensor<T>)> {
    layers
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| {
            named(layer.module.as_ref()).into_iter().map(move |(name, t)| (format!("{i}.{name}"), t))
        })
        .collect()
}

/// The one layer list behind both containers: the list methods and the `Module` implementation (how the
/// layers are applied, named and switched between training and evaluation), written once for both; `$kind`
/// names the container in the docs.
macro_rules! layer_list {
    ($name:ident, $kind:literal) => {
        impl<T: Element> Default for $name<T> {
            fn default() -> Self {
                $name { layers: Vec::new(), hooks: ForwardHooks::default() }
            }
        }

        impl<T: Element> $name<T> {
            #[doc = concat!("An empty ", $kind, ".")]
            pub fn new() -> Self {
                Self::default()
            }

            /// Appends `layer` (`.append(layer)`).
            pub fn push(&mut self, layer: impl Module<T> + Send + Sync + 'static) {
                self.layers.push(Layer { module: Box::new(layer), hooks: ForwardHooks::default() });
            }

            /// The number of layers.
            pub fn len(&self) -> usize {
                self.layers.len()
            }

            /// Whether there are no layers.
            pub fn is_empty(&self) -> bool {
                self.layers.is_empty()
            }

            /// Layer `i` (`[i]`).
            pub fn get(&self, i: usize) -> Option<&(dyn Module<T> + Send + Sync)> {
                self.layers.get(i).map(|l| l.module.as_ref())
            }

            /// The layers in order.
            pub fn iter(&self) -> impl Iterator<Item = &(dyn Module<T> + Send + Sync)> {
                self.layers.iter().map(|l| l.module.as_ref())
            }

            #[doc = concat!("Registers a forward hook on the whole `", stringify!($name), "`")]
            /// (`model.register_forward_hook(hook)`): called after its forward with it, the input and the
            /// output, it may return a replacement output. The handle removes it. See
            /// [`Hooked`](super::Hooked) for any other module.
            pub fn register_forward_hook(&self, hook: impl ForwardHook<T>) -> RemovableHandle {
                self.hooks.register(hook)
            }

            /// Registers a forward hook on layer `i` (`model[i].register_forward_hook(hook)`): called after
            /// that layer's forward with the layer, its input and its output, it may return a replacement
            /// output, which the next layer gets. Fails for an index past the last layer.
            pub fn register_layer_forward_hook(&self, i: usize, hook: impl ForwardHook<T>) -> Result<RemovableHandle> {
                match self.layers.get(i) {
                    Some(layer) => Ok(layer.hooks.register(hook)),
                    None => {
                        let (kind, len) = (stringify!($name), self.layers.len());
                        let msg = format!("index {i} is out of range for a {kind} of {len} layers");
                        Err(Error::invalid("register_layer_forward_hook", msg))
                    }
                }
            }
        }

        impl<T: Element> Module<T> for $name<T> {
            /// Applies the layers in order (`for layer in layers: x = layer(x)`).
            ///
            /// A layer's error comes back naming the layer's index and type, `Sequential[3] (Linear): …`.
            fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
                let mut x = input.clone();
                for (i, layer) in self.layers.iter().enumerate() {
                    let module = layer.module.as_ref();
                    x = module.forward(&x).and_then(|y| layer.hooks.run(module, &x, y)).map_err(|e| {
                        Error::InModule {
                            at: format!("{}[{i}] ({})", stringify!($name), module.type_name()),
                            source: Box::new(e),
                        }
                    })?;
                }
                self.hooks.run(self, input, x)
            }

            fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
                positional(&self.layers, |l| l.named_parameters())
            }

            fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
                positional(&self.layers, |l| l.named_buffers())
            }

            fn set_training(&mut self, mode: bool) {
                self.layers.iter_mut().for_each(|l| l.module.set_training(mode));
            }
        }
    };
}

/// Layers applied one after the other (`nn.Sequential`).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::{Linear, Module, ReLU, Sequential};
/// use torchlet::Tensor;
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Sequential::new().add(Linear::<f32>::with_rng(4, 8, true, &mut rng)).add(ReLU).add(Linear::with_rng(8, 2, true, &mut rng));
/// assert_eq!(model.forward(&Tensor::zeros(&[5, 4]))?.shape(), &[5, 2]);
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct Sequential<T: Element> {
    layers: Vec<Layer<T>>,
    hooks: ForwardHooks<T>,
}

layer_list!(Sequential, "sequence (its forward is the identity)");

impl<T: Element> Sequential<T> {
    /// The sequence with `layer` appended (tch-rs's `nn::seq().add(layer)`; not `std::ops::Add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module<T> + Send + Sync + 'static) -> Self {
        self.push(layer);
        self
    }
}

/// Layers held in a list (`nn.ModuleList`): their parameters are the list's, named by position. The caller
/// usually applies them one by one; `forward` applies them all in order.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::{Linear, Module, ModuleList, Tanh};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut layers = ModuleList::<f64>::new();
/// layers.push(Linear::with_rng(2, 3, true, &mut rng));
/// layers.push(Tanh);
/// assert_eq!(layers.len(), 2);
/// assert_eq!(layers.named_parameters()[1].0, "0.bias");
/// ```
pub struct ModuleList<T: Element> {
    layers: Vec<Layer<T>>,
    hooks: ForwardHooks<T>,
}

layer_list!(ModuleList, "list");
