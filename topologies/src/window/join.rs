//! The inner join of two inputs on the key, per window.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use squall::window::{WindowRange, WindowedBolt};
use squall::{BoltCollector, ComponentError};

use super::{JoinRow, WindowResult};

/// Which input a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// `--left`.
    Left,
    /// `--right`.
    Right,
}

impl Side {
    /// The spout's id.
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

/// The join bolt of `window-join`: per window and key the values of each side; firing sends,
/// per key, one line `start\tkey\tleft\tright` for every pair of a left and a right value.
#[derive(Debug, Default, Clone, Copy)]
pub struct JoinPerKey;

/// Per key, the left values and the right values of one window.
type Sides = BTreeMap<String, (Vec<String>, Vec<String>)>;

impl WindowedBolt for JoinPerKey {
    type Input = (Side, JoinRow);
    type Output = WindowResult;
    type Acc = Sides;

    fn add(&mut self, acc: &mut Sides, (side, row): &(Side, JoinRow)) {
        let (left, right) = acc.entry(row.key.clone()).or_default();
        match side {
            Side::Left => left.push(row.value.clone()),
            Side::Right => right.push(row.value.clone()),
        }
    }

    fn fire(
        &mut self,
        w: WindowRange,
        acc: &Sides,
        _update: bool,
        out: &mut BoltCollector<'_, WindowResult>,
    ) -> Result<(), ComponentError> {
        for (key, (left, right)) in acc
            .iter()
            .filter(|(_, (l, r))| !l.is_empty() && !r.is_empty())
        {
            let lines = left
                .iter()
                .flat_map(|l| {
                    right
                        .iter()
                        .map(move |r| format!("{}\t{key}\t{l}\t{r}", w.start))
                })
                .collect();
            out.emit(WindowResult::Group {
                start: w.start,
                key: key.clone(),
                lines,
            });
        }
        Ok(())
    }

    fn late(
        &mut self,
        (_, row): (Side, JoinRow),
        out: &mut BoltCollector<'_, WindowResult>,
    ) -> Result<(), ComponentError> {
        out.emit(WindowResult::Late(format!(
            "{},{},{}",
            row.ts_ms, row.key, row.value
        )));
        Ok(())
    }
}
