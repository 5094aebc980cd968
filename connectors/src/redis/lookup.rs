//! A bolt joining tuples against Redis keys, with a local cache (the Yahoo Streaming
//! Benchmark's join of ad ids to campaigns).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Connection;
use squall::{Bolt, BoltCollector, ComponentError, TaskContext, Tuple};

use super::{client, error};
use crate::broker::{BrokerError, Endpoint};

type KeyFn<I> = Arc<dyn Fn(&I) -> String + Send + Sync>;
type JoinFn<I, O> = Arc<dyn Fn(I, Option<&str>) -> Option<O> + Send + Sync>;

/// For each input, GETs the Redis key `PREFIX + key(input)` (the endpoint's path is the prefix,
/// `redis://HOST:PORT/campaign:`) and emits `join(input, value)` when that returns `Some`.
///
/// Values are cached locally for a time to live (default 10 s; a missing key is cached too), so
/// a hot key costs one round trip per TTL; the cache is cleared when it outgrows its capacity
/// (default 100 000 keys). A lookup is a blocking round trip on the bolt's thread, paid only on
/// a cache miss. A lost connection is reopened once per tuple; if that fails the tuple fails.
pub struct RedisLookup<I, O> {
    endpoint: Endpoint,
    key: KeyFn<I>,
    join: JoinFn<I, O>,
    ttl: Duration,
    capacity: usize,
    cache: HashMap<String, (Option<String>, Instant)>,
    conn: Option<Connection>,
}

impl<I: Tuple, O: Tuple> RedisLookup<I, O> {
    /// A lookup bolt against `endpoint`'s server.
    pub fn new(
        endpoint: &Endpoint,
        key: impl Fn(&I) -> String + Send + Sync + 'static,
        join: impl Fn(I, Option<&str>) -> Option<O> + Send + Sync + 'static,
    ) -> Result<Self, BrokerError> {
        super::check(endpoint)?;
        Ok(RedisLookup {
            endpoint: endpoint.clone(),
            key: Arc::new(key),
            join: Arc::new(join),
            ttl: Duration::from_secs(10),
            capacity: 100_000,
            cache: HashMap::new(),
            conn: None,
        })
    }

    /// How long a looked-up value is reused.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Keys cached before the cache is cleared.
    pub fn with_capacity(mut self, keys: usize) -> Self {
        self.capacity = keys.max(1);
        self
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, BrokerError> {
        let mut last = None;
        for _ in 0..2 {
            if self.conn.is_none() {
                let c = client(&self.endpoint)?
                    .get_connection_with_timeout(Duration::from_secs(5))
                    .map_err(|e| error(&self.endpoint, e))?;
                self.conn = Some(c);
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            match redis::cmd("GET").arg(key).query::<Option<String>>(conn) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.conn = None;
                    last = Some(error(&self.endpoint, e));
                }
            }
        }
        Err(last.unwrap_or_else(|| BrokerError::connection(&self.endpoint, "no connection")))
    }
}

impl<I, O> Clone for RedisLookup<I, O> {
    /// An unconnected bolt with an empty cache and the same settings.
    fn clone(&self) -> Self {
        RedisLookup {
            endpoint: self.endpoint.clone(),
            key: self.key.clone(),
            join: self.join.clone(),
            ttl: self.ttl,
            capacity: self.capacity,
            cache: HashMap::new(),
            conn: None,
        }
    }
}

impl<I: Tuple, O: Tuple> Bolt for RedisLookup<I, O> {
    type Input = I;
    type Output = O;

    fn prepare(&mut self, _: &TaskContext) -> Result<(), ComponentError> {
        Ok(())
    }

    fn execute(&mut self, input: I, out: &mut BoltCollector<'_, O>) -> Result<(), ComponentError> {
        let key = format!("{}{}", self.endpoint.target, (self.key)(&input));
        let cached = self
            .cache
            .get(&key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone());
        let value = match cached {
            Some(v) => v,
            None => {
                let v = self.get(&key)?;
                if self.cache.len() >= self.capacity {
                    self.cache.clear();
                }
                self.cache.insert(key, (v.clone(), Instant::now()));
                v
            }
        };
        if let Some(joined) = (self.join)(input, value.as_deref()) {
            out.emit(joined);
        }
        Ok(())
    }
}
