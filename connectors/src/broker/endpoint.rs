//! Broker endpoints as URLs: `mqtt://HOST:PORT/TOPIC`, `nats://HOST:PORT/SUBJECT[?stream=S]`,
//! `redis://HOST:PORT/STREAMKEY`, `postgres://USER@HOST:PORT/DB?table=T`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::{BrokerError, Format};

/// Which system an endpoint names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// `mqtt://`, default port 1883.
    Mqtt,
    /// `nats://`, default port 4222.
    Nats,
    /// `redis://`, default port 6379.
    Redis,
    /// `postgres://` (or `postgresql://`), default port 5432.
    Postgres,
}

impl Scheme {
    fn parse(s: &str) -> Option<Scheme> {
        match s {
            "mqtt" => Some(Scheme::Mqtt),
            "nats" => Some(Scheme::Nats),
            "redis" => Some(Scheme::Redis),
            "postgres" | "postgresql" => Some(Scheme::Postgres),
            _ => None,
        }
    }

    /// The URL scheme.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Mqtt => "mqtt",
            Scheme::Nats => "nats",
            Scheme::Redis => "redis",
            Scheme::Postgres => "postgres",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Mqtt => 1883,
            Scheme::Nats => 4222,
            Scheme::Redis => 6379,
            Scheme::Postgres => 5432,
        }
    }

    /// Query parameters this scheme understands besides `format`.
    fn parameters(self) -> &'static [&'static str] {
        match self {
            // client: the MQTT client id (persistent session); qos: 0 or 1.
            Scheme::Mqtt => &["client", "qos"],
            // stream: JetStream stream (absent: core NATS); consumer: durable consumer name; ack:
            // the consumer's ack policy, all (cumulative) or explicit.
            Scheme::Nats => &["stream", "consumer", "ack"],
            // group and consumer: the consumer group and this reader's name in it.
            Scheme::Redis => &["group", "consumer"],
            Scheme::Postgres => &["table", "password"],
        }
    }
}

/// A parsed broker endpoint.
///
/// ```
/// use squall_connectors::broker::{Endpoint, Format, Scheme};
/// let e: Endpoint = "nats://127.0.0.1:4333/alarms?stream=ALARMS&format=msgpack".parse()?;
/// assert_eq!((e.scheme, e.host.as_str(), e.port), (Scheme::Nats, "127.0.0.1", 4333));
/// assert_eq!(e.target, "alarms");
/// assert_eq!(e.param("stream"), Some("ALARMS"));
/// assert_eq!(e.format, Format::MsgPack);
/// let m: Endpoint = "mqtt://localhost/sensors/#".parse()?;
/// assert_eq!((m.port, m.target.as_str()), (1883, "sensors/#"));
/// # Ok::<(), squall_connectors::broker::BrokerError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The system.
    pub scheme: Scheme,
    /// Host name or address.
    pub host: String,
    /// Port (the scheme's default when the URL has none).
    pub port: u16,
    /// User name, if the URL has one (`postgres://USER@...`).
    pub user: Option<String>,
    /// MQTT topic (filter), NATS subject, Redis stream key, or PostgreSQL database.
    pub target: String,
    /// Payload format (`?format=`), JSON unless told.
    pub format: Format,
    params: BTreeMap<String, String>,
}

impl Endpoint {
    /// True when `s` starts with a scheme this module knows (`mqtt://`, `nats://`, ...): the
    /// command line uses it to tell endpoints from file paths.
    pub fn looks_like_url(s: &str) -> bool {
        s.split_once("://")
            .is_some_and(|(scheme, _)| Scheme::parse(scheme).is_some())
    }

    /// The value of query parameter `name`, if given.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl FromStr for Endpoint {
    type Err = BrokerError;

