//! `report.html`: the live page made static, its script, style and final JSON inlined.

use crate::assets::{APP_CSS, APP_JS, INDEX_HTML};

const STYLE_LINK: &str = r#"<link rel="stylesheet" href="app.css">"#;
const SCRIPT_TAG: &str = r#"<script src="app.js"></script>"#;

/// JSON made safe inside a `<script>` element: `</` could end it early.
fn embeddable(json: Option<&[u8]>) -> String {
    match json {
        Some(bytes) => String::from_utf8_lossy(bytes).replace("</", "<\\/"),
        None => "null".into(),
    }
}

/// The page with `topology` and `job` (JSON documents) in it instead of polling the API.
pub(crate) fn page(topology: Option<&[u8]>, job: Option<&[u8]>) -> String {
    let data = format!(
        "<script>window.SQUALL_STATIC = {{\"topology\": {}, \"job\": {}}};</script>",
        embeddable(topology),
        embeddable(job)
    );
    INDEX_HTML
        .replace(STYLE_LINK, &format!("<style>\n{APP_CSS}</style>"))
        .replace(SCRIPT_TAG, &format!("{data}\n<script>\n{APP_JS}</script>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_static_page_inlines_everything() {
        assert!(INDEX_HTML.contains(STYLE_LINK) && INDEX_HTML.contains(SCRIPT_TAG));
        let html = page(Some(br#"{"name":"</script>"}"#), None);
        assert!(!html.contains(STYLE_LINK) && !html.contains(SCRIPT_TAG));
        assert!(html.contains(r#""job": null"#));
        assert!(html.contains(r#"{"name":"<\/script>"}"#));
        assert_eq!(html.matches("</script>").count(), 2);
    }
}
