//! The scheduling framework: profiles assembled from configuration, the per-pod cycle state,
//! and the plugin registry. The cycle itself is in [`crate::schedule`].

pub mod plugin;
pub mod status;

pub use plugin::*;
pub use status::*;

use crate::args::{ArgValue, FieldError};
use crate::config::{self, PluginRef, PluginSet, ProfileConfig, SchedulerConfig};
use crate::intern::Sym;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Builds a plugin from its (possibly null) args; `path` is the args' field path for errors.
pub type PluginFactory = fn(args: &ArgValue, path: &str) -> Result<Arc<dyn Plugin>, FieldError>;

/// Plugin name → factory. The in-tree registry is [`crate::plugins::registry`]; consumers may
/// add their own plugins before building profiles.
#[derive(Clone, Default)]
pub struct Registry {
    factories: BTreeMap<&'static str, PluginFactory>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn register(&mut self, name: &'static str, factory: PluginFactory) {
        self.factories.insert(name, factory);
    }

    pub fn get(&self, name: &str) -> Option<PluginFactory> {
        self.factories.get(name).copied()
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.factories.keys().copied()
    }
}

/// A runnable profile: the plugin instances and, per extension point, the indices of the
/// plugins that run there, in order.
#[derive(Clone)]
pub struct Profile {
    pub scheduler_name: Sym,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub plugins: Vec<Arc<dyn Plugin>>,
    pub queue_sort: Option<usize>,
    pub pre_enqueue: Vec<usize>,
    pub pre_filter: Vec<usize>,
    pub filter: Vec<usize>,
    pub post_filter: Vec<usize>,
    pub pre_score: Vec<usize>,
    /// Score plugins with their weights.
    pub score: Vec<(usize, i64)>,
    pub reserve: Vec<usize>,
    pub bind: Vec<usize>,
}

impl Profile {
    pub fn plugin(&self, i: usize) -> &dyn Plugin {
        &*self.plugins[i]
    }

    /// The index of the plugin named `name`, if the profile uses it.
    pub fn plugin_index(&self, name: &str) -> Option<usize> {
        self.plugins.iter().position(|p| p.name() == name)
    }

    /// A fresh cycle state sized for this profile.
    pub fn new_cycle_state(&self) -> CycleState {
        CycleState {
            slots: vec![PluginState::default(); self.plugins.len()],
            skip_filter: vec![false; self.plugins.len()],
            skip_score: vec![false; self.plugins.len()],
        }
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |v: &[usize]| v.iter().map(|&i| self.plugins[i].name()).collect::<Vec<_>>();
        f.debug_struct("Profile")
            .field("scheduler_name", &self.scheduler_name)
            .field("pre_filter", &names(&self.pre_filter))
            .field("filter", &names(&self.filter))
            .field("score", &self.score.iter().map(|&(i, w)| (self.plugins[i].name(), w)).collect::<Vec<_>>())
            .finish()
    }
}

/// Per-pod scheduling state: one slot per plugin of the profile, plus the plugins whose Filter
/// or Score is skipped for this pod.
#[derive(Clone, Debug)]
pub struct CycleState {
    pub slots: Vec<PluginState>,
    pub skip_filter: Vec<bool>,
    pub skip_score: Vec<bool>,
}

/// Builds every profile of `config`, validating the configuration and each plugin's args.
/// All errors are returned, each naming its field.
pub fn build_profiles(config: &SchedulerConfig, registry: &Registry) -> Result<Vec<Profile>, Vec<FieldError>> {
    let mut errs = config::validate(config);
    let mut profiles = Vec::new();
    for (i, p) in config.profiles.iter().enumerate() {
        match build_profile(p, i, registry) {
            Ok(profile) => profiles.push(profile),
            Err(mut e) => errs.append(&mut e),
        }
    }
    if errs.is_empty() { Ok(profiles) } else { Err(errs) }
}

