//! Live inputs and outputs of `squall run sensor-alarm`: `--input` and `--output` given as
//! broker URLs (`mqtt://`, `nats://`, `redis://`, `postgres://`), and the flags that end a live
//! run (`--idle-exit`, `--max-records`).

use std::path::Path;
use std::time::Duration;

use squall_connectors::broker::{BrokerError, BrokerSpout, Endpoint, Scheme};
use squall_connectors::{mqtt, nats, postgres, redis, Malformed};

use super::args::{Guarantee, SensorArgs};
use super::CliError;
use crate::sensor::{EventOutput, EventRecord, Reading, ReadingSource};

/// What `--input` of `run sensor-alarm` may be.
const INPUTS: &str = "a file path, mqtt://, nats:// or redis://";
/// What `--output` of `run sensor-alarm` may be.
const OUTPUTS: &str = "a file path, mqtt://, nats://, redis:// or postgres://";

/// The endpoint `path` names, if it is a URL rather than a file; a URL of a scheme not known
/// is refused rather than read as a file path.
fn endpoint(flag: &str, path: &Path, expected: &str) -> Result<Option<Endpoint>, CliError> {
    match path.to_str() {
        Some(s) if Endpoint::looks_like_url(s) => s
            .parse()
            .map(Some)
            .map_err(|e: BrokerError| CliError::new(format!("{flag}: {e}"))),
        Some(s) => match unknown_scheme(s) {
            Some(scheme) => Err(CliError::new(format!(
                "{flag} {s}: unknown scheme {scheme}, expected {expected}"
            ))),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// The scheme of `s` if it looks like a URL (`scheme://...`, RFC 3986 scheme characters).
pub(crate) fn unknown_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// When `--input` is a URL: the live source, N, and the malformed-payload counter. Checks
/// that `--idle-exit` and `--max-records` come only with a live input.
pub(crate) fn live_input(
    args: &SensorArgs,
) -> Result<Option<(ReadingSource, u32, Malformed)>, CliError> {
    let live = match &args.input {
        Some(path) => endpoint("--input", path, INPUTS)?,
        None => None,
    };
    let Some(endpoint) = live else {
        if args.idle_exit.is_some() || args.max_records.is_some() {
            return Err(CliError::new(
                "--idle-exit and --max-records apply to a live --input (mqtt://, nats://, redis://) only",
            ));
        }
        return Ok(None);
    };
    let sensors = match args.sensors {
        Some(0) => return Err(CliError::new("--sensors must be at least 1")),
        Some(n) => n,
        None => {
            return Err(CliError::new(format!(
                "--input {endpoint} (a live input) needs --sensors: the leak majority is taken over N sensors, which cannot be counted before the readings arrive"
            )))
        }
    };
    let spout: BrokerSpout<Reading> = match endpoint.scheme {
        Scheme::Mqtt => mqtt::spout(&endpoint),
        Scheme::Nats => nats::spout(&endpoint),
        Scheme::Redis => redis::spout(&endpoint),
        _ => {
            return Err(CliError::new(format!(
                "--input {endpoint}: {} can only be an --output",
                endpoint.scheme.name()
            )))
        }
    }
    .map_err(|e| CliError::new(format!("--input: {e}")))?;
    let malformed = Malformed::new();
    let mut spout = spout.with_malformed(malformed.clone());
    if let Some(secs) = args.idle_exit {
        if !(secs.is_finite() && secs > 0.0) {
            return Err(CliError::new(format!(
                "--idle-exit must be a positive number of seconds, got {secs}"
            )));
        }
        spout = spout.with_idle_exit(Duration::from_secs_f64(secs));
    }
    if let Some(n) = args.max_records {
        spout = spout.with_max_records(n);
    }
    Ok(Some((ReadingSource::Live(spout), sensors, malformed)))
}

/// When `--output` is a URL: the live output, events keyed on their identity.
pub(crate) fn live_output(args: &SensorArgs) -> Result<Option<EventOutput>, CliError> {
    let Some(endpoint) = args
        .output
        .as_deref()
        .map(|p| endpoint("--output", p, OUTPUTS))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    let sink = match endpoint.scheme {
        Scheme::Mqtt => mqtt::sink(&endpoint),
        Scheme::Nats => nats::sink(&endpoint),
        Scheme::Redis => redis::sink(&endpoint),
        Scheme::Postgres => postgres::sink(&endpoint),
        _ => {
            return Err(CliError::new(format!(
                "--output {endpoint}: unsupported scheme"
            )))
        }
    }
    .map_err(|e| CliError::new(format!("--output: {e}")))?;
    let dedups = match endpoint.scheme {
        Scheme::Postgres => true,
        Scheme::Nats => endpoint.param("stream").is_some(),
        _ => false,
    };
    if !dedups && args.run.guarantee == Guarantee::ExactlyOnce {
        eprintln!(
            "note: --output {endpoint} cannot de-duplicate: an event replayed after a failure may arrive twice (JetStream and PostgreSQL outputs store it once)"
        );
    }
    let mut sink = sink.with_key(EventRecord::identity);
    if let Some(deadline) = connect_deadline(args)? {
        sink = sink.with_connect_deadline(deadline);
    }
    Ok(Some(EventOutput::Live(sink)))
}

/// How long a live output may stay unreached (`--connect-timeout`): by default 30 s when the
/// input is bounded, since such a run would otherwise wait for the broker forever; no limit
/// with a live input, which `--idle-exit` or a signal ends.
fn connect_deadline(args: &SensorArgs) -> Result<Option<Duration>, CliError> {
    let live_input = args
        .input
        .as_deref()
        .and_then(Path::to_str)
        .is_some_and(Endpoint::looks_like_url);
    match args.connect_timeout {
        Some(secs) if secs.is_finite() && secs > 0.0 => Ok(Some(Duration::from_secs_f64(secs))),
        Some(secs) => Err(CliError::new(format!(
            "--connect-timeout must be a positive number of seconds, got {secs}"
        ))),
        None if live_input => Ok(None),
        None => Ok(Some(DEFAULT_CONNECT_TIMEOUT)),
    }
}

/// `--connect-timeout`'s default with a bounded input.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
