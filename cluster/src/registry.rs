//! The topologies a binary can run, by name: the same preparation serves `run` (one process)
//! and the cluster (every worker prepares the same topology from the same options).

use std::collections::BTreeMap;

use squall::{Config, RunReport, Topology};

/// Turns a run report into the text a run prints on stderr when it ends.
pub type Summary = Box<dyn FnOnce(&RunReport) -> String + Send>;

/// A topology ready to run, with its configuration and how to summarise its report.
pub struct Prepared {
    /// The topology.
    pub topology: Topology,
    /// Its configuration (guarantee, checkpoint interval...).
    pub config: Config,
    /// The summary of a finished run, as `run` prints it.
    pub summary: Summary,
}

/// Prepares a topology from its command-line options (those after `run TOPOLOGY`); an error
/// is one sentence for the user.
pub type Prepare = Box<dyn Fn(&[String]) -> Result<Prepared, String> + Send + Sync>;

/// The topologies a binary serves, by name.
#[derive(Default)]
pub struct Registry {
    entries: BTreeMap<String, (String, Prepare)>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers topology `name` (described by `about` in listings), prepared by `prepare`
    /// from its options. A second registration of a name replaces the first.
    pub fn register(
        &mut self,
        name: &str,
        about: &str,
        prepare: impl Fn(&[String]) -> Result<Prepared, String> + Send + Sync + 'static,
    ) -> &mut Self {
        self.entries
            .insert(name.to_string(), (about.to_string(), Box::new(prepare)));
        self
    }

    /// Prepares topology `name` from `options`.
    pub fn prepare(&self, name: &str, options: &[String]) -> Result<Prepared, String> {
        let (_, prepare) = self.entries.get(name).ok_or_else(|| {
            format!(
                "unknown topology {name}; this binary serves: {}",
                self.names().join(", ")
            )
        })?;
        prepare(options)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// (name, description) of every registered topology, sorted by name.
    pub fn list(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(n, (about, _))| (n.clone(), about.clone()))
            .collect()
    }
}
