//! HTML to text: a hand-written, single-pass converter for the HTML of mail clients
//! (Outlook, Gmail, Apple Mail) that keeps the line and table structure a reader sees.
//!
//! Linear in the input: every byte is looked at a bounded number of times, failed look-aheads
//! consume the rest of the input instead of being retried, and the output is capped.

/// Most text produced (bytes); the rest of a bigger document is dropped.
const OUT_CAP: usize = 1 << 20;
/// Deepest table nesting tracked; deeper tables are read as plain blocks.
const MAX_TABLES: usize = 32;
/// A table cell whose text is at most this long and has at most `CELL_LINES` lines is put on
/// one line (Outlook wraps every cell's text in `<p>`); bigger cells are layout cells.
const CELL_JOIN_CHARS: usize = 200;
const CELL_LINES: usize = 4;

/// Converts HTML to plain text. Blocks and `<br>` become line breaks, table cells in a row
/// are separated by a TAB, list items start with "- ", `<blockquote>` lines start with "> ".
pub fn html_to_text(html: &str) -> String {
    let mut c = Conv::new();
    c.run(html);
    c.finish()
}

#[derive(Debug, Default)]
struct Table {
    cell_open: bool,
    cells: usize,
}

#[derive(Debug)]
struct Conv {
    /// Output buffers: the document, then one per open table cell.
    bufs: Vec<String>,
    tables: Vec<Table>,
    /// Tables beyond `MAX_TABLES`, read as blocks.
    extra_tables: usize,
    pre: usize,
    quote: usize,
    in_head: bool,
    emitted: usize,
    /// A tag with an unbalanced quote was seen: stop honouring quotes inside tags, so a
    /// second failure cannot rescan the rest of the document (quadratic time).
    ignore_quotes: bool,
    /// A `<title>` without `</title>` was seen: do not search for one again (quadratic).
    title_unclosed: bool,
}

impl Conv {
    fn new() -> Conv {
        Conv {
            bufs: vec![String::new()],
            tables: Vec::new(),
            extra_tables: 0,
            pre: 0,
            quote: 0,
            in_head: false,
            emitted: 0,
            ignore_quotes: false,
            title_unclosed: false,
        }
    }

    fn buf(&mut self) -> &mut String {
        if self.bufs.is_empty() {
            self.bufs.push(String::new());
        }
        let last = self.bufs.len() - 1;
        &mut self.bufs[last]
    }

    fn at_line_start(&mut self) -> bool {
        let b = self.buf();
        b.is_empty() || b.ends_with('\n')
    }

    fn trim_spaces(&mut self) {
        let b = self.buf();
        while b.ends_with(' ') {
            b.pop();
        }
    }

    fn ensure_nl(&mut self) {
        self.trim_spaces();
        let b = self.buf();
        if !b.is_empty() && !b.ends_with('\n') {
            b.push('\n');
            self.emitted += 1;
        }
    }

    fn newline(&mut self) {
        self.trim_spaces();
        self.buf().push('\n');
        self.emitted += 1;
    }

    /// Quote prefix at the start of a document line inside `<blockquote>`.
    fn prefix(&mut self) {
        if self.quote > 0 && self.bufs.len() == 1 && self.at_line_start() {
            let q = self.quote.min(8);
            for _ in 0..q {
                self.buf().push_str("> ");
            }
            self.emitted += 2 * q;
        }
    }

    /// Appends text without whitespace, markup or entities.
    fn text_run(&mut self, run: &str) {
        if self.in_head || run.is_empty() {
            return;
        }
        self.prefix();
        self.buf().push_str(run);
        self.emitted += run.len();
    }