    fn from_str(s: &str) -> Result<Self, BrokerError> {
        let bad = |reason: String| BrokerError::InvalidEndpoint {
            url: s.to_string(),
            reason,
        };
        // `#` is an MQTT wildcard, not a URL fragment: keep it in the path.
        let escaped = s.replace('#', "%23");
        let url = url::Url::parse(&escaped).map_err(|e| bad(e.to_string()))?;
        let scheme = Scheme::parse(url.scheme()).ok_or_else(|| {
            bad(format!(
                "unknown scheme `{}` (expected mqtt, nats, redis or postgres)",
                url.scheme()
            ))
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host".into()))?
            .to_string();
        let port = url.port().unwrap_or(scheme.default_port());
        let user = Some(url.username().to_string()).filter(|u| !u.is_empty());
        let target = percent_decode(url.path().trim_start_matches('/'))
            .ok_or_else(|| bad("the path is not valid UTF-8 once decoded".into()))?;
        if target.is_empty() {
            let what = match scheme {
                Scheme::Mqtt => "an MQTT topic",
                Scheme::Nats => "a NATS subject",
                Scheme::Redis => "a Redis stream key",
                Scheme::Postgres => "a database name",
            };
            return Err(bad(format!("the path must name {what}")));
        }
        let mut format = Format::Json;
        let mut params = BTreeMap::new();
        for (k, v) in url.query_pairs() {
            if k == "format" {
                format = Format::from_name(&v).ok_or_else(|| {
                    bad(format!("unknown format `{v}` (expected json or msgpack)"))
                })?;
            } else if scheme.parameters().contains(&k.as_ref()) {
                params.insert(k.into_owned(), v.into_owned());
            } else {
                return Err(bad(format!(
                    "unknown parameter `{k}` for {} (known: format, {})",
                    scheme.name(),
                    scheme.parameters().join(", ")
                )));
            }
        }
        if scheme == Scheme::Postgres && !params.contains_key("table") {
            return Err(bad("needs ?table=NAME".into()));
        }
        Ok(Endpoint {
            scheme,
            host,
            port,
            user,
            target,
            format,
            params,
        })
    }
}

/// Undoes the URL parser's percent-encoding of the path (`>` in a NATS subject, `#` in an MQTT
/// filter, spaces).
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

impl fmt::Display for Endpoint {
    /// The URL without any password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.name())?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        write!(f, "{}:{}/{}", self.host, self.port, self.target)?;
        let mut sep = '?';
        for (k, v) in self.params.iter().filter(|(k, _)| *k != "password") {
            write!(f, "{sep}{k}={v}")?;
            sep = '&';
        }
        if self.format != Format::Json {
            write!(f, "{sep}format={}", self.format.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Endpoint, String> {
        s.parse::<Endpoint>().map_err(|e| e.to_string())
    }

    #[test]
    fn every_scheme_parses_with_defaults() {
        let p = parse("postgres://squall@db:6000/alarms?table=events").unwrap();
        assert_eq!(p.user.as_deref(), Some("squall"));
        assert_eq!((p.port, p.target.as_str()), (6000, "alarms"));
        assert_eq!(p.param("table"), Some("events"));
        let r = parse("redis://h/readings?group=g").unwrap();
        assert_eq!((r.port, r.target.as_str()), (6379, "readings"));
        let n = parse("nats://h:1/a.b.>").unwrap();
        assert_eq!((n.target.as_str(), n.param("stream")), ("a.b.>", None));
        assert_eq!(n.to_string(), "nats://h:1/a.b.>");
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse("mqtt://h:1/t?format=xml").unwrap_err();
        assert!(e.contains("unknown format `xml`"), "{e}");
        let e = parse("nats://h:1/s?strem=S").unwrap_err();
        assert!(e.contains("unknown parameter `strem`"), "{e}");
        let e = parse("postgres://u@h/db").unwrap_err();
        assert!(e.contains("table"), "{e}");
        let e = parse("redis://h:1/").unwrap_err();
        assert!(e.contains("stream key"), "{e}");
        assert!(!Endpoint::looks_like_url("readings.csv"));
        assert!(Endpoint::looks_like_url("mqtt://x/y"));
    }
}
