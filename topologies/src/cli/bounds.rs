//! Bounds on option values, checked by clap while parsing, so a bad value is one sentence and
//! exit status 2 before any work starts.

use std::net::{SocketAddr, ToSocketAddrs};

/// The most tasks `--parallelism` may ask for per component. Links between two components grow
/// with the product of their parallelisms, and each task is an actor with its own buffers; far
/// beyond the cores available it only costs memory.
pub const MAX_PARALLELISM: usize = 256;

/// The most map or reduce tasks a MapReduce job may run at once: each holds a worker thread
/// (and a reduce task an output file) for its whole attempt.
pub const MAX_TASKS: usize = 256;

/// `--parallelism`: 1 to [`MAX_PARALLELISM`].
pub(crate) fn parallelism(s: &str) -> Result<usize, String> {
    count(s, MAX_PARALLELISM)
}

/// `--mappers`, `--reducers`: 1 to [`MAX_TASKS`].
pub(crate) fn tasks(s: &str) -> Result<usize, String> {
    count(s, MAX_TASKS)
}

fn count(s: &str, max: usize) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to {max}")),
    }
}

/// A probability: a number from 0 to 1.
pub(crate) fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err("must be a number from 0 to 1".into()),
    }
}

/// A finite number above 0.
pub(crate) fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err("must be a number above 0".into()),
    }
}

/// A finite number, 0 or above.
pub(crate) fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err("must be a number, 0 or above".into()),
    }
}

/// A percentage: a number from 0 to 100.
pub(crate) fn percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=100.0).contains(&x) => Ok(x),
        _ => Err("must be a number from 0 to 100".into()),
    }
}

/// `HOST:PORT`, the host a name (`localhost`) or an address, resolved now.
pub(crate) fn socket_addr(s: &str) -> Result<SocketAddr, String> {
    match s.to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("{s} resolves to no address")),
        Err(e) => Err(format!("expected HOST:PORT ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rates_and_addresses() {
        assert_eq!(parallelism("4"), Ok(4));
        assert!(parallelism("0").is_err());
        assert!(parallelism("257").is_err());
        assert!(tasks("100000").is_err());
        assert_eq!(rate("0.5"), Ok(0.5));
        assert!(rate("-1").is_err() && rate("1.5").is_err() && rate("NaN").is_err());
        assert!(positive("0").is_err() && positive("inf").is_err());
        assert!(percent("-5").is_err());
        assert_eq!(socket_addr("localhost:9100").unwrap().port(), 9100);
        assert!(socket_addr("localhost").is_err());
    }
}