    fn text_char(&mut self, c: char) {
        if self.in_head {
            return;
        }
        if self.pre == 0 && matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c') {
            let b = self.buf();
            if !(b.is_empty() || b.ends_with([' ', '\n', '\t'])) {
                b.push(' ');
                self.emitted += 1;
            }
            return;
        }
        if c == '\r' {
            return;
        }
        if c == '\n' {
            self.newline();
            return;
        }
        self.prefix();
        self.buf().push(c);
        self.emitted += c.len_utf8();
    }

    fn open_cell(&mut self) {
        self.close_cell();
        if let Some(t) = self.tables.last_mut() {
            t.cell_open = true;
            self.bufs.push(String::new());
        } else {
            // A cell outside any table: keep neighbours apart.
            self.trim_spaces();
            let b = self.buf();
            if !(b.is_empty() || b.ends_with('\n')) {
                b.push('\t');
            }
        }
    }

    fn close_cell(&mut self) {
        let Some(t) = self.tables.last_mut() else {
            return;
        };
        if !t.cell_open {
            return;
        }
        t.cell_open = false;
        let first = t.cells == 0;
        t.cells += 1;
        if self.bufs.len() < 2 {
            return;
        }
        let text = self.bufs.pop().unwrap_or_default();
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.trim_matches(|c: char| c == ' ' || c == '\t'))
            .filter(|l| !l.is_empty())
            .collect();
        let joined = if lines.len() <= CELL_LINES && text.len() <= CELL_JOIN_CHARS {
            lines.join(" ")
        } else {
            lines.join("\n")
        };
        if !first {
            self.trim_spaces();
            self.buf().push('\t');
        } else if !joined.is_empty() && !self.at_line_start() {
            let b = self.buf();
            if !b.ends_with('\t') {
                b.push(' ');
            }
        }
        let quote = if self.bufs.len() == 1 {
            self.quote.min(8)
        } else {
            0
        };
        for (i, line) in joined.split('\n').enumerate() {
            if i > 0 {
                self.buf().push('\n');
            }
            if quote > 0 && self.at_line_start() {
                for _ in 0..quote {
                    self.buf().push_str("> ");
                }
            }
            self.buf().push_str(line);
        }
    }

    fn open_table(&mut self) {
        self.ensure_nl();
        if self.tables.len() >= MAX_TABLES {
            self.extra_tables += 1;
        } else {
            self.tables.push(Table::default());
        }
    }

    fn close_table(&mut self) {
        if self.extra_tables > 0 {
            self.extra_tables -= 1;
        } else if !self.tables.is_empty() {
            self.close_cell();
            self.tables.pop();
        }
        self.ensure_nl();
    }

    fn row(&mut self) {
        self.close_cell();
        if let Some(t) = self.tables.last_mut() {
            t.cells = 0;
        }
        self.ensure_nl();
    }

    fn finish(mut self) -> String {
        while !self.tables.is_empty() {
            self.close_cell();
            self.tables.pop();
        }
        while self.bufs.len() > 1 {
            let t = self.bufs.pop().unwrap_or_default();
            self.buf().push_str(&t);
        }
        self.bufs.pop().unwrap_or_default()
    }

    fn tag(&mut self, name: &str, closing: bool) {
        match name {
            "head" => self.in_head = !closing,
            "body" => self.in_head = false,
            "br" => self.newline(),
            "td" | "th" => {
                if closing {
                    self.close_cell();
                } else {
                    self.open_cell();
                }
            }
            "tr" => self.row(),
            "table" => {
                if closing {
                    self.close_table();
                } else {
                    self.open_table();
                }
            }
            "li" => {
                self.ensure_nl();
                if !closing {
                    self.prefix();
                    self.buf().push_str("- ");
                    self.emitted += 2;
                }
            }
            "blockquote" => {
                self.ensure_nl();
                if closing {
                    self.quote = self.quote.saturating_sub(1);
                } else {
                    self.quote = self.quote.saturating_add(1);
                }
            }
            "pre" => {
                self.ensure_nl();
                if closing {
                    self.pre = self.pre.saturating_sub(1);
                } else {
                    self.pre = self.pre.saturating_add(1);
                }
            }
            "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "hr"
            | "section" | "article" | "header" | "footer" | "dl" | "dt" | "dd" | "address"
            | "center" | "form" | "fieldset" | "nav" | "aside" | "main" | "figure"
            | "figcaption" | "caption" | "legend" => self.ensure_nl(),
            _ => {}
        }
    }

    fn run(&mut self, html: &str) {
        let bytes = html.as_bytes();
        let mut i = 0usize;
        while i < bytes.len() {
            if self.emitted > OUT_CAP {
                return;
            }
            let b = bytes.get(i).copied().unwrap_or(0);
            match b {
                b'<' => match self.markup(html, i) {
                    Some(next) => i = next,
                    None => return,
                },
                b'&' => {
                    let (c, next) = entity(html, i);
                    match c {
                        Some(c) => self.text_char(c),
                        None => self.text_char('&'),
                    }
                    i = next;
                }
                _ if b > b' ' => {
                    // A run of ordinary text (no markup, entity or whitespace) in one push.
                    // The run ends at an ASCII byte, so both ends are char boundaries.
                    let rest = bytes.get(i..).unwrap_or_default();
                    let len = rest
                        .iter()
                        .position(|&c| c <= b' ' || c == b'<' || c == b'&')
                        .unwrap_or(rest.len());
                    let Some(run) = html.get(i..i + len) else {
                        return;
                    };
                    self.text_run(run);
                    i += len.max(1);
                }
                _ => {
                    let Some(c) = html.get(i..).and_then(|s| s.chars().next()) else {
                        return;
                    };
                    self.text_char(c);
                    i += c.len_utf8();
                }
            }
        }
    }

    /// Handles markup starting with `<` at `i`; returns where to continue, `None` when the
    /// rest of the input is consumed (unterminated comment, tag or raw-text element).
    fn markup(&mut self, html: &str, i: usize) -> Option<usize> {
        let bytes = html.as_bytes();
        let next = bytes.get(i + 1).copied();
        match next {
            Some(b'!') => {
                if bytes.get(i + 2..i + 4) == Some(b"--") {
                    // Comments, including Outlook's `<!--[if mso]>...<![endif]-->`.
                    find(bytes, i + 4, b"-->").map(|p| p + 3)
                } else {
                    // `<!DOCTYPE>`, `<![if !mso]>`, `<![endif]>`: drop the declaration only.
                    find(bytes, i + 2, b">").map(|p| p + 1)
                }
            }
            Some(b'?') => find(bytes, i + 2, b">").map(|p| p + 1),
            Some(c) if c == b'/' || c.is_ascii_alphabetic() => {
                let closing = c == b'/';
                let start = if closing { i + 2 } else { i + 1 };
                let mut end = start;
                while bytes
                    .get(end)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
                {
                    end += 1;
                }
                // Lowercase the name without allocating; names we act on are short.
                let raw_name = bytes.get(start..end).unwrap_or_default();
                let mut lower = [0u8; 12];
                let name_len = if raw_name.len() <= lower.len() {
                    for (d, s) in lower.iter_mut().zip(raw_name) {
                        *d = s.to_ascii_lowercase();
                    }
                    raw_name.len()
                } else {
                    0
                };
                let name =
                    std::str::from_utf8(lower.get(..name_len).unwrap_or_default()).unwrap_or("");
                let close = self.tag_end(bytes, end)?;
                let self_closing = close > 0 && bytes.get(close - 1) == Some(&b'/');
                let after = close + 1;
                if !closing
                    && !self_closing
                    && (matches!(name, "script" | "style")
                        || (name == "title" && !self.title_unclosed))
                {
                    // Raw text: skip to the matching end tag.
                    let needle = format!("</{name}");
                    return match find_ci(bytes, after, needle.as_bytes()) {
                        Some(p) => find(bytes, p, b">").map(|q| q + 1),
                        None if name == "title" => {
                            self.title_unclosed = true;
                            Some(after)
                        }
                        None => None,
                    };
                }
                if !name.is_empty() {
                    self.tag(name, closing);
                }
                Some(after)
            }
            _ => {
                self.text_char('<');
                Some(i + 1)
            }
        }
    }

    /// Position of the `>` ending a tag whose attributes start at `from`.
    fn tag_end(&mut self, bytes: &[u8], from: usize) -> Option<usize> {
        if !self.ignore_quotes {
            let mut quote: Option<u8> = None;
            let mut j = from;
            while let Some(&b) = bytes.get(j) {
                match quote {
                    Some(q) if b == q => quote = None,
                    Some(_) => {}
                    None if b == b'"' || b == b'\'' => quote = Some(b),
                    None if b == b'>' => return Some(j),
                    None => {}
                }
                j += 1;
            }
            self.ignore_quotes = true;
        }
        find(bytes, from, b">")
    }
}

