//! A small HTML tree for [`super::items`]: html5gum tokenizes (WHATWG tokenizer, character
//! references, raw-text elements), and a tree builder written here applies the parts of the
//! WHATWG tree-construction rules that shape what the renderer reads: implied end tags (`p`,
//! `li`, `dt`/`dd`, cells and rows), implied rows around bare cells, text and elements
//! misplaced in tables moved before the table, and formatting elements (`b`, `strong`, ...)
//! carried across blocks and repaired when misnested. Only what rendering needs is kept per
//! element: its name and whether its attributes hide it or make it bold. html5ever built a
//! full DOM for this at several times the cost.
//!
//! [`parse_document`] builds the same tree and also keeps every element's attributes and
//! the doctype, so it can be edited and written back out ([`Dom::to_html`]): reply trimming
//! and the relay's HTML check use it. The extraction path ([`parse`]) never pays for that.
//!
//! Files: this one holds the tree ([`Dom`]) and what reads or writes it; `builder` the
//! tree construction from html5gum's events (`builder/tags.rs` the start and end tag
//! rules); `names` what each element name is to those rules; `style` what a tag's
//! attributes say about hiding and bold.

mod builder;
mod names;
mod style;

use names::{is_inline, is_void};

pub type NodeId = usize;

#[derive(Debug)]
pub enum Data {
    Element {
        name: String,
        /// `hidden` attribute or a hiding style.
        hidden: bool,
        /// A bold `font-weight` in its style.
        bold: bool,
    },
    Text(String),
}

#[derive(Debug)]
pub struct Node {
    pub data: Data,
    parent: Option<NodeId>,
    pub children: Vec<NodeId>,
}

/// The parsed document: node 0 is `html`, node 1 its `head` (where head-only elements met
/// before any content go), node 2 its `body`, where everything else goes.
#[derive(Debug)]
pub struct Dom {
    pub nodes: Vec<Node>,
    /// Each element's start-tag attributes in source order (first of a name wins), by
    /// node id; only [`parse_document`] fills it, so the extraction path's nodes stay small.
    attrs: Vec<Vec<(String, String)>>,
    /// The doctype's name, kept by [`parse_document`] to write it back out.
    pub doctype: Option<String>,
}

const HEAD: NodeId = 1;
pub const BODY: NodeId = 2;

impl Dom {
    pub fn name(&self, id: NodeId) -> &str {
        match &self.nodes[id].data {
            Data::Element { name, .. } => name,
            Data::Text(_) => "",
        }
    }

    pub fn is_element(&self, id: NodeId) -> bool {
        matches!(self.nodes[id].data, Data::Element { .. })
    }

    pub fn hidden(&self, id: NodeId) -> bool {
        matches!(self.nodes[id].data, Data::Element { hidden: true, .. })
    }

    pub fn bold(&self, id: NodeId) -> bool {
        matches!(self.nodes[id].data, Data::Element { bold: true, .. })
    }

    pub fn children(&self, id: NodeId) -> &[NodeId] {
        &self.nodes[id].children
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id].parent
    }

    fn attrs(&self, id: NodeId) -> &[(String, String)] {
        self.attrs.get(id).map_or(&[], Vec::as_slice)
    }

    fn set_attrs(&mut self, id: NodeId, attrs: Vec<(String, String)>) {
        if self.attrs.len() <= id {
            self.attrs.resize_with(id + 1, Vec::new);
        }
        self.attrs[id] = attrs;
    }

    /// The value of attribute `name` (lowercase) on element `id`.
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.attrs(id)
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `id` is still in the document (not detached, nor inside something detached).
    pub fn attached(&self, mut id: NodeId) -> bool {
        while let Some(p) = self.nodes[id].parent {
            id = p;
        }
        id == 0
    }

    /// Takes `id` and its subtree out of the document.
    pub fn detach(&mut self, id: NodeId) {
        if let Some(p) = self.nodes[id].parent.take() {
            self.nodes[p].children.retain(|&c| c != id);
        }
    }

    /// The nodes of the document in document order (iterative: no recursion).
    pub fn descendants(&self) -> Vec<NodeId> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut todo = vec![0];
        while let Some(n) = todo.pop() {
            out.push(n);
            todo.extend(self.children(n).iter().rev());
        }
        out
    }

    /// The document serialized the way browsers (and html5ever) write HTML: attributes
    /// double-quoted, `&`, `<`, `>` and no-break spaces escaped, raw-text elements as they
    /// are, void elements without an end tag.
    pub fn to_html(&self) -> String {
        enum Step {
            Open(NodeId),
            Close(NodeId),
        }
        let mut out = String::with_capacity(self.nodes.len() * 16);
        if let Some(d) = &self.doctype {
            out.push_str("<!DOCTYPE ");
            out.push_str(d);
            out.push('>');
        }
        let mut todo = vec![Step::Open(0)];
        while let Some(step) = todo.pop() {
            let id = match step {
                Step::Close(id) => {
                    out.push_str("</");
                    out.push_str(self.name(id));
                    out.push('>');
                    continue;
                }
                Step::Open(id) => id,
            };
            match &self.nodes[id].data {
                Data::Text(t) => {
                    let raw = self.nodes[id].parent.is_some_and(|p| {
                        matches!(
                            self.name(p),
                            "style"
                                | "script"
                                | "xmp"
                                | "iframe"
                                | "noembed"
                                | "noframes"
                                | "plaintext"
                        )
                    });
                    if raw {
                        out.push_str(t);
                    } else {
                        escape(t, false, &mut out);
                    }
                }
                Data::Element { name, .. } => {
                    out.push('<');
                    out.push_str(name);
                    for (k, v) in self.attrs(id) {
                        out.push(' ');
                        out.push_str(k);
                        out.push_str("=\"");
                        escape(v, true, &mut out);
                        out.push('"');
                    }
                    out.push('>');
                    if !is_void(name) {
                        todo.push(Step::Close(id));
                        todo.extend(self.children(id).iter().rev().map(|&c| Step::Open(c)));
                    }
                }
            }
        }
        out
    }

    /// The words a plain-text rendering of the document shows: the text outside `head`,
    /// scripts and styles (hidden or not), link targets and image descriptions, with
    /// blocks kept apart.
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        // `None`: the end of a block
        let mut todo = vec![Some(0)];
        while let Some(step) = todo.pop() {
            let Some(id) = step else {
                out.push('\n');
                continue;
            };
            match &self.nodes[id].data {
                Data::Text(t) => out.push_str(t),
                Data::Element { name, .. } => {
                    if matches!(
                        name.as_str(),
                        "head" | "script" | "style" | "template" | "title"
                    ) {
                        continue;
                    }
                    if !is_inline(name) {
                        out.push('\n');
                        todo.push(None);
                    }
                    for key in ["href", "alt"] {
                        if let Some(v) = self.attr(id, key) {
                            out.push(' ');
                            out.push_str(v);
                            out.push(' ');
                        }
                    }
                    todo.extend(self.children(id).iter().rev().map(|&c| Some(c)));
                }
            }
        }
        out
    }

    /// Whether any element below `id` is named one of `names` (iterative: no recursion).
    pub fn contains_any(&self, id: NodeId, names: &[&str]) -> bool {
        let mut todo: Vec<NodeId> = self.children(id).to_vec();
        while let Some(n) = todo.pop() {
            if self.is_element(n) {
                if names.contains(&self.name(n)) {
                    return true;
                }
                todo.extend_from_slice(self.children(n));
            }
        }
        false
    }
}

