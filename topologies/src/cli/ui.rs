//! `--ui HOST:PORT`: the web UI while a run lasts, and `report.html` in `--report DIR`.

use std::net::SocketAddr;
use std::path::Path;

use squall_ui::{Ui, Watched};

use super::CliError;

/// Starts the UI when `--ui` was given; says on stderr where it listens.
pub(crate) fn start(addr: Option<SocketAddr>, watched: &Watched) -> Result<Option<Ui>, CliError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let ui = Ui::serve(addr, watched.clone()).map_err(|e| CliError::new(e.to_string()))?;
    eprintln!("ui: serving the run on http://{}/", ui.addr());
    Ok(Some(ui))
}

/// The run ended: stops the UI and, with `--report DIR`, writes `DIR/report.html` (the final
/// page; built from the run's counters when no UI was serving).
pub(crate) fn finish(
    ui: Option<Ui>,
    report: Option<&Path>,
    watched: &Watched,
) -> Result<(), CliError> {
    let page = ui.and_then(Ui::finish);
    let Some(dir) = report else {
        return Ok(());
    };
    match page {
        Some(page) => squall_ui::write_page(dir, &page),
        None => squall_ui::write_report(dir, watched.clone()),
    }
    .map_err(|e| CliError::new(e.to_string()))
}
