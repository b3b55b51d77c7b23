//! Process-wide string interning.
//!
//! Label keys and values, namespaces, node names, resource names and taint keys are compared
//! millions of times per second on the hot path; interning turns each comparison into an integer
//! compare and each label set into a small sorted vector of `(Sym, Sym)`.
//!
//! The interner is global and append-only: a [`Sym`] stays valid for the life of the process, so
//! the model can be shared freely between the scheduler, the simulator and the autoscaler without
//! threading an interner handle through every call. Strings are leaked on purpose; the number of
//! distinct strings is bounded by the input.

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

/// An interned string. Equality and hashing are on the integer id; ordering is on the id too,
/// which is deterministic for a given input (ids are handed out in first-seen order) but is not
/// alphabetical — sort by [`Sym::as_str`] where people will read the order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

struct Interner {
    ids: HashMap<&'static str, u32>,
    strings: Vec<&'static str>,
}

fn interner() -> &'static RwLock<Interner> {
    static INTERNER: OnceLock<RwLock<Interner>> = OnceLock::new();
    INTERNER.get_or_init(|| {
        let mut interner = Interner { ids: HashMap::new(), strings: Vec::new() };
        // Id 0 is the empty string so that `Sym::default()` is meaningful; the well-known
        // strings follow in a fixed order so that they can be `const`s.
        for (id, s) in WELL_KNOWN.iter().enumerate() {
            interner.ids.insert(s, id as u32);
            interner.strings.push(s);
        }
        RwLock::new(interner)
    })
}

macro_rules! well_known {
    ($($name:ident = $id:literal => $text:literal,)*) => {
        const WELL_KNOWN: &[&str] = &[$($text),*];
        impl Sym {
            $(
                #[doc = concat!("`", $text, "`")]
                pub const $name: Sym = Sym($id);
            )*
        }
    };
}

// Strings the scheduler itself refers to. The ids must be 0, 1, 2, … in order.
well_known! {
    EMPTY = 0 => "",
    CPU = 1 => "cpu",
    MEMORY = 2 => "memory",
    EPHEMERAL_STORAGE = 3 => "ephemeral-storage",
    PODS = 4 => "pods",
    HOSTNAME = 5 => "kubernetes.io/hostname",
    ZONE = 6 => "topology.kubernetes.io/zone",
    REGION = 7 => "topology.kubernetes.io/region",
    BETA_ZONE = 8 => "failure-domain.beta.kubernetes.io/zone",
    BETA_REGION = 9 => "failure-domain.beta.kubernetes.io/region",
    TAINT_UNSCHEDULABLE = 10 => "node.kubernetes.io/unschedulable",
    DEFAULT_SCHEDULER = 11 => "default-scheduler",
    DEFAULT_NAMESPACE = 12 => "default",
    NVIDIA_GPU = 13 => "nvidia.com/gpu",
    METADATA_NAME = 14 => "metadata.name",
    TAINT_NOT_READY = 15 => "node.kubernetes.io/not-ready",
    TAINT_UNREACHABLE = 16 => "node.kubernetes.io/unreachable",
}

impl Sym {
    /// Interns `s`, returning the same `Sym` for equal strings.
    pub fn new(s: &str) -> Sym {
        let lock = interner();
        if let Some(&id) = lock.read().unwrap_or_else(|e| e.into_inner()).ids.get(s) {
            return Sym(id);
        }
        let mut w = lock.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = w.ids.get(s) {
            return Sym(id);
        }
        let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
        let id = u32::try_from(w.strings.len()).expect("more than 4 billion distinct strings");
        w.strings.push(leaked);
        w.ids.insert(leaked, id);
        Sym(id)
    }

    /// Looks `s` up without interning it: `None` means no object in the process carries it,
    /// which lets selectors short-circuit ("no pod can have this label").
    pub fn lookup(s: &str) -> Option<Sym> {
        interner().read().unwrap_or_else(|e| e.into_inner()).ids.get(s).map(|&id| Sym(id))
    }

    /// The interned text.
    pub fn as_str(self) -> &'static str {
        interner().read().unwrap_or_else(|e| e.into_inner()).strings[self.0 as usize]
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw id, for dense tables indexed by symbol.
    pub fn id(self) -> u32 {
        self.0
    }
}

impl Default for Sym {
    fn default() -> Self {
        Sym::EMPTY
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Self {
        Sym::new(s)
    }
}

impl From<&String> for Sym {
    fn from(s: &String) -> Self {
        Sym::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_intern_to_equal_symbols() {
        let a = Sym::new("topology.kubernetes.io/zone");
        let b = Sym::new(&String::from("topology.kubernetes.io/zone"));
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "topology.kubernetes.io/zone");
        assert_ne!(a, Sym::new("kubernetes.io/hostname"));
    }

    #[test]
    fn empty_string_is_the_default_symbol() {
        assert_eq!(Sym::new(""), Sym::default());
        assert!(Sym::new("").is_empty());
    }

    #[test]
    fn lookup_does_not_intern() {
        assert_eq!(Sym::lookup("never-interned-string-xyzzy"), None);
        let s = Sym::new("interned-once");
        assert_eq!(Sym::lookup("interned-once"), Some(s));
    }
}
