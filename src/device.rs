//! Where a tensor's elements live.

use std::fmt;

/// The device of a tensor: the host, or a CUDA GPU by ordinal. Parsed and printed as torch spells it.
///
/// ```
/// use torchlet::Device;
/// assert_eq!("cuda:1".parse::<Device>()?, Device::Cuda(1));
/// assert_eq!("cuda".parse::<Device>()?.to_string(), "cuda:0");
/// assert_eq!(Device::default(), Device::Cpu);
/// assert!("gpu".parse::<Device>().is_err());
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Device {
    /// Host memory.
    #[default]
    Cpu,
    /// The CUDA GPU with this ordinal (needs the `cuda` feature to hold data).
    Cuda(usize),
}

impl Device {
    /// `true` for [`Device::Cuda`].
    ///
    /// ```
    /// assert!(torchlet::Device::Cuda(0).is_cuda() && !torchlet::Device::Cpu.is_cuda());
    /// ```
    pub fn is_cuda(self) -> bool {
        matches!(self, Device::Cuda(_))
    }
}

impl fmt::Display for Device {
    /// Spelled as torch spells it: `cpu`, `cuda:0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl std::str::FromStr for Device {
    type Err = crate::Error;

    /// Parses `cpu`, `cuda` (ordinal 0) and `cuda:N`, as torch does.
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            _ => s.strip_prefix("cuda:").and_then(|n| n.parse().ok()).map(Device::Cuda).ok_or_else(|| {
                crate::Error::invalid(
                    "Device::from_str",
                    format!("unknown device {s:?} (expected cpu, cuda or cuda:N)"),
                )
            }),
        }
    }
}
