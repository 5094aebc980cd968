//! `--metrics-addr`: the metrics of every task in Prometheus text format over HTTP.

use std::net::SocketAddr;

use metrics_exporter_prometheus::PrometheusBuilder;
use squall::report::metric_names;

use super::CliError;

/// Installs the Prometheus recorder and serves `GET /metrics` (any path answers) on `addr`
/// from a background thread until the process exits.
pub(crate) fn serve(addr: SocketAddr) -> Result<(), CliError> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| CliError::new(format!("--metrics-addr {addr}: cannot serve metrics: {e}")))?;
    metric_names::describe();
    eprintln!("metrics: serving Prometheus text on http://{addr}/metrics");
    Ok(())
}