fn build_profile(p: &ProfileConfig, index: usize, registry: &Registry) -> Result<Profile, Vec<FieldError>> {
    let path = format!("profiles[{index}]");
    let merged = config::merged_plugins(p);
    let mut errs = Vec::new();

    // Instantiate every plugin enabled anywhere, once, with its args.
    let mut names: Vec<&str> = Vec::new();
    for (_, set) in merged.points().into_iter().chain([("multiPoint", &merged.multi_point)]) {
        for e in &set.enabled {
            if !names.contains(&e.name.as_str()) {
                names.push(&e.name);
            }
        }
    }
    for (j, pc) in p.plugin_config.iter().enumerate() {
        if !names.contains(&pc.name.as_str()) && registry.get(&pc.name).is_none() {
            errs.push(FieldError::new(
                format!("{path}.pluginConfig[{j}].name"),
                format!("Invalid value: {:?}: plugin does not exist", pc.name),
            ));
        }
    }
    let mut plugins: Vec<Arc<dyn Plugin>> = Vec::new();
    for name in &names {
        let Some(factory) = registry.get(name) else {
            errs.push(FieldError::new(format!("{path}.plugins"), format!("plugin {name:?} does not exist")));
            continue;
        };
        let (args, args_path) = match p.plugin_config.iter().position(|pc| pc.name == *name) {
            Some(j) => (&p.plugin_config[j].args, format!("{path}.pluginConfig[{j}].args")),
            None => (&ArgValue::Null, format!("{path}.pluginConfig[{name}].args")),
        };
        match factory(args, &args_path) {
            Ok(plugin) => plugins.push(plugin),
            Err(e) => errs.push(e),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let index_of = |name: &str| plugins.iter().position(|pl| pl.name() == name);

    // Each point: the specific set, then MultiPoint expansion (kube's expandMultiPointPlugins).
    let expand =
        |point_name: &str, set: &PluginSet, point: Points, errs: &mut Vec<FieldError>| -> Vec<(usize, Option<i32>)> {
            let mut specific: Vec<(usize, Option<i32>)> = Vec::new();
            for e in &set.enabled {
                let Some(i) = index_of(&e.name) else { continue };
                if !plugins[i].points().contains(point) {
                    errs.push(FieldError::new(
                        format!("{path}.plugins.{point_name}"),
                        format!("plugin {:?} does not extend {point_name} plugin", e.name),
                    ));
                    continue;
                }
                if specific.iter().any(|&(j, _)| j == i) {
                    errs.push(FieldError::new(
                        format!("{path}.plugins.{point_name}"),
                        format!("plugin {:?} already registered as {point_name:?}", e.name),
                    ));
                    continue;
                }
                specific.push((i, e.weight));
            }
            if set.disabled.iter().any(|d| d == "*") {
                return specific;
            }
            let mut overrides = Vec::new();
            let mut from_multi: Vec<(usize, Option<i32>)> = Vec::new();
            for e in &merged.multi_point.enabled {
                let Some(i) = index_of(&e.name) else { continue };
                if !plugins[i].points().contains(point) || set.disabled.contains(&e.name) {
                    continue;
                }
                if specific.iter().any(|&(j, _)| j == i) {
                    overrides.push(i);
                    continue;
                }
                if from_multi.iter().any(|&(j, _)| j == i) {
                    errs.push(FieldError::new(
                        format!("{path}.plugins.multiPoint"),
                        format!("plugin {:?} already registered as {point_name:?}", e.name),
                    ));
                    continue;
                }
                from_multi.push((i, e.weight));
            }
            // Overridden plugins first (in their specific order), then MultiPoint, then the rest.
            let mut out: Vec<(usize, Option<i32>)> =
                specific.iter().filter(|(i, _)| overrides.contains(i)).copied().collect();
            out.extend(from_multi);
            out.extend(specific.iter().filter(|(i, _)| !overrides.contains(i)).copied());
            out
        };
    let only = |v: Vec<(usize, Option<i32>)>| v.into_iter().map(|(i, _)| i).collect::<Vec<_>>();

    let queue_sort = only(expand("queueSort", &merged.queue_sort, Points::QUEUE_SORT, &mut errs));
    let pre_enqueue = only(expand("preEnqueue", &merged.pre_enqueue, Points::PRE_ENQUEUE, &mut errs));
    let pre_filter = only(expand("preFilter", &merged.pre_filter, Points::PRE_FILTER, &mut errs));
    let filter = only(expand("filter", &merged.filter, Points::FILTER, &mut errs));
    let post_filter = only(expand("postFilter", &merged.post_filter, Points::POST_FILTER, &mut errs));
    let pre_score = only(expand("preScore", &merged.pre_score, Points::PRE_SCORE, &mut errs));
    let score_list = expand("score", &merged.score, Points::SCORE, &mut errs);
    let reserve = only(expand("reserve", &merged.reserve, Points::RESERVE, &mut errs));
    let bind = only(expand("bind", &merged.bind, Points::BIND, &mut errs));

    // Weights: an explicit score-point weight wins over the MultiPoint one; 0 means 1.
    let weight_of = |i: usize| -> i64 {
        let name = plugins[i].name();
        let find = |refs: &[PluginRef]| refs.iter().find(|r| r.name == name).and_then(|r| r.weight);
        let w = find(&merged.score.enabled).or_else(|| find(&merged.multi_point.enabled)).unwrap_or(0);
        if w == 0 { 1 } else { w as i64 }
    };
    let score: Vec<(usize, i64)> = score_list.iter().map(|&(i, _)| (i, weight_of(i))).collect();
    let total: i64 = score.iter().map(|&(_, w)| w * 100).sum();
    if total > i64::MAX / 2 {
        errs.push(FieldError::new(format!("{path}.plugins.score"), "total score of Score plugins could overflow"));
    }
    if queue_sort.len() != 1 {
        errs.push(FieldError::new(
            format!("{path}.plugins.queueSort"),
            format!(
                "only one queue sort plugin required for profile with scheduler name {:?}, but got {}",
                p.scheduler_name,
                queue_sort.len()
            ),
        ));
    }
    if bind.is_empty() {
        errs.push(FieldError::new(
            format!("{path}.plugins.bind"),
            format!("at least one bind plugin is needed for profile with scheduler name {:?}", p.scheduler_name),
        ));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Profile {
        scheduler_name: Sym::new(&p.scheduler_name),
        percentage_of_nodes_to_score: p.percentage_of_nodes_to_score,
        plugins,
        queue_sort: queue_sort.first().copied(),
        pre_enqueue,
        pre_filter,
        filter,
        post_filter,
        pre_score,
        score,
        reserve,
        bind,
    })
}
