//! Counts per key in each window.

use std::collections::BTreeMap;

use squall::window::{WindowRange, WindowedBolt};
use squall::{BoltCollector, ComponentError};

use super::{Event, WindowResult};

/// The window bolt of `window-count`: per window, a count per key; firing sends each key's
/// line `start\tend\tkey\tcount`; a late event goes to the late lines as `ts_ms,key`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountPerKey;

impl WindowedBolt for CountPerKey {
    type Input = Event;
    type Output = WindowResult;
    type Acc = BTreeMap<String, u64>;

    fn add(&mut self, acc: &mut Self::Acc, e: &Event) {
        match acc.get_mut(&e.key) {
            Some(n) => *n += 1,
            None => {
                acc.insert(e.key.clone(), 1);
            }
        }
    }

    fn fire(
        &mut self,
        w: WindowRange,
        acc: &Self::Acc,
        _update: bool,
        out: &mut BoltCollector<'_, WindowResult>,
    ) -> Result<(), ComponentError> {
        for (key, n) in acc {
            out.emit(WindowResult::Group {
                start: w.start,
                key: key.clone(),
                lines: vec![format!("{}\t{}\t{key}\t{n}", w.start, w.end)],
            });
        }
        Ok(())
    }

    fn late(
        &mut self,
        e: Event,
        out: &mut BoltCollector<'_, WindowResult>,
    ) -> Result<(), ComponentError> {
        out.emit(WindowResult::Late(format!("{},{}", e.ts_ms, e.key)));
        Ok(())
    }
}
