//! The node-keyed map of one backward pass.

use smallvec::SmallVec;
use std::collections::HashMap;

/// A map from node identity to `V` for one backward pass: a vector searched linearly while small (the
/// common case, and much cheaper than hashing), a hash map once the graph grows.
pub(super) enum SmallMap<V> {
    Small(SmallVec<[(usize, V); 8]>),
    Large(HashMap<usize, V>),
}

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap::Small(SmallVec::new())
    }
}

impl<V: Default> SmallMap<V> {
    const SMALL: usize = 32;

    #[inline(always)]
    pub(super) fn insert(&mut self, key: usize, value: V) {
        *self.entry(key) = value;
    }

    #[inline(always)]
    pub(super) fn get(&self, key: usize) -> Option<&V> {
        match self {
            SmallMap::Small(items) => items.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            SmallMap::Large(map) => map.get(&key),
        }
    }

    /// The value for `key`, inserted as `V::default()` when missing.
    #[inline(always)]
    pub(super) fn entry(&mut self, key: usize) -> &mut V {
        if let SmallMap::Small(items) = self {
            if items.len() >= Self::SMALL && !items.iter().any(|(k, _)| *k == key) {
                self.grow();
            }
        }
        match self {
            SmallMap::Small(items) => {
                let index = match items.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        items.push((key, V::default()));
                        items.len() - 1
                    }
                };
                &mut items[index].1
            }
            SmallMap::Large(map) => map.entry(key).or_default(),
        }
    }

    /// From the vector to the hash map, once the graph has outgrown linear search.
    #[cold]
    fn grow(&mut self) {
        if let SmallMap::Small(items) = self {
            *self = SmallMap::Large(std::mem::take(items).into_iter().collect());
        }
    }

    #[inline(always)]
    pub(super) fn remove(&mut self, key: usize) -> Option<V> {
        match self {
            SmallMap::Small(items) => items.iter().position(|(k, _)| *k == key).map(|i| items.swap_remove(i).1),
            SmallMap::Large(map) => map.remove(&key),
        }
    }
}