/// First position of `needle` at or after `from`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = hay.get(from..)?;
    if needle.is_empty() || rest.len() < needle.len() {
        return None;
    }
    rest.windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Like [`find`], ASCII case-insensitive; `needle` must be lowercase.
fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = hay.get(from..)?;
    if needle.is_empty() || rest.len() < needle.len() {
        return None;
    }
    rest.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// Decodes the entity at `i` (`&` there); returns the character (None: not an entity, the
/// `&` is literal) and where to continue.
fn entity(html: &str, i: usize) -> (Option<char>, usize) {
    let bytes = html.as_bytes();
    let mut j = i + 1;
    if bytes.get(j) == Some(&b'#') {
        j += 1;
        let hex = matches!(bytes.get(j), Some(b'x' | b'X'));
        if hex {
            j += 1;
        }
        let digits_start = j;
        while bytes.get(j).is_some_and(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        }) && j - digits_start < 8
        {
            j += 1;
        }
        let digits = html.get(digits_start..j).unwrap_or("");
        if digits.is_empty() {
            return (None, i + 1);
        }
        if bytes.get(j) == Some(&b';') {
            j += 1;
        }
        let n = u32::from_str_radix(digits, if hex { 16 } else { 10 }).unwrap_or(0xfffd);
        let c = match n {
            0 => '\u{fffd}',
            // Windows-1252 smart quotes and dashes sent as numeric references.
            0x80..=0x9f => cp1252(n).unwrap_or(' '),
            _ => char::from_u32(n).unwrap_or('\u{fffd}'),
        };
        return (Some(c), j);
    }
    let start = j;
    while bytes.get(j).is_some_and(u8::is_ascii_alphanumeric) && j - start < 10 {
        j += 1;
    }
    let name = html.get(start..j).unwrap_or("");
    match named(name) {
        Some(c) => {
            if bytes.get(j) == Some(&b';') {
                j += 1;
            }
            (Some(c), j)
        }
        None => (None, i + 1),
    }
}

