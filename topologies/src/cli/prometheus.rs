//! `--metrics-addr`: the metrics of every task in Prometheus text format over HTTP.

use std::net::SocketAddr;

use metrics_exporter_prometheus::PrometheusBuilder;
use squall::report::metric_names;

use super::CliError;

/// Installs the Prometheus recorder and serves `GET /metrics` (any path answers) on `addr`
/// from a background thread until the process exits. Port 0 picks a free port, and the line
/// printed names it.
pub(crate) fn serve(addr: SocketAddr) -> Result<(), CliError> {
    let cannot = |e: &dyn std::fmt::Display| {
        CliError::new(format!("--metrics-addr {addr}: cannot serve metrics: {e}"))
    };
    let addr = if addr.port() == 0 {
        // The exporter does not tell which port it bound: take a free one here, so that the
        // address printed is the one served.
        let probe = std::net::TcpListener::bind(addr).map_err(|e| cannot(&e))?;
        probe.local_addr().map_err(|e| cannot(&e))?
    } else {
        addr
    };
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| cannot(&e))?;
    metric_names::describe();
    eprintln!("metrics: serving Prometheus text on http://{addr}/metrics");
    Ok(())
}
