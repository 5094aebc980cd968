//! Names on the broker for a deployment's frames: one stream per deployment, one subject per
//! (incarnation, task, kind of frame), so that each task's consumer filters on one subject
//! (nats-server 2.9 allows one filter per consumer) and incarnations never meet.

use squall::distributed::{Route, TaskIndex};

/// The stream holding `deployment`'s frames.
pub fn stream(deployment: &str) -> String {
    format!("SQUALL_{deployment}")
}

/// The subjects of that stream.
pub fn stream_subjects(deployment: &str) -> String {
    format!("squall.{deployment}.>")
}

/// The subject a part publishes its probe on (see `frame_stream`): in the stream, and read by
/// no consumer.
pub fn probe(deployment: &str) -> String {
    format!("squall.{deployment}.probe")
}

/// Every subject of one incarnation (to purge it).
pub fn incarnation(deployment: &str, incarnation: u64) -> String {
    format!("squall.{deployment}.{incarnation}.>")
}

/// The subject a frame on `route` travels on.
pub fn route(deployment: &str, incarnation: u64, route: Route) -> String {
    let (task, kind) = match route {
        Route::Data { to } => (to, 'd'),
        Route::Credit { to } => (to, 'c'),
        Route::Control { to } => (to, 'k'),
        Route::Event => return format!("squall.{deployment}.{incarnation}.leader"),
    };
    format!("squall.{deployment}.{incarnation}.{task}.{kind}")
}

/// The filter of the consumer of task `task`'s frames (every kind).
pub fn task_filter(deployment: &str, incarnation: u64, task: TaskIndex) -> String {
    format!("squall.{deployment}.{incarnation}.{task}.>")
}

/// The route of a frame that arrived on `subject` (`None`: not a frame subject).
pub fn parse(subject: &str) -> Option<Route> {
    let mut tokens = subject.rsplit('.');
    let last = tokens.next()?;
    if last == "leader" {
        return Some(Route::Event);
    }
    let to: TaskIndex = tokens.next()?.parse().ok()?;
    match last {
        "d" => Some(Route::Data { to }),
        "c" => Some(Route::Credit { to }),
        "k" => Some(Route::Control { to }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_parses_back_from_its_subject() {
        for r in [
            Route::Data { to: 7 },
            Route::Credit { to: 0 },
            Route::Control { to: 12 },
            Route::Event,
        ] {
            let s = route("word-count", 3, r);
            assert!(s.starts_with("squall.word-count.3."));
            assert_eq!(parse(&s), Some(r));
        }
        assert_eq!(parse("squall.x.1.2.z"), None);
    }

    #[test]
    fn a_task_filter_matches_only_that_task() {
        let f = task_filter("d", 2, 1);
        assert!(route("d", 2, Route::Data { to: 1 }).starts_with(&f[..f.len() - 1]));
        assert!(!route("d", 2, Route::Data { to: 11 }).starts_with(&f[..f.len() - 1]));
    }
}
