//! Every frame is numbered per sender and subject, so a consumer notices a lost one at once.
//!
//! A frame lost between two that arrive (written to a connection the server closed, or cut
//! short in chunks) must never be skipped over: the barrier behind it would complete a
//! checkpoint without its data, and that checkpoint is what the next incarnation resumes
//! from. So the consumer checks each frame's number ([`FRAME`] header `SENDER/N`, N counting
//! from 0 per subject) and stops at the first gap, before anything after it is processed.

use std::collections::HashMap;

/// The header that numbers a frame: `SENDER/N`.
pub const FRAME: &str = "Squall-Frame";

/// The header value of frame `n` from `sender`.
pub fn header(sender: &str, n: u64) -> String {
    format!("{sender}/{n}")
}

/// A header value read back: the sender and the number.
pub fn parse(value: &str) -> Option<(&str, u64)> {
    let (sender, n) = value.rsplit_once('/')?;
    Some((sender, n.parse().ok()?))
}

/// Where a frame stands among its sender's frames on its subject.
#[derive(Debug, PartialEq, Eq)]
pub enum Order {
    /// The next one: process it.
    Next,
    /// Seen already (a redelivery): skip it.
    Again,
    /// Frames before it are missing: `expected` was the next one due.
    Gap {
        /// The number that should have come.
        expected: u64,
    },
}

/// The next number due per sender and subject, on one consumer.
#[derive(Debug, Default)]
pub struct Numbers {
    /// By subject, then by sender.
    next: HashMap<String, HashMap<String, u64>>,
}

impl Numbers {
    /// Checks frame `n` from `sender` on `subject`, and counts it when it is the next one.
    pub fn check(&mut self, sender: &str, subject: &str, n: u64) -> Order {
        // Known senders and subjects are looked up without allocating (one check per frame).
        if !self.next.contains_key(subject) {
            self.next.insert(subject.to_string(), HashMap::new());
        }
        let Some(senders) = self.next.get_mut(subject) else {
            return Order::Gap { expected: 0 };
        };
        if !senders.contains_key(sender) {
            senders.insert(sender.to_string(), 0);
        }
        let Some(next) = senders.get_mut(sender) else {
            return Order::Gap { expected: 0 };
        };
        match n.cmp(next) {
            std::cmp::Ordering::Equal => {
                *next += 1;
                Order::Next
            }
            std::cmp::Ordering::Less => Order::Again,
            std::cmp::Ordering::Greater => Order::Gap { expected: *next },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_in_order_pass_and_a_missing_one_is_a_gap() {
        let mut numbers = Numbers::default();
        assert_eq!(numbers.check("a", "s.d", 0), Order::Next);
        assert_eq!(numbers.check("b", "s.d", 0), Order::Next);
        assert_eq!(numbers.check("a", "s.c", 0), Order::Next);
        assert_eq!(numbers.check("a", "s.d", 1), Order::Next);
        assert_eq!(numbers.check("a", "s.d", 1), Order::Again);
        assert_eq!(numbers.check("a", "s.d", 3), Order::Gap { expected: 2 });
        // A sender whose first frames never came.
        assert_eq!(numbers.check("c", "s.d", 4), Order::Gap { expected: 0 });
    }

    #[test]
    fn header_values_round_trip() {
        let v = header("123.dep.4.99", 17);
        assert_eq!(parse(&v), Some(("123.dep.4.99", 17)));
        assert_eq!(parse("x/y"), None);
        assert_eq!(parse("nothing"), None);
    }
}
