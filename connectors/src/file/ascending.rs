//! An input contract a file spout can check as it reads: within each key, a seq that ascends.
//!
//! The check belongs in the spout because only there is it deterministic: the spout reads the
//! file once, in order, whatever the guarantee, and knows each record's line. Downstream, a
//! replay (at-least-once) or a rollback (exactly-once) brings records again and out of order,
//! so a bolt could not tell a violation from a recovery.

use std::collections::HashMap;
use std::sync::Arc;

/// Extracts a record's key and seq.
pub(crate) type KeySeq<T> = Arc<dyn Fn(&T) -> (u64, u64) + Send + Sync>;

/// The last seq seen per key, and how to name them in a report.
pub(crate) struct Ascending<T> {
    key_seq: KeySeq<T>,
    names: (&'static str, &'static str),
    last: HashMap<u64, u64>,
}

impl<T> Ascending<T> {
    pub(crate) fn new(names: (&'static str, &'static str), key_seq: KeySeq<T>) -> Self {
        Ascending {
            key_seq,
            names,
            last: HashMap::new(),
        }
    }

    /// The same check, with nothing seen yet.
    pub(crate) fn unopened(&self) -> Self {
        Ascending::new(self.names, self.key_seq.clone())
    }

    /// Forgets every key (the input is read again from its start).
    pub(crate) fn reset(&mut self) {
        self.last.clear();
    }

    /// Takes `record` when its seq is above its key's last one; otherwise says why not, and
    /// the key's last seq stays (a violating record is skipped, so it sets nothing).
    pub(crate) fn check(&mut self, record: &T) -> Result<(), String> {
        let (key, seq) = (self.key_seq)(record);
        match self.last.insert(key, seq) {
            Some(previous) if seq <= previous => {
                self.last.insert(key, previous);
                let (key_name, seq_name) = self.names;
                let what = if seq == previous {
                    "repeats"
                } else {
                    "is below"
                };
                Err(format!(
                    "{seq_name} {seq} of {key_name} {key} {what} its previous {seq_name} \
                     {previous} ({seq_name}s must ascend per {key_name})"
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seq_not_above_its_keys_last_is_refused_and_forgotten() {
        let mut a = Ascending::new(("sensor", "seq"), Arc::new(|&(k, s): &(u64, u64)| (k, s)));
        assert_eq!(a.check(&(1, 5)), Ok(()));
        assert_eq!(a.check(&(2, 1)), Ok(()), "keys are independent");
        assert_eq!(
            a.check(&(1, 4)),
            Err(
                "seq 4 of sensor 1 is below its previous seq 5 (seqs must ascend per sensor)"
                    .into()
            )
        );
        assert_eq!(
            a.check(&(1, 5)),
            Err(
                "seq 5 of sensor 1 repeats its previous seq 5 (seqs must ascend per sensor)".into()
            )
        );
        assert_eq!(a.check(&(1, 6)), Ok(()));
        a.reset();
        assert_eq!(a.check(&(1, 1)), Ok(()));
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Reading {
        sensor: u32,
        seq: u64,
    }

    fn spout(path: &std::path::Path, malformed: &crate::file::Malformed) -> CsvSpout<Reading> {
        CsvSpout::<Reading>::new(path)
            .with_malformed(malformed.clone())
            .with_batch(3)
            .with_ascending(("sensor", "seq"), |r: &Reading| {
                (u64::from(r.sensor), r.seq)
            })
    }

    use crate::file::testing::{check_rewind, collect};
    use crate::file::CsvSpout;

    #[test]
    fn the_csv_spout_skips_violations_also_after_a_rewind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        // Sensor 0 goes 5, 4, 3, 6, 6, 7; sensor 1 ascends throughout.
        let mut text = String::from("sensor,seq\n");
        for (i, seq) in [5, 4, 3, 6, 6, 7].iter().enumerate() {
            text.push_str(&format!("0,{seq}\n1,{i}\n"));
        }
        std::fs::write(&path, text).unwrap();
        let malformed = crate::file::Malformed::new();
        let got = collect(spout(&path, &malformed), 1).unwrap();
        let zero: Vec<u64> = got
            .iter()
            .filter(|r| r.sensor == 0)
            .map(|r| r.seq)
            .collect();
        assert_eq!(zero, [5, 6, 7]);
        assert_eq!(got.len(), 9);
        let p = path.display();
        assert_eq!(
            malformed.reports(),
            [
                format!("{p}: line 4: seq 4 of sensor 0 is below its previous seq 5 (seqs must ascend per sensor); line skipped"),
                format!("{p}: line 6: seq 3 of sensor 0 is below its previous seq 5 (seqs must ascend per sensor); line skipped"),
                format!("{p}: line 10: seq 6 of sensor 0 repeats its previous seq 6 (seqs must ascend per sensor); line skipped"),
            ]
        );
        // A rewind rebuilds each sensor's last seq at the checkpointed position.
        for (snapshot, restore) in [(1, 4), (3, 8), (5, 9)] {
            check_rewind(spout(&path, &malformed), snapshot, restore);
        }
        assert_eq!(malformed.count(), 3, "each violation reported once");
    }
}
