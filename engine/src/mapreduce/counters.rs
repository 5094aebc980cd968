//! Job counters: built-in ones (Hadoop's task counters) and user counters.
//!
//! Each attempt counts into its own [`Counters`]; the job adds an attempt's counts only when the
//! attempt commits, so a failed or killed attempt's work is never counted (as in Hadoop, where
//! only successful attempts contribute to the job's counters). Failed and killed attempts are
//! themselves counted by the job.

use std::collections::BTreeMap;
use std::fmt;

/// Counters of a job (or of one attempt while it runs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Input records (lines) the committed map attempts read.
    pub map_input_records: u64,
    /// Records the mappers emitted.
    pub map_output_records: u64,
    /// Values fed to the combiner.
    pub combine_input_records: u64,
    /// Values the combiner returned.
    pub combine_output_records: u64,
    /// Records written to spilled sorted runs.
    pub spilled_records: u64,
    /// Spills (sorted run sets) written by map attempts.
    pub spills: u64,
    /// Distinct keys the reducers were called with.
    pub reduce_input_groups: u64,
    /// Values the reducers read.
    pub reduce_input_records: u64,
    /// Lines the reducers wrote.
    pub reduce_output_records: u64,
    /// Map tasks (input splits).
    pub map_tasks: u64,
    /// Reduce tasks (partitions).
    pub reduce_tasks: u64,
    /// Task attempts that panicked or returned an error.
    pub failed_attempts: u64,
    /// Task attempts stopped because another attempt of the same task committed first.
    pub killed_attempts: u64,
    /// Backup attempts launched for stragglers.
    pub speculative_attempts: u64,
    /// Counters user code incremented, by name.
    pub user: BTreeMap<String, u64>,
}

impl Counters {
    /// Increments user counter `name` by `by`.
    pub fn increment(&mut self, name: &str, by: u64) {
        match self.user.get_mut(name) {
            Some(n) => *n += by,
            None => {
                self.user.insert(name.to_string(), by);
            }
        }
    }

    /// Adds the record counts of a committed attempt.
    pub(crate) fn add_attempt(&mut self, a: &Counters) {
        self.map_input_records += a.map_input_records;
        self.map_output_records += a.map_output_records;
        self.combine_input_records += a.combine_input_records;
        self.combine_output_records += a.combine_output_records;
        self.spilled_records += a.spilled_records;
        self.spills += a.spills;
        self.reduce_input_groups += a.reduce_input_groups;
        self.reduce_input_records += a.reduce_input_records;
        self.reduce_output_records += a.reduce_output_records;
        for (name, n) in &a.user {
            self.increment(name, *n);
        }
    }

    fn rows(&self) -> Vec<(&str, u64)> {
        let mut rows = vec![
            ("map tasks", self.map_tasks),
            ("map input records", self.map_input_records),
            ("map output records", self.map_output_records),
            ("combine input records", self.combine_input_records),
            ("combine output records", self.combine_output_records),
            ("spills", self.spills),
            ("spilled records", self.spilled_records),
            ("reduce tasks", self.reduce_tasks),
            ("reduce input groups", self.reduce_input_groups),
            ("reduce input records", self.reduce_input_records),
            ("reduce output records", self.reduce_output_records),
            ("failed attempts", self.failed_attempts),
            ("killed attempts", self.killed_attempts),
            ("speculative attempts", self.speculative_attempts),
        ];
        rows.extend(self.user.iter().map(|(k, &v)| (k.as_str(), v)));
        rows
    }
}

/// One `name  value` line per counter, built-in ones first.
impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.rows() {
            writeln!(f, "  {name:<24} {value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_an_attempt_adds_records_and_user_counters() {
        let mut job = Counters::default();
        let mut a = Counters {
            map_input_records: 3,
            ..Counters::default()
        };
        a.increment("lines with digits", 2);
        job.add_attempt(&a);
        job.add_attempt(&a);
        assert_eq!(job.map_input_records, 6);
        assert_eq!(job.user["lines with digits"], 4);
        assert!(job.to_string().contains("map input records"));
    }
}
