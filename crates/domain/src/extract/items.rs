//! A body as a flat list of lines, blank lines and sure label/value pairs, whatever its
//! layout: plain text line by line, HTML rendered block by block (two-cell table rows and
//! label/value div pairs become pairs, bold-only lines are marked as labels).
//! Must not know about providers or field meanings.

use super::dom::{self, Data, Dom, NodeId};

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
    let doc = dom::parse(html);
    let mut r = Renderer::new(&doc);
    r.walk(0, false, 0);
    r.newline();
    r.items
}

/// Plain text of items (pairs as `label: value`), for markers and templates.
pub fn to_text(items: &[Item]) -> String {
    let len = items
        .iter()
        .map(|it| match it {
            Item::Line { text, .. } => text.len() + 1,
            Item::Blank => 1,
            Item::Pair(l, v) => l.len() + v.len() + 3,
        })
        .sum();
    let mut s = String::with_capacity(len);
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

struct Renderer<'d> {
    doc: &'d Dom,
    items: Vec<Item>,
    line: String,
    /// The line has bold text / text that is not bold.
    bold_text: bool,
    plain_text: bool,
}

/// White space between words in rendered HTML: Unicode white space (the no-break space
/// included), zero-width space and the byte-order mark.
fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{200b}' || c == '\u{feff}'
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

fn skipped(name: &str) -> bool {
    matches!(
        name,
        "head" | "style" | "script" | "title" | "noscript" | "img" | "meta" | "link"
    )
}

impl<'d> Renderer<'d> {
    fn new(doc: &'d Dom) -> Self {
        Renderer {
            doc,
            items: Vec::new(),
            line: String::new(),
            bold_text: false,
            plain_text: false,
        }
    }

    /// Appends `t` with each run of white space as one space (none at the line's start).
    /// Runs of other characters are copied whole; ASCII is tested by its byte.
    fn text(&mut self, t: &str, bold: bool) {
        let b = t.as_bytes();
        let mut run = 0;
        let mut i = 0;
        while i < b.len() {
            let (space, len) = match b[i] {
                c if c.is_ascii() => (c.is_ascii_whitespace() || c == b'\x0b', 1),
                _ => {
                    let c = t[i..].chars().next().unwrap_or(' ');
                    (is_space(c), c.len_utf8())
                }
            };
            if space {
                self.push_run(&t[run..i], bold);
                if !self.line.is_empty() && !self.line.ends_with(' ') {
                    self.line.push(' ');
                }
                run = i + len;
            }
            i += len;
        }
        self.push_run(&t[run..], bold);
    }

    fn push_run(&mut self, run: &str, bold: bool) {
        if run.is_empty() {
            return;
        }
        self.line.push_str(run);
        if bold {
            self.bold_text = true;
        } else {
            self.plain_text = true;
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
                bold: self.bold_text && !self.plain_text,
            });
        }
        self.line.clear();
        self.bold_text = false;
        self.plain_text = false;
    }

    fn block_end(&mut self) {
        if !self.line.trim().is_empty() {
            self.newline();
        }
        self.line.clear();
        self.bold_text = false;
        self.plain_text = false;
        if !matches!(self.items.last(), Some(Item::Blank) | None) {
            self.items.push(Item::Blank);
        }
    }

    fn walk(&mut self, el: NodeId, bold: bool, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let doc = self.doc;
        let name = doc.name(el);
        if skipped(name) || doc.hidden(el) {
            return;
        }
        if name == "br" {
            self.newline();
            return;
        }
        let bold = bold || matches!(name, "b" | "strong" | "th") || doc.bold(el);
        let block = is_block(name);
        if name == "dl" {
            self.block_end();
            for (l, v) in definition_pairs(doc, el, depth) {
                self.items.push(Item::Pair(l, v));
                self.block_end();
            }
            return;
        }
        if block {
            let pair = if name == "tr" {
                row_pair(doc, el, depth)
            } else {
                two_child_pair(doc, el, depth)
            };
            if let Some((l, v)) = pair {
                self.block_end();
                self.items.push(Item::Pair(l, v));
                self.block_end();
                return;
            }
            self.block_end();
        }
        for &child in doc.children(el) {
            match &doc.nodes[child].data {
                Data::Text(t) => self.text(t, bold),
                Data::Element { .. } => self.walk(child, bold, depth + 1),
            }
        }
        if block {
            self.block_end();
        }
    }
}

fn child_elements(doc: &Dom, el: NodeId) -> Vec<NodeId> {
    doc.children(el)
        .iter()
        .copied()
        .filter(|&c| doc.is_element(c))
        .collect()
}

fn has_direct_text(doc: &Dom, el: NodeId) -> bool {
    doc.children(el).iter().any(|&c| match &doc.nodes[c].data {
        Data::Text(t) => !t.trim().is_empty(),
        _ => false,
    })
}

/// Lines of a cell's content, joined with `\n`.
fn cell_value(doc: &Dom, el: NodeId, depth: usize) -> String {
    let mut r = Renderer::new(doc);
    for &child in doc.children(el) {
        match &doc.nodes[child].data {
            Data::Text(t) => r.text(t, false),
            Data::Element { .. } => r.walk(child, false, depth + 1),
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

fn one_line(doc: &Dom, el: NodeId, depth: usize) -> String {
    cell_value(doc, el, depth)
        .replace('\n', " ")
        .trim()
        .to_owned()
}

fn plausible_label(l: &str) -> bool {
    let n = l.chars().count();
    n > 0 && n <= 150 && !l.ends_with(',') && !l.ends_with('!')
}

/// `<dl><dt>Label</dt><dd>Value</dd>...</dl>`; several `dd` for one `dt` join with `\n`.
fn definition_pairs(doc: &Dom, dl: NodeId, depth: usize) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut label: Option<String> = None;
    for k in child_elements(doc, dl) {
        match doc.name(k) {
            "dt" => label = Some(one_line(doc, k, depth)),
            "dd" => {
                let v = cell_value(doc, k, depth);
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
fn row_pair(doc: &Dom, tr: NodeId, depth: usize) -> Option<(String, String)> {
    let cells: Vec<NodeId> = child_elements(doc, tr)
        .into_iter()
        .filter(|&c| matches!(doc.name(c), "td" | "th"))
        .collect();
    if cells.len() != 2 || cells.iter().any(|&c| doc.contains_any(c, &["table"])) {
        return None;
    }
    if cells.iter().any(|&c| doc.hidden(c)) {
        return None;
    }
    let label = one_line(doc, cells[0], depth);
    let value = cell_value(doc, cells[1], depth);
    (plausible_label(&label) && !value.trim().is_empty()).then(|| (label, value.trim().to_owned()))
}

/// A block holding exactly two text blocks: `<div>Label</div><div>Value</div>`.
fn two_child_pair(doc: &Dom, el: NodeId, depth: usize) -> Option<(String, String)> {
    if has_direct_text(doc, el) {
        return None;
    }
    let kids: Vec<NodeId> = child_elements(doc, el)
        .into_iter()
        .filter(|&k| !doc.hidden(k) && !skipped(doc.name(k)))
        .collect();
    if kids.len() != 2 {
        return None;
    }
    let blocky = [
        "div", "p", "table", "tr", "td", "ul", "ol", "h1", "h2", "h3",
    ];
    if kids
        .iter()
        .any(|&k| !matches!(doc.name(k), "div" | "p") || doc.contains_any(k, &blocky))
    {
        return None;
    }
    let label = one_line(doc, kids[0], depth);
    let value = cell_value(doc, kids[1], depth);
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
