//! Pieces shared by several plugins (kube-scheduler's `plugins/helper`).

use crate::args::{ArgValue, FieldError, read};
use crate::intern::Sym;

/// `DefaultNormalizeScore`: scale to `0..=max_priority` by the maximum; `reverse` flips it.
/// When every score is 0, scores stay 0 (or all become `max_priority` when reversed).
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0).max(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max_priority);
        }
        return;
    }
    for s in scores.iter_mut() {
        let v = max_priority * *s / max;
        *s = if reverse { max_priority - v } else { v };
    }
}

/// A `{name, weight}` entry of `scoringStrategy.resources` / BalancedAllocation `resources`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ResourceSpec {
    pub name: Sym,
    pub weight: i64,
}

/// The default `[{cpu, 1}, {memory, 1}]`.
pub fn default_resources() -> Vec<ResourceSpec> {
    vec![ResourceSpec { name: Sym::CPU, weight: 1 }, ResourceSpec { name: Sym::MEMORY, weight: 1 }]
}

/// Parses a resources list, applying the v1 defaults (empty → cpu+memory, weight 0 → 1).
pub fn parse_resources(v: Option<&ArgValue>, path: &str) -> Result<Vec<ResourceSpec>, FieldError> {
    let items = read::list(v, path)?;
    if items.is_empty() {
        return Ok(default_resources());
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        read::known_keys(item, &["name", "weight"], &p)?;
        let name = read::string(item.get("name"), &format!("{p}.name"))?.unwrap_or_default();
        if name.is_empty() {
            return Err(FieldError::required(format!("{p}.name")));
        }
        let weight = read::int(item.get("weight"), &format!("{p}.weight"))?.unwrap_or(0);
        let weight = if weight == 0 { 1 } else { weight };
        out.push(ResourceSpec { name: Sym::new(&name), weight });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_scales_by_max() {
        let mut s = [0, 5, 10];
        default_normalize_score(100, false, &mut s);
        assert_eq!(s, [0, 50, 100]);
        let mut r = [0, 5, 10];
        default_normalize_score(100, true, &mut r);
        assert_eq!(r, [100, 50, 0]);
        let mut z = [0, 0];
        default_normalize_score(100, true, &mut z);
        assert_eq!(z, [100, 100]);
        let mut z2 = [0, 0];
        default_normalize_score(100, false, &mut z2);
        assert_eq!(z2, [0, 0]);
        // Integer division first, as in Go: 100*1/3 = 33 → 67.
        let mut t = [1, 3];
        default_normalize_score(100, true, &mut t);
        assert_eq!(t, [67, 0]);
    }
}
