//! The page, its script and its style, compiled into the binary (no CDN: many machines that
//! run Squall are offline).

/// `/`: the page's skeleton.
pub(crate) const INDEX_HTML: &str = include_str!("assets/index.html");
/// `/app.js`: polls the API and draws everything (graph, tables, plots) as DOM and SVG.
pub(crate) const APP_JS: &str = include_str!("assets/app.js");
/// `/app.css`.
pub(crate) const APP_CSS: &str = include_str!("assets/app.css");
