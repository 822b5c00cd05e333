//! A body as a flat list of lines, blank lines and sure label/value pairs, whatever its
//! layout: plain text line by line, HTML rendered block by block (two-cell table rows and
//! label/value div pairs become pairs, bold-only lines are marked as labels).
//! Must not know about providers or field meanings.

use scraper::{ElementRef, Html, Node};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Line { text: String, bold: bool },
    Blank,
    Pair(String, String),
}

impl Item {
    pub fn line(&self) -> Option<&str> {
        match self {
            Item::Line { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Deeper HTML than this is not walked (hostile nesting must not blow the stack).
const MAX_DEPTH: usize = 120;

pub fn from_text(text: &str) -> Vec<Item> {
    text.lines()
        .map(|l| {
            let t = l.trim();
            if t.is_empty() {
                Item::Blank
            } else {
                Item::Line {
                    text: t.to_owned(),
                    bold: false,
                }
            }
        })
        .collect()
}

pub fn from_html(html: &str) -> Vec<Item> {
    let doc = Html::parse_document(html);
    let mut r = Renderer::default();
    r.walk(doc.root_element(), false, 0);
    r.newline();
    r.items
}

/// Plain text of items (pairs as `label: value`), for markers and templates.
pub fn to_text(items: &[Item]) -> String {
    let mut s = String::new();
    for it in items {
        match it {
            Item::Line { text, .. } => s.push_str(text),
            Item::Blank => {}
            Item::Pair(l, v) => {
                s.push_str(l);
                s.push_str(": ");
                s.push_str(v);
            }
        }
        s.push('\n');
    }
    s
}

#[derive(Default)]
struct Renderer {
    items: Vec<Item>,
    line: String,
    bold_chars: usize,
    plain_chars: usize,
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "tbody"
            | "thead"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "blockquote"
            | "hr"
            | "center"
            | "pre"
            | "address"
            | "body"
            | "html"
    )
}

fn style_of(el: &ElementRef<'_>) -> String {
    el.value()
        .attr("style")
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace([' ', '\t', '\n'], "")
}

fn hidden(el: &ElementRef<'_>) -> bool {
    let s = style_of(el);
    s.contains("display:none")
        || s.contains("visibility:hidden")
        || s.contains("mso-hide:all")
        || el.value().attr("hidden").is_some()
}

fn bold_style(el: &ElementRef<'_>) -> bool {
    let s = style_of(el);
    s.contains("font-weight:bold")
        || ["600", "700", "800", "900"]
            .iter()
            .any(|w| s.contains(&format!("font-weight:{w}")))
}

fn skipped(name: &str) -> bool {
    matches!(
        name,
        "head" | "style" | "script" | "title" | "noscript" | "img" | "meta" | "link"
    )
}

impl Renderer {
    fn text(&mut self, t: &str, bold: bool) {
        for c in t.chars() {
            if c.is_whitespace() || c == '\u{a0}' || c == '\u{200b}' || c == '\u{feff}' {
                if !self.line.is_empty() && !self.line.ends_with(' ') {
                    self.line.push(' ');
                }
            } else {
                self.line.push(c);
                if bold {
                    self.bold_chars += 1;
                } else {
                    self.plain_chars += 1;
                }
            }
        }
    }

    fn newline(&mut self) {
        let t = self.line.trim();
        if t.is_empty() {
            if !matches!(self.items.last(), Some(Item::Blank) | None) {
                self.items.push(Item::Blank);
            }
        } else {
            self.items.push(Item::Line {
                text: t.to_owned(),
                bold: self.bold_chars > 0 && self.plain_chars == 0,
            });
        }
        self.line.clear();
        self.bold_chars = 0;
        self.plain_chars = 0;
    }

    fn block_end(&mut self) {
        if !self.line.trim().is_empty() {
            self.newline();
        }
        self.line.clear();
        self.bold_chars = 0;
        self.plain_chars = 0;
        if !matches!(self.items.last(), Some(Item::Blank) | None) {
            self.items.push(Item::Blank);
        }
    }

    fn walk(&mut self, el: ElementRef<'_>, bold: bool, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let name = el.value().name();
        if skipped(name) || hidden(&el) {
            return;
        }
        if name == "br" {
            self.newline();
            return;
        }
        let bold = bold || matches!(name, "b" | "strong" | "th") || bold_style(&el);
        let block = is_block(name);
        if name == "dl" {
            self.block_end();
            for (l, v) in definition_pairs(&el, depth) {
                self.items.push(Item::Pair(l, v));
                self.block_end();
            }
            return;
        }
        if block {
            let pair = if name == "tr" {
                row_pair(&el, depth)
            } else {
                two_child_pair(&el, depth)
            };
            if let Some((l, v)) = pair {
                self.block_end();
                self.items.push(Item::Pair(l, v));
                self.block_end();
                return;
            }
            self.block_end();
        }
        for child in el.children() {
            match child.value() {
                Node::Text(t) => self.text(t, bold),
                Node::Element(_) => {
                    if let Some(e) = ElementRef::wrap(child) {
                        self.walk(e, bold, depth + 1);
                    }
                }
                _ => {}
            }
        }
        if block {
            self.block_end();
        }
    }
}

fn child_elements<'a>(el: &ElementRef<'a>) -> Vec<ElementRef<'a>> {
    el.children().filter_map(ElementRef::wrap).collect()
}

fn has_direct_text(el: &ElementRef<'_>) -> bool {
    el.children().any(|c| match c.value() {
        Node::Text(t) => !t.trim().is_empty(),
        _ => false,
    })
}

fn contains_any(el: &ElementRef<'_>, names: &[&str]) -> bool {
    el.descendants().skip(1).any(|d| match d.value() {
        Node::Element(e) => names.contains(&e.name()),
        _ => false,
    })
}

/// Lines of a cell's content, joined with `\n`.
fn cell_value(el: &ElementRef<'_>, depth: usize) -> String {
    let mut r = Renderer::default();
    for child in el.children() {
        match child.value() {
            Node::Text(t) => r.text(t, false),
            Node::Element(_) => {
                if let Some(e) = ElementRef::wrap(child) {
                    r.walk(e, false, depth + 1);
                }
            }
            _ => {}
        }
    }
    r.newline();
    r.items
        .iter()
        .filter_map(|i| match i {
            Item::Line { text, .. } => Some(text.as_str()),
            Item::Pair(_, v) => Some(v.as_str()),
            Item::Blank => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn one_line(el: &ElementRef<'_>, depth: usize) -> String {
    cell_value(el, depth).replace('\n', " ").trim().to_owned()
}

fn plausible_label(l: &str) -> bool {
    let n = l.chars().count();
    n > 0 && n <= 150 && !l.ends_with(',') && !l.ends_with('!')
}

/// `<dl><dt>Label</dt><dd>Value</dd>...</dl>`; several `dd` for one `dt` join with `\n`.
fn definition_pairs(dl: &ElementRef<'_>, depth: usize) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut label: Option<String> = None;
    for k in child_elements(dl) {
        match k.value().name() {
            "dt" => label = Some(one_line(&k, depth)),
            "dd" => {
                let v = cell_value(&k, depth);
                match (&label, out.last_mut()) {
                    (Some(l), Some((pl, pv))) if pl == l => {
                        pv.push('\n');
                        pv.push_str(&v);
                    }
                    (Some(l), _) => out.push((l.clone(), v)),
                    (None, _) => {}
                }
            }
            _ => {}
        }
    }
    out.retain(|(l, v)| !l.is_empty() && !v.trim().is_empty());
    out
}

/// `<tr><td>Label</td><td>Value</td></tr>` (either cell may be `th`).
fn row_pair(tr: &ElementRef<'_>, depth: usize) -> Option<(String, String)> {
    let cells: Vec<_> = child_elements(tr)
        .into_iter()
        .filter(|c| matches!(c.value().name(), "td" | "th"))
        .collect();
    if cells.len() != 2 || cells.iter().any(|c| contains_any(c, &["table"])) {
        return None;
    }
    if cells.iter().any(hidden) {
        return None;
    }
    let label = one_line(&cells[0], depth);
    let value = cell_value(&cells[1], depth);
    (plausible_label(&label) && !value.trim().is_empty()).then(|| (label, value.trim().to_owned()))
}

/// A block holding exactly two text blocks: `<div>Label</div><div>Value</div>`.
fn two_child_pair(el: &ElementRef<'_>, depth: usize) -> Option<(String, String)> {
    if has_direct_text(el) {
        return None;
    }
    let kids: Vec<_> = child_elements(el)
        .into_iter()
        .filter(|k| !hidden(k) && !skipped(k.value().name()))
        .collect();
    if kids.len() != 2 {
        return None;
    }
    let blocky = [
        "div", "p", "table", "tr", "td", "ul", "ol", "h1", "h2", "h3",
    ];
    if kids
        .iter()
        .any(|k| !matches!(k.value().name(), "div" | "p") || contains_any(k, &blocky))
    {
        return None;
    }
    let label = one_line(&kids[0], depth);
    let value = cell_value(&kids[1], depth);
    (plausible_label(&label) && !label.ends_with('.') && !value.trim().is_empty())
        .then(|| (label, value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_become_pairs() {
        let items = from_html("<table><tr><td>Name</td><td>Ann<br>Lee</td></tr></table>");
        assert!(items.contains(&Item::Pair("Name".into(), "Ann\nLee".into())));
    }

    #[test]
    fn hidden_and_bold() {
        let items =
            from_html("<div style='display: none'>x</div><p><strong>Email</strong><br>a@b.c</p>");
        assert_eq!(
            items.iter().filter_map(Item::line).collect::<Vec<_>>(),
            vec!["Email", "a@b.c"]
        );
        assert!(matches!(&items[0], Item::Line { bold: true, .. }));
    }
}
