//! HTML of the admin page: the escaping every shown string goes through,
//! the page frame (title, navigation, a little CSS, no script), and the
//! response headers every page carries.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;

/// What a browser may do with a page: nothing but show it and its inline
/// style, and send its forms back here. No script runs, even an injected one.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The style of every page: readable tables, nothing fetched.
const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;max-width:70em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}\
th{background:#eee}td.t,th.t{text-align:left}nav a{margin-right:1em}.err{color:#a00}.muted{color:#777}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}";

/// `text` with the five characters HTML gives a meaning escaped: safe in
/// element content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page being written: a title and a body of HTML made by the caller,
/// whose every interpolated string went through [`escape`].
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    /// An empty page titled `title` (plain text; escaped here).
    pub fn new(title: &str) -> Page {
        Page { title: escape(title), body: String::new() }
    }

    /// Appends HTML the caller built (and escaped).
    pub fn push(&mut self, html: &str) {
        self.body.push_str(html);
    }

    /// Appends a heading with plain text.
    pub fn heading(&mut self, level: u8, text: &str) {
        let _ = write!(self.body, "<h{level}>{}</h{level}>", escape(text));
    }

    /// Appends a paragraph with plain text, of a CSS class ("" for none).
    pub fn paragraph(&mut self, class: &str, text: &str) {
        let _ = write!(self.body, "<p class=\"{class}\">{}</p>", escape(text));
    }

    /// The whole document.
    pub fn into_html(self) -> String {
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · downline admin</title>\
             <style>{STYLE}</style></head><body><nav><a href=\"/\">Index</a>\
             <form method=\"post\" action=\"/logout\" style=\"display:inline\"><button>Log out</button></form></nav>\
             <h1>{title}</h1>{body}</body></html>",
            title = self.title,
            body = self.body
        )
    }

    /// The page as an answer with `status`.
    pub fn respond(self, status: StatusCode) -> Response {
        html_response(status, self.into_html())
    }
}

/// An HTML answer with the headers of every admin page: no caching (the
/// figures change), no sniffing, no framing, no referrer, no script.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A table row of cells already escaped (or made of escaped parts); the
/// first cell is text (left-aligned), the others figures.
pub fn row(id: &str, cells: &[String]) -> String {
    let mut out = if id.is_empty() { "<tr>".to_owned() } else { format!("<tr id=\"{}\">", escape(id)) };
    for (i, cell) in cells.iter().enumerate() {
        let class = if i == 0 { " class=\"t\"" } else { "" };
        let _ = write!(out, "<td{class}>{cell}</td>");
    }
    out.push_str("</tr>");
    out
}

/// A table header row of plain-text titles.
pub fn header_row(titles: &[&str]) -> String {
    let mut out = "<tr>".to_owned();
    for (i, title) in titles.iter().enumerate() {
        let class = if i == 0 { " class=\"t\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(title));
    }
    out.push_str("</tr>");
    out
}

/// A definition list entry with an element id, so tests and readers can
/// find each figure: `<dt>term</dt><dd id="id">value</dd>`; `value_html`
/// is escaped (or built of escaped parts) by the caller.
pub fn entry(id: &str, term: &str, value_html: &str) -> String {
    format!("<dt>{}</dt><dd id=\"{}\">{value_html}</dd>", escape(term), escape(id))
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn every_meaningful_character_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("Zoë 日本"), "Zoë 日本");
    }
}
