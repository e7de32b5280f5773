//! Escaping for every output that shows text from workloads or policies (resource names,
//! messages, file names): nothing a workload author writes may drive a terminal (ESC, CR,
//! BEL), break out of a Markdown code span, ping a Slack channel or make XML invalid.

use std::borrow::Cow;

/// Control characters (C0 but `\n` and `\t`, DEL, C1) and bidirectional overrides, shown
/// as `\u{…}` so they are visible and inert. Newlines and tabs are the caller's business.
pub fn control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        // Bidirectional overrides and isolates reorder what is shown (Trojan Source).
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One line of terminal text: [`control`], and newlines and tabs shown escaped too.
pub fn line(s: &str) -> Cow<'_, str> {
    let c = control(s);
    if c.contains(['\n', '\t']) {
        Cow::Owned(c.replace('\n', "\\n").replace('\t', "\\t"))
    } else {
        c
    }
}

/// A Markdown inline code span holding `s` literally: the fence is one backtick longer than
/// the longest run of backticks inside (CommonMark), padded when `s` starts or ends with
/// one; `|` is escaped for tables; control characters and newlines are escaped.
pub fn md_code(s: &str) -> String {
    let s = line(s).replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Markdown text in a table cell or list item: [`line`], `|` escaped, and `` ` ``, `<`, `>`
/// (and `\` itself) backslash-escaped so workload content cannot open a code span or HTML.
pub fn md_text(s: &str) -> String {
    let s = line(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\`<>|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Slack mrkdwn text: `&`, `<` and `>` as entities (so `<!channel>`, `<@U1>` and
/// `<url|text>` from workload content stay text), control characters escaped.
pub fn slack(s: &str) -> String {
    control(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text XML 1.0 may carry: characters outside `#x9 | #xA | #xD | [#x20-#xD7FF] |
/// [#xE000-#xFFFD] | [#x10000-#x10FFFF]` (C0 controls, U+FFFE, U+FFFF) are written as
/// `\u{…}`, and CR, C1 controls and bidi overrides too (see [`control`]). Markup characters
/// are the XML writer's business.
pub fn xml(s: &str) -> Cow<'_, str> {
    let bad =
        |c: char| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    if !s.chars().any(|c| bad(c) || needs_escape(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        // A raw CR is legal XML but parsers turn it into a newline: shown escaped too.
        if (bad(c) || needs_escape(c)) && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer for terminal output that shows control characters escaped (C0 but `\n` and
/// `\t`, DEL, and C1 as UTF-8 `C2 80`–`C2 9F`), whatever text the renderer put together.
pub struct Terminal<'a> {
    inner: &'a mut dyn std::io::Write,
    /// A `C2` byte seen at the end of the previous write (a C1 control may follow).
    pending_c2: bool,
}

impl<'a> Terminal<'a> {
    pub fn new(inner: &'a mut dyn std::io::Write) -> Self {
        Terminal {
            inner,
            pending_c2: false,
        }
    }
}

impl Terminal<'_> {
    /// Writes `text` as is, bypassing the escaping: only for text whose workload and policy
    /// parts were escaped already ([`line`]) and that carries the renderer's own colour codes.
    pub fn raw(&mut self, text: &str) -> std::io::Result<()> {
        std::io::Write::flush(self)?;
        self.inner.write_all(text.as_bytes())
    }
}

impl std::io::Write for Terminal<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len() + 8);
        for &b in buf {
            if self.pending_c2 {
                self.pending_c2 = false;
                if (0x80..=0x9f).contains(&b) {
                    out.extend_from_slice(format!("\\u{{{b:x}}}").as_bytes());
                    continue;
                }
                out.push(0xc2);
            }
            match b {
                b'\n' | b'\t' => out.push(b),
                0x00..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{{{b:x}}}").as_bytes()),
                0xc2 => self.pending_c2 = true,
                _ => out.push(b),
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if std::mem::take(&mut self.pending_c2) {
            self.inner.write_all(&[0xc2])?;
        }
        self.inner.flush()
    }
}

impl Drop for Terminal<'_> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(control("a\u{1b}[2Jb\r\u{7}"), "a\\u{1b}[2Jb\\u{d}\\u{7}");
        assert_eq!(control("plain"), "plain");
        assert_eq!(line("a\nb"), "a\\nb");
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`x"), "`` `x ``");
        assert_eq!(md_code("a|b"), "`a\\|b`");
        assert_eq!(md_text("a `b` <b> c|d"), "a \\`b\\` \\<b\\> c\\|d");
        assert_eq!(
            slack("<!channel> <http://e|click> & co"),
            "&lt;!channel&gt; &lt;http://e|click&gt; &amp; co"
        );
        assert_eq!(xml("a\u{ffff}b\u{1}c\td"), "a\\u{ffff}b\\u{1}c\td");
        assert_eq!(xml("fine é 😀"), "fine é 😀");
        let mut buf = Vec::new();
        {
            let mut t = Terminal::new(&mut buf);
            std::io::Write::write_all(&mut t, "a\u{1b}[31mb\rc\u{7}é\n".as_bytes()).unwrap();
            std::io::Write::write_all(&mut t, &[0xc2]).unwrap();
            std::io::Write::write_all(&mut t, &[0x9b, b'x']).unwrap();
        }
        assert_eq!(String::from_utf8(buf).unwrap(), "a\\u{1b}[31mb\\u{d}c\\u{7}é\n\\u{9b}x");
    }
}
