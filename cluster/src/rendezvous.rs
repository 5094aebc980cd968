//! Rendezvous (highest random weight) hashing: which live worker runs each task of a
//! deployment, and which one leads it.
//!
//! Every worker computes the same answer from the same sorted worker names, with no
//! coordination; when one worker leaves, only the tasks it ran move (each to the worker with
//! the next highest weight), and the leader changes only if the leader left.

/// A weight that is the same in every process and every build: FNV-1a over the parts
/// (each followed by a zero byte, so `("ab", "c")` and `("a", "bc")` differ), mixed by
/// SplitMix64's finalizer so that names differing in one character spread evenly.
pub fn weight(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The worker with the highest weight for `key` (ties, which need a 64-bit collision, go to
/// the greater name), or `None` when there are no workers.
fn highest<'a>(workers: &'a [String], deployment: &str, key: &[u8]) -> Option<&'a String> {
    workers.iter().max_by_key(|w| {
        (
            weight(&[w.as_bytes(), deployment.as_bytes(), key]),
            w.as_str(),
        )
    })
}

/// The worker that runs flat task `task` of `deployment` among `workers`.
pub fn owner<'a>(workers: &'a [String], deployment: &str, task: u32) -> Option<&'a String> {
    highest(workers, deployment, &task.to_le_bytes())
}

/// The worker that leads `deployment` (runs its controller) among `workers`.
pub fn leader<'a>(workers: &'a [String], deployment: &str) -> Option<&'a String> {
    highest(workers, deployment, b"leader")
}

/// The owner of each of `tasks` flat tasks and the leader, or `None` when there are no
/// workers. The result does not depend on the order of `workers`.
pub fn assign(workers: &[String], deployment: &str, tasks: u32) -> Option<(Vec<String>, String)> {
    let leader = leader(workers, deployment)?.clone();
    let owners = (0..tasks)
        .map(|t| owner(workers, deployment, t).cloned())
        .collect::<Option<Vec<_>>>()?;
    Some((owners, leader))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("host-{i}")).collect()
    }

    #[test]
    fn the_same_workers_in_any_order_give_the_same_assignment() {
        let workers = names(5);
        let mut shuffled = workers.clone();
        shuffled.reverse();
        shuffled.swap(0, 2);
        assert_eq!(assign(&workers, "wc", 64), assign(&shuffled, "wc", 64));
    }

    #[test]
    fn tasks_spread_over_every_worker_roughly_evenly() {
        let workers = names(4);
        let (owners, _) = assign(&workers, "word-count", 4000).unwrap();
        for w in &workers {
            let mine = owners.iter().filter(|o| *o == w).count();
            // 1000 expected each; a binomial's standard deviation here is about 27.
            assert!((850..=1150).contains(&mine), "{w} got {mine} of 4000");
        }
    }

    #[test]
    fn when_one_worker_leaves_only_its_tasks_move() {
        let workers = names(5);
        let (before, leader_before) = assign(&workers, "dep", 500).unwrap();
        let gone = "host-3".to_string();
        let rest: Vec<String> = workers.iter().filter(|w| **w != gone).cloned().collect();
        let (after, leader_after) = assign(&rest, "dep", 500).unwrap();
        let mut moved = 0;
        for (b, a) in before.iter().zip(&after) {
            if *b == gone {
                assert_ne!(*a, gone);
                moved += 1;
            } else {
                assert_eq!(a, b, "a task of a worker that stayed moved");
            }
        }
        assert!(moved > 0);
        if leader_before != gone {
            assert_eq!(leader_before, leader_after);
        }
    }

    #[test]
    fn the_leader_stays_while_it_lives_and_another_joins() {
        let workers = names(3);
        let leader_before = leader(&workers, "dep").unwrap().clone();
        let mut more = workers.clone();
        more.push("host-new".into());
        let leader_after = leader(&more, "dep").unwrap().clone();
        // A joining worker takes the lead only if it weighs more than every other.
        let new_weight = weight(&[b"host-new", b"dep", b"leader"]);
        let old_weight = weight(&[leader_before.as_bytes(), b"dep", b"leader"]);
        let expected = if new_weight > old_weight {
            "host-new".to_string()
        } else {
            leader_before
        };
        assert_eq!(leader_after, expected);
    }

    #[test]
    fn no_workers_no_assignment() {
        assert_eq!(assign(&[], "dep", 3), None);
    }

    #[test]
    fn weights_are_stable_across_builds() {
        // Pinned (computed independently, in Python) so that a change of the hash, which would
        // move every task of a cluster whose workers run two builds, fails here first.
        assert_eq!(weight(&[b"w", b"d", b"leader"]), 0x1a19_08ad_68c6_cdb5);
        assert_eq!(weight(&[]), 0xf52a_15e9_a9b5_e89b);
        assert_ne!(weight(&[b"ab", b"c"]), weight(&[b"a", b"bc"]));
    }
}