fn cp1252(n: u32) -> Option<char> {
    Some(match n {
        0x80 => '€',
        0x85 => '…',
        0x91 => '\u{2018}',
        0x92 => '\u{2019}',
        0x93 => '\u{201c}',
        0x94 => '\u{201d}',
        0x95 => '•',
        0x96 => '–',
        0x97 => '—',
        _ => return None,
    })
}

fn named(name: &str) -> Option<char> {
    Some(match name {
        "nbsp" => '\u{a0}',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "ecirc" => 'ê',
        "Eacute" => 'É',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "ccedil" => 'ç',
        "iuml" => 'ï',
        "ocirc" => 'ô',
        "ucirc" => 'û',
        "euro" => '€',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '\u{2018}',
        "rsquo" => '\u{2019}',
        "sbquo" => '\u{201a}',
        "ldquo" => '\u{201c}',
        "rdquo" => '\u{201d}',
        "bdquo" => '\u{201e}',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "deg" => '°',
        "times" => '×',
        "plusmn" => '±',
        "sect" => '§',
        "para" => '¶',
        "ensp" | "emsp" | "thinsp" => ' ',
        "shy" | "zwnj" | "zwj" => '\u{ad}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn outlook_html_with_table_and_quoted_header() {
        let html = r##"<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8">
<style><!-- p.MsoNormal {margin:0cm; font-family:"Calibri",sans-serif;} --></style>
<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
</head><body lang=DE-CH link="#0563C1"><div class=WordSection1>
<p class=MsoNormal>Hallo Support<o:p></o:p></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>Wir planen einen Lasttest f&uuml;r www.example.ch:<o:p></o:p></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0>
<tr><td width=200 valign=top><p class=MsoNormal>Start<o:p></o:p></p></td>
<td width=300 valign=top><p class=MsoNormal>12.12.2026 10:00<o:p></o:p></p></td></tr>
<tr><td><p class=MsoNormal>Ende<o:p></o:p></p></td><td><p class=MsoNormal>12.12.2026&nbsp;12:00</p></td></tr>
</table>
<p class=MsoNormal>Gr&uuml;sse<br>Hans M&uuml;ller &amp; Co. &lt;test&gt; &#8211; &#x41;&#39;<o:p></o:p></p>
<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>
<p class=MsoNormal><b>Von:</b> Support &lt;support@example.com&gt;<br><b>Gesendet:</b> Montag, 9. November 2026 08:00<br><b>An:</b> Hans<br><b>Betreff:</b> Test<o:p></o:p></p></div>
</div></body></html>"##;
        let t = html_to_text(html);
        assert!(!t.contains("MsoNormal"), "{t}");
        assert!(!t.contains("shapedefaults"), "{t}");
        assert!(
            t.contains("Hallo Support\n\u{a0}\nWir planen einen Lasttest für www.example.ch:\n"),
            "{t}"
        );
        assert!(t.contains("\nStart\t12.12.2026 10:00\n"), "{t}");
        assert!(t.contains("\nEnde\t12.12.2026\u{a0}12:00\n"), "{t}");
        assert!(t.contains("Grüsse\nHans Müller & Co. <test> – A'\n"), "{t}");
        assert!(
            t.contains("\nVon: Support <support@example.com>\nGesendet: Montag"),
            "{t}"
        );
        assert!(t.contains("\nBetreff: Test"), "{t}");
    }

    #[test]
    fn gmail_quote_becomes_prefixed_lines() {
        let html = r#"<div dir="ltr"><div>Hi,</div><div><br></div><div>see below.</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 10 Nov 2026 at 09:12, Support &lt;<a href="mailto:s@x.ch">s@x.ch</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex"><div>Please send the IPs.<br>Thanks</div></blockquote></div>"#;
        let t = html_to_text(html);
        assert!(t.starts_with("Hi,\n\nsee below.\n"), "{t}");
        assert!(
            t.contains("On Tue, 10 Nov 2026 at 09:12, Support <s@x.ch> wrote:\n"),
            "{t}"
        );
        assert!(t.contains("> Please send the IPs.\n> Thanks"), "{t}");
    }

    #[test]
    fn lists_scripts_comments_and_whitespace() {
        let t = html_to_text(
            "<script>var a = '<p>x</p>';</script><ul>\n <li>one</li>\n <li>two   three</li></ul><!-- <p>hidden</p> --><p>a&nbsp;b &unknown; 5 < 6</p>",
        );
        assert_eq!(t, "- one\n- two three\na\u{a0}b &unknown; 5 < 6\n");
    }

    #[test]
    fn pre_keeps_whitespace() {
        assert_eq!(html_to_text("<pre>a  b\n  c</pre>x"), "a  b\n  c\nx");
    }

    #[test]
    fn layout_cell_keeps_its_lines() {
        let inner: String = (0..10).map(|i| format!("<p>Line {i}</p>")).collect();
        let t = html_to_text(&format!("<table><tr><td>{inner}</td></tr></table>"));
        assert!(t.contains("Line 0\nLine 1\n"), "{t}");
    }

    #[test]
    fn malformed_input_terminates() {
        for s in [
            "<",
            "<a",
            "<a href='x>",
            "<!--",
            "<style>",
            "&#",
            "&#x;",
            "<td>x<td>y",
            "</td></tr>",
            "<table><table><td>a",
            "<![if !mso]>x<![endif]>",
            "&#99999999999;",
        ] {
            let _ = html_to_text(s);
        }
        assert_eq!(html_to_text("<td>x<td>y"), "x\ty");
    }

    #[test]
    fn one_megabyte_single_line_is_fast() {
        let mut s = String::with_capacity(1 << 20);
        while s.len() < (1 << 20) {
            s.push_str("<span style=\"color:red\">word</span> &amp; <b>bold</b> ");
        }
        let t = html_to_text(&s);
        assert!(t.starts_with("word & bold word"));
        // Unclosed titles must not be searched for again and again.
        let titles = "<title>x ".repeat(100_000);
        let _ = html_to_text(&titles);
        // Many unbalanced quotes must not make it quadratic.
        let bad = "<a href=\"x>y ".repeat(50_000);
        let _ = html_to_text(&bad);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = html_to_text(&s);
        }

        #[test]
        fn never_panics_on_tag_soup(parts in proptest::collection::vec(
            prop_oneof![
                Just("<td>"), Just("</td>"), Just("<tr>"), Just("</tr>"), Just("<table>"),
                Just("</table>"), Just("<blockquote>"), Just("</blockquote>"), Just("<br>"),
                Just("<p>"), Just("&nbsp;"), Just("<pre>"), Just("</pre>"), Just("<li>"),
                Just("x"), Just(" "), Just("\n"), Just("<!--"), Just("-->"), Just("<style>"),
                Just("'"), Just("\""), Just("&#"), Just("ü"),
            ], 0..60)) {
            let _ = html_to_text(&parts.concat());
        }

        #[test]
        fn table_cells_stay_apart_and_tags_vanish(
            rows in proptest::collection::vec(
                proptest::collection::vec("[A-Za-z0-9.:]{1,12}", 1..5), 1..6)
        ) {
            let mut html = String::from("<table border=1 style=\"x\">");
            for r in &rows {
                html.push_str("<tr>");
                for c in r {
                    html.push_str(&format!("<td class=\"c\"><p class=MsoNormal>{c}<o:p></o:p></p></td>"));
                }
                html.push_str("</tr>\n");
            }
            html.push_str("</table>");
            let t = html_to_text(&html);
            prop_assert!(!t.contains('<'));
            prop_assert!(!t.contains('>'));
            let lines: Vec<&str> = t.lines().filter(|l| !l.is_empty()).collect();
            prop_assert_eq!(lines.len(), rows.len());
            for (line, r) in lines.iter().zip(&rows) {
                prop_assert_eq!(line.to_string(), r.join("\t"));
            }
        }
    }
}