/// Escapes text or a double-quoted attribute value for [`Dom::to_html`].
fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            '"' if attr => out.push_str("&quot;"),
            '<' if !attr => out.push_str("&lt;"),
            '>' if !attr => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Parses `html` leniently for extraction (no attributes kept); never fails.
pub fn parse(html: &str) -> Dom {
    builder::build(html, false)
}

/// Parses `html` leniently into a document that keeps its attributes and doctype, to be
/// edited and written back out; never fails.
pub fn parse_document(html: &str) -> Dom {
    builder::build(html, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as `name(children)` / `"text"`, for comparing shapes.
    fn shape(d: &Dom, id: NodeId) -> String {
        match &d.nodes[id].data {
            Data::Text(t) => format!("{t:?}"),
            Data::Element { name, .. } => {
                let kids: Vec<String> = d.children(id).iter().map(|&k| shape(d, k)).collect();
                format!("{name}({})", kids.join(","))
            }
        }
    }

    fn body(html: &str) -> String {
        let d = parse(html);
        shape(&d, BODY)
    }

    #[test]
    fn implied_end_tags_rows_and_cells() {
        assert_eq!(
            body("<table><td>Name<td>Ann<tr><td>x</table>"),
            r#"body(table(tr(td("Name"),td("Ann")),tr(td("x"))))"#
        );
        assert_eq!(body("<p>a<p>b<div>c"), r#"body(p("a"),p("b"),div("c"))"#);
        assert_eq!(
            body("<dl><dt>A<dd>1<dt>B<dd>2</dl>"),
            r#"body(dl(dt("A"),dd("1"),dt("B"),dd("2")))"#
        );
        assert_eq!(body("<td>x</td>"), r#"body("x")"#, "a cell outside a table");
    }

    #[test]
    fn misplaced_table_content_goes_before_the_table() {
        assert_eq!(
            body("<table>junk<tr><td>a</td></tr></table>"),
            r#"body("junk",table(tr(td("a"))))"#
        );
    }

    #[test]
    fn formatting_carries_over_and_misnesting_is_repaired() {
        // an unclosed <b> goes on bold into the next paragraph
        assert_eq!(
            body("<p><b>Name</p><p>Ann</p>"),
            r#"body(p(b("Name")),p(b("Ann")))"#
        );
        assert_eq!(body("<b>1<p>2</b>3</p>"), r#"body(b("1"),p(b("2"),"3"))"#);
    }

    #[test]
    fn documents_keep_attributes_and_write_back_out() {
        let d = parse_document(
            r#"<!doctype html><p class="a" class="b" title='x "y" &amp; z'>1 &lt; 2&nbsp;<br>3</p><style>a>b{}</style><table><td id=c>x</table>"#,
        );
        assert_eq!(
            d.to_html(),
            r#"<!DOCTYPE html><html><head></head><body><p class="a" title="x &quot;y&quot; &amp; z">1 &lt; 2&nbsp;<br>3</p><style>a>b{}</style><table><tr><td id="c">x</td></tr></table></body></html>"#
        );
        assert!(parse(r#"<p class="a">x</p>"#).attrs.is_empty());
    }

    #[test]
    fn head_content_styles_and_hostile_nesting() {
        let d = parse(
            r#"<html><head><title>T</title></head><body style="Font-Weight: 700"><div style="display: none">x</div></body></html>"#,
        );
        assert!(d.bold(BODY));
        assert_eq!(shape(&d, HEAD), r#"head(title("T"))"#);
        let div = d.children(BODY)[0];
        assert!(d.hidden(div));
        let deep = "<div>".repeat(100_000);
        let d = parse(&deep);
        assert!(d.nodes.len() <= builder::MAX_OPEN + 3);
    }
}
