//! Containers: `Sequential` (layers applied in order) and `ModuleList` (layers held, applied by the caller).
//! Both name their children's parameters by position, `0.weight`, `2.bias`, exactly as torch's `state_dict`,
//! so a safetensors file moves between the two unchanged, and pass `train`/`eval` on to every child.

use super::Module;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A container's layer.
type Layer<T> = Box<dyn Module<T> + Send + Sync>;

/// The children's named tensors (`named` picks parameters or buffers), prefixed by their position.
fn positional<T: Element>(
    layers: &[Layer<T>],
    named: impl Fn(&dyn Module<T>) -> Vec<(String, Tensor<T>)>,
) -> Vec<(String, Tensor<T>)> {
    layers
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| named(layer.as_ref()).into_iter().map(move |(name, t)| (format!("{i}.{name}"), t)))
        .collect()
}

/// The one layer list behind both containers: the list methods and the `Module` implementation (how the
/// layers are applied, named and switched between training and evaluation), written once for both; `$kind`
/// names the container in the docs.
macro_rules! layer_list {
    ($name:ident, $kind:literal) => {
        impl<T: Element> Default for $name<T> {
            fn default() -> Self {
                $name { layers: Vec::new() }
            }
        }

        impl<T: Element> $name<T> {
            #[doc = concat!("An empty ", $kind, ".")]
            pub fn new() -> Self {
                Self::default()
            }

            /// Appends `layer` (`.append(layer)`).
            pub fn push(&mut self, layer: impl Module<T> + Send + Sync + 'static) {
                self.layers.push(Box::new(layer));
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
                self.layers.get(i).map(|b| b.as_ref())
            }

            /// The layers in order.
            pub fn iter(&self) -> impl Iterator<Item = &(dyn Module<T> + Send + Sync)> {
                self.layers.iter().map(|b| b.as_ref())
            }
        }

        impl<T: Element> Module<T> for $name<T> {
            /// Applies the layers in order (`for layer in layers: x = layer(x)`).
            ///
            /// A layer's error comes back naming the layer's index and type, `Sequential[3] (Linear): …`.
            fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
                let mut x = input.clone();
                for (i, layer) in self.layers.iter().enumerate() {
                    x = layer.forward(&x).map_err(|e| Error::InModule {
                        at: format!("{}[{i}] ({})", stringify!($name), layer.type_name()),
                        source: Box::new(e),
                    })?;
                }
                Ok(x)
            }

            fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
                positional(&self.layers, |l| l.named_parameters())
            }

            fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
                positional(&self.layers, |l| l.named_buffers())
            }

            fn set_training(&mut self, mode: bool) {
                self.layers.iter_mut().for_each(|l| l.set_training(mode));
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
}

layer_list!(ModuleList, "list");
