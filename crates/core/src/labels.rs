//! Label sets: small vectors of interned `(key, value)` pairs sorted by key id.

use crate::intern::Sym;
use smallvec::SmallVec;

#[derive(Clone, Default, PartialEq, Eq, Debug, Hash)]
pub struct Labels(SmallVec<[(Sym, Sym); 4]>);

impl Labels {
    pub fn new() -> Labels {
        Labels::default()
    }

    /// The value of `key`, if present.
    #[inline]
    pub fn get(&self, key: Sym) -> Option<Sym> {
        // Label sets are short; a linear scan beats a binary search below ~16 entries.
        if self.0.len() <= 16 {
            self.0.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
        } else {
            self.0.binary_search_by_key(&key, |&(k, _)| k).ok().map(|i| self.0[i].1)
        }
    }

    pub fn contains_key(&self, key: Sym) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, replacing any previous value.
    pub fn insert(&mut self, key: Sym, value: Sym) {
        match self.0.binary_search_by_key(&key, |&(k, _)| k) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    pub fn remove(&mut self, key: Sym) -> Option<Sym> {
        match self.0.binary_search_by_key(&key, |&(k, _)| k) {
            Ok(i) => Some(self.0.remove(i).1),
            Err(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Pairs in key-id order.
    pub fn iter(&self) -> impl Iterator<Item = (Sym, Sym)> + '_ {
        self.0.iter().copied()
    }

    /// Pairs as strings, sorted alphabetically by key (for output).
    pub fn to_sorted_strings(&self) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = self.0.iter().map(|(k, val)| (k.as_str(), val.as_str())).collect();
        v.sort();
        v
    }

    /// True when every pair of `subset` is in `self` (nodeSelector semantics).
    pub fn contains_all(&self, subset: &Labels) -> bool {
        subset.iter().all(|(k, v)| self.get(k) == Some(v))
    }
}

impl<K: Into<Sym>, V: Into<Sym>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut labels = Labels::new();
        for (k, v) in iter {
            labels.insert(k.into(), v.into());
        }
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_replace_remove() {
        let mut l: Labels = [("app", "web"), ("tier", "front")].into_iter().collect();
        assert_eq!(l.get(Sym::new("app")), Some(Sym::new("web")));
        l.insert(Sym::new("app"), Sym::new("db"));
        assert_eq!(l.get(Sym::new("app")), Some(Sym::new("db")));
        assert_eq!(l.len(), 2);
        assert_eq!(l.remove(Sym::new("tier")), Some(Sym::new("front")));
        assert_eq!(l.get(Sym::new("tier")), None);
    }

    #[test]
    fn contains_all_is_node_selector_semantics() {
        let node: Labels = [("disk", "ssd"), ("zone", "a")].into_iter().collect();
        let want: Labels = [("disk", "ssd")].into_iter().collect();
        let other: Labels = [("disk", "hdd")].into_iter().collect();
        assert!(node.contains_all(&want));
        assert!(!node.contains_all(&other));
        assert!(node.contains_all(&Labels::new()));
    }

    #[test]
    fn long_label_sets_use_binary_search() {
        let l: Labels =
            (0..40).map(|i| (format!("k{i}"), format!("v{i}"))).map(|(k, v)| (Sym::new(&k), Sym::new(&v))).collect();
        for i in 0..40 {
            assert_eq!(l.get(Sym::new(&format!("k{i}"))), Some(Sym::new(&format!("v{i}"))));
        }
    }
}
