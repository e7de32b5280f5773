//! `railyard dashboard`: a static page (one `index.html`, everything inline) built from the
//! ledger and its git history. `history` reads one point per ledger commit, `model` shapes
//! today's ledger into the page's sections, `svg` draws the charts, `html` writes the page.

pub mod history;
pub mod html;
pub mod model;
pub mod svg;

/// Escapes text for HTML content and attribute values: every string on the page that comes
/// from a workload, a policy or the ledger passes through here.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Controls and bidirectional overrides would make text read differently than it is.
            c if c.is_control() && c != '\n' && c != '\t' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_quotes_and_controls_are_inert() {
        assert_eq!(
            super::esc("<img src=x onerror='a()'>\"&\u{1b}\u{202e}"),
            "&lt;img src=x onerror=&#39;a()&#39;&gt;&quot;&amp;\\u{1b}\\u{202e}"
        );
    }
}
