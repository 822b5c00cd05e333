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

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Emitter, ForwardingEmitter, Span, Tokenizer};
use memchr::memmem::Finder;
use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::LazyLock;

/// Open elements beyond this depth are not opened (their content joins the deepest open
/// one); the renderer stops far above it, and hostile nesting stays linear.
const MAX_OPEN: usize = 512;
/// Formatting elements remembered for reconstruction, at most.
const MAX_FORMATTING: usize = 64;

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

/// Phrasing elements a text rendering runs on without a break.
fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "b"
            | "bdi"
            | "bdo"
            | "cite"
            | "code"
            | "data"
            | "del"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "ins"
            | "kbd"
            | "mark"
            | "q"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "tt"
            | "u"
            | "var"
    )
}

/// What a start tag's attributes mean for rendering: (hidden, bold).
#[derive(Clone, Copy, Default)]
struct Attrs {
    hidden: bool,
    bold: bool,
    /// From the tag being built (not an implied element): it takes the kept attributes.
    from_tag: bool,
    /// The tag had a `style` attribute / a `hidden` attribute.
    has_style: bool,
    hidden_attr: bool,
}

/// The declarations [`style_flags`] looks for, built once: a style attribute is read per
/// tag, and building a searcher cost more than the search.
static STYLE_NEEDLES: LazyLock<[Finder<'static>; 4]> = LazyLock::new(|| {
    [
        Finder::new(b"display:none"),
        Finder::new(b"visibility:hidden"),
        Finder::new(b"mso-hide:all"),
        Finder::new(b"font-weight:"),
    ]
});

/// Reads a `style` value the way the renderer needs it: lowercase, with spaces, tabs and
/// line breaks removed, then looked up for hiding and bold declarations.
fn style_flags(style: &[u8], buf: &mut Vec<u8>) -> Attrs {
    buf.clear();
    buf.extend(
        style
            .iter()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .map(u8::to_ascii_lowercase),
    );
    let [display_none, visibility_hidden, mso_hide, font_weight] = &*STYLE_NEEDLES;
    let has = |needle: &Finder<'_>| needle.find(buf).is_some();
    let bold = font_weight.find_iter(buf).any(|i| {
        let rest = &buf[i + b"font-weight:".len()..];
        [&b"bold"[..], b"600", b"700", b"800", b"900"]
            .iter()
            .any(|w| rest.starts_with(w))
    });
    Attrs {
        has_style: true,
        hidden_attr: false,
        from_tag: false,
        hidden: has(display_none) || has(visibility_hidden) || has(mso_hide),
        bold,
    }
}

fn is_special(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "applet"
            | "area"
            | "article"
            | "aside"
            | "base"
            | "basefont"
            | "bgsound"
            | "blockquote"
            | "body"
            | "br"
            | "button"
            | "caption"
            | "center"
            | "col"
            | "colgroup"
            | "dd"
            | "details"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "embed"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "frame"
            | "frameset"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "head"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "iframe"
            | "img"
            | "input"
            | "keygen"
            | "li"
            | "link"
            | "listing"
            | "main"
            | "marquee"
            | "menu"
            | "meta"
            | "nav"
            | "noembed"
            | "noframes"
            | "noscript"
            | "object"
            | "ol"
            | "p"
            | "param"
            | "plaintext"
            | "pre"
            | "script"
            | "search"
            | "section"
            | "select"
            | "source"
            | "style"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "template"
            | "textarea"
            | "tfoot"
            | "th"
            | "thead"
            | "title"
            | "tr"
            | "track"
            | "ul"
            | "wbr"
            | "xmp"
    )
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "basefont"
            | "bgsound"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

fn is_formatting(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "big"
            | "code"
            | "em"
            | "font"
            | "i"
            | "nobr"
            | "s"
            | "small"
            | "strike"
            | "strong"
            | "tt"
            | "u"
    )
}

/// Start tags that close an open `p` (WHATWG "in body").
fn closes_p(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "header"
            | "hgroup"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "search"
            | "section"
            | "summary"
            | "ul"
            | "pre"
            | "listing"
            | "form"
            | "hr"
            | "xmp"
            | "plaintext"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    )
}

/// End tags of blocks closed by the generic "in scope, pop until" rule.
fn block_end_tag(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "button"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "header"
            | "hgroup"
            | "listing"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "pre"
            | "search"
            | "section"
            | "summary"
            | "ul"
            | "form"
    )
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

fn implied_end(name: &str) -> bool {
    matches!(
        name,
        "dd" | "dt" | "li" | "optgroup" | "option" | "p" | "rb" | "rp" | "rt" | "rtc"
    )
}

fn table_context(name: &str) -> bool {
    matches!(name, "table" | "tbody" | "thead" | "tfoot" | "tr")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Default,
    Button,
    ListItem,
    Table,
}

fn scope_boundary(name: &str, scope: Scope) -> bool {
    match scope {
        Scope::Table => matches!(name, "html" | "table" | "template"),
        _ => {
            matches!(
                name,
                "applet"
                    | "caption"
                    | "html"
                    | "table"
                    | "td"
                    | "th"
                    | "marquee"
                    | "object"
                    | "template"
            ) || (scope == Scope::Button && name == "button")
                || (scope == Scope::ListItem && matches!(name, "ol" | "ul"))
        }
    }
}

struct Builder {
    dom: Dom,
    open: Vec<NodeId>,
    /// Active formatting elements; `None` is a marker (cells, captions, objects).
    formatting: Vec<Option<NodeId>>,
    /// Pending start tag.
    tag: String,
    attrs: Attrs,
    attr_name: Vec<u8>,
    seen_style: bool,
    /// A standards-mode doctype: a `table` then closes an open `p` (quirks mode keeps it).
    doctype_html: bool,
    /// Content has begun: head-only elements now stay where they are met.
    body_started: bool,
    style_buf: Vec<u8>,
    /// Keep every attribute and the doctype ([`parse_document`]); off on the extraction path.
    keep_attrs: bool,
    /// The pending start tag's attributes, when kept.
    tag_attrs: Vec<(String, String)>,
    /// The current attribute repeats an earlier name (its value is dropped).
    attr_dup: bool,
    /// `html` / `body` got their style from a tag already.
    root_style: [bool; 2],
    text: Vec<u8>,
}

impl Builder {
    fn new(keep_attrs: bool) -> Self {
        let html = Node {
            data: Data::Element {
                name: "html".into(),
                hidden: false,
                bold: false,
            },
            parent: None,
            children: vec![HEAD, BODY],
        };
        let head = Node {
            data: Data::Element {
                name: "head".into(),
                hidden: false,
                bold: false,
            },
            parent: Some(0),
            children: Vec::new(),
        };
        let body = Node {
            data: Data::Element {
                name: "body".into(),
                hidden: false,
                bold: false,
            },
            parent: Some(0),
            children: Vec::new(),
        };
        Builder {
            dom: Dom {
                nodes: vec![html, head, body],
                attrs: Vec::new(),
                doctype: None,
            },
            open: vec![0, BODY],
            formatting: Vec::new(),
            tag: String::new(),
            attrs: Attrs::default(),
            attr_name: Vec::new(),
            seen_style: false,
            doctype_html: false,
            body_started: false,
            root_style: [false; 2],
            style_buf: Vec::new(),
            keep_attrs,
            tag_attrs: Vec::new(),
            attr_dup: false,
            text: Vec::new(),
        }
    }

    fn current(&self) -> NodeId {
        *self.open.last().unwrap_or(&BODY)
    }

    fn name(&self, id: NodeId) -> &str {
        self.dom.name(id)
    }

    fn detach(&mut self, id: NodeId) {
        self.dom.detach(id);
    }

    fn append(&mut self, parent: NodeId, child: NodeId) {
        self.detach(child);
        self.dom.nodes[child].parent = Some(parent);
        self.dom.nodes[parent].children.push(child);
    }

    fn insert_before(&mut self, parent: NodeId, before: NodeId, child: NodeId) {
        self.detach(child);
        self.dom.nodes[child].parent = Some(parent);
        let kids = &mut self.dom.nodes[parent].children;
        let at = kids.iter().position(|&c| c == before).unwrap_or(kids.len());
        kids.insert(at, child);
    }

    fn new_node(&mut self, data: Data) -> NodeId {
        self.dom.nodes.push(Node {
            data,
            parent: None,
            children: Vec::new(),
        });
        self.dom.nodes.len() - 1
    }

    fn clone_element(&mut self, id: NodeId) -> NodeId {
        let data = match &self.dom.nodes[id].data {
            Data::Element { name, hidden, bold } => Data::Element {
                name: name.clone(),
                hidden: *hidden,
                bold: *bold,
            },
            Data::Text(t) => Data::Text(t.clone()),
        };
        let new = self.new_node(data);
        if self.keep_attrs {
            let attrs = self.dom.attrs(id).to_vec();
            self.dom.set_attrs(new, attrs);
        }
        new
    }

    /// Gives element `id` the pending tag's attributes, when kept and the tag made it.
    fn take_attrs(&mut self, id: NodeId, attrs: Attrs) {
        if self.keep_attrs && attrs.from_tag {
            let kept = std::mem::take(&mut self.tag_attrs);
            self.dom.set_attrs(id, kept);
        }
    }

    /// Where new content goes: the current node, or before the table when the current
    /// node is a table part (foster parenting).
    fn place(&mut self, child: NodeId, foster_ok: bool) {
        let cur = self.current();
        if foster_ok && table_context(self.name(cur)) {
            if let Some(k) = self.open.iter().rposition(|&n| self.name(n) == "table") {
                let table = self.open[k];
                match self.dom.nodes[table].parent {
                    Some(p) => self.insert_before(p, table, child),
                    None => self.append(self.open[k.saturating_sub(1)], child),
                }
                return;
            }
        }
        self.append(cur, child);
    }

    fn insert_element(&mut self, name: &str, attrs: Attrs) -> Option<NodeId> {
        if self.open.len() >= MAX_OPEN && !is_void(name) {
            return None;
        }
        let id = self.new_node(Data::Element {
            name: name.to_owned(),
            hidden: attrs.hidden,
            bold: attrs.bold,
        });
        self.take_attrs(id, attrs);
        // table parts, and what a table takes in place, are never moved before the table
        let foster = !matches!(
            name,
            "table"
                | "tbody"
                | "thead"
                | "tfoot"
                | "tr"
                | "td"
                | "th"
                | "caption"
                | "colgroup"
                | "col"
                | "style"
                | "script"
                | "template"
        );
        self.place(id, foster);
        if !is_void(name) {
            self.open.push(id);
        }
        Some(id)
    }

    fn insert_text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let cur = self.current();
        let in_table = table_context(self.name(cur));
        let blank = s
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c'));
        if !self.body_started {
            if blank {
                return;
            }
            self.body_started = true;
        }
        if in_table && blank {
            self.push_text(cur, None, s);
            return;
        }
        self.reconstruct_formatting();
        let cur = self.current();
        if table_context(self.name(cur)) {
            if let Some(k) = self.open.iter().rposition(|&n| self.name(n) == "table") {
                let table = self.open[k];
                if let Some(p) = self.dom.nodes[table].parent {
                    self.push_text(p, Some(table), s);
                    return;
                }
            }
        }
        self.push_text(cur, None, s);
    }

    /// Appends text to `parent` (before `before`), merging with an adjacent text node.
    fn push_text(&mut self, parent: NodeId, before: Option<NodeId>, s: &str) {
        let kids = &self.dom.nodes[parent].children;
        let at = before
            .and_then(|b| kids.iter().position(|&c| c == b))
            .unwrap_or(kids.len());
        if at > 0 {
            let prev = kids[at - 1];
            if let Data::Text(t) = &mut self.dom.nodes[prev].data {
                t.push_str(s);
                return;
            }
        }
        let id = self.new_node(Data::Text(s.to_owned()));
        match before {
            Some(b) => self.insert_before(parent, b, id),
            None => self.append(parent, id),
        }
    }

    fn in_scope(&self, pred: impl Fn(&str) -> bool, scope: Scope) -> bool {
        for &n in self.open.iter().rev() {
            let name = self.name(n);
            if pred(name) {
                return true;
            }
            if scope_boundary(name, scope) {
                return false;
            }
        }
        false
    }

    fn has_in_scope(&self, tag: &str, scope: Scope) -> bool {
        self.in_scope(|n| n == tag, scope)
    }

    fn pop(&mut self) -> Option<NodeId> {
        // html and body stay open
        if self.open.len() <= 2 {
            return None;
        }
        self.open.pop()
    }

    fn generate_implied_end(&mut self, except: Option<&str>) {
        while self.open.len() > 2 {
            let name = self.name(self.current());
            if implied_end(name) && Some(name) != except {
                self.pop();
            } else {
                break;
            }
        }
    }

    fn pop_until(&mut self, pred: impl Fn(&str) -> bool) {
        while let Some(n) = self.pop() {
            if pred(self.name(n)) {
                break;
            }
        }
    }

    fn close_p(&mut self) {
        self.generate_implied_end(Some("p"));
        self.pop_until(|n| n == "p");
    }

    fn close_p_in_button_scope(&mut self) {
        if self.has_in_scope("p", Scope::Button) {
            self.close_p();
        }
    }

    fn clear_formatting_to_marker(&mut self) {
        while let Some(e) = self.formatting.pop() {
            if e.is_none() {
                break;
            }
        }
    }

    fn push_formatting(&mut self, id: NodeId) {
        let same = self
            .formatting
            .iter()
            .rev()
            .take_while(|e| e.is_some())
            .flatten()
            .filter(|&&e| self.same_element(e, id))
            .count();
        if same >= 3 {
            let last_marker = self.formatting.iter().rposition(Option::is_none);
            let from = last_marker.map_or(0, |m| m + 1);
            if let Some(k) = (from..self.formatting.len())
                .find(|&k| self.formatting[k].is_some_and(|e| self.same_element(e, id)))
            {
                self.formatting.remove(k);
            }
        }
        if self.formatting.len() < MAX_FORMATTING {
            self.formatting.push(Some(id));
        }
    }

    fn same_element(&self, a: NodeId, b: NodeId) -> bool {
        match (&self.dom.nodes[a].data, &self.dom.nodes[b].data) {
            (
                Data::Element {
                    name: n1,
                    hidden: h1,
                    bold: b1,
                },
                Data::Element {
                    name: n2,
                    hidden: h2,
                    bold: b2,
                },
            ) => n1 == n2 && h1 == h2 && b1 == b2,
            _ => false,
        }
    }

    fn reconstruct_formatting(&mut self) {
        let Some(Some(last)) = self.formatting.last() else {
            return;
        };
        if self.open.contains(last) {
            return;
        }
        let mut k = self.formatting.len() - 1;
        while k > 0 {
            match self.formatting[k - 1] {
                Some(e) if !self.open.contains(&e) => k -= 1,
                _ => break,
            }
        }
        for i in k..self.formatting.len() {
            let Some(old) = self.formatting[i] else {
                continue;
            };
            if self.open.len() >= MAX_OPEN {
                return;
            }
            let new = self.clone_element(old);
            self.place(new, true);
            self.open.push(new);
            self.formatting[i] = Some(new);
        }
    }

    /// WHATWG "any other end tag".
    fn any_other_end(&mut self, tag: &str) {
        for k in (0..self.open.len()).rev() {
            let n = self.open[k];
            if self.name(n) == tag {
                self.generate_implied_end(Some(tag));
                while self.open.len() > k.max(2) {
                    self.open.pop();
                }
                return;
            }
            if is_special(self.name(n)) {
                return;
            }
        }
    }

    /// WHATWG adoption agency: a formatting element's end tag, when misnested.
    fn adoption_agency(&mut self, tag: &str) {
        let cur = self.current();
        if self.name(cur) == tag && !self.formatting.contains(&Some(cur)) {
            self.pop();
            return;
        }
        for _ in 0..8 {
            let last_marker = self.formatting.iter().rposition(Option::is_none);
            let from = last_marker.map_or(0, |m| m + 1);
            let Some(fk) = (from..self.formatting.len())
                .rev()
                .find(|&k| self.formatting[k].is_some_and(|e| self.name(e) == tag))
            else {
                return self.any_other_end(tag);
            };
            let Some(fe) = self.formatting[fk] else {
                return;
            };
            let Some(fs) = self.open.iter().position(|&n| n == fe) else {
                self.formatting.remove(fk);
                return;
            };
            if !self.element_in_scope(fe) {
                return;
            }
            let furthest = (fs + 1..self.open.len()).find(|&k| is_special(self.name(self.open[k])));
            let Some(fb_pos) = furthest else {
                while self.open.len() > fs.max(2) {
                    self.open.pop();
                }
                self.formatting.remove(fk);
                return;
            };
            let furthest_block = self.open[fb_pos];
            let common = self.open[fs.saturating_sub(1)];
            let mut bookmark = fk;
            let mut node_pos = fb_pos;
            let mut last_node = furthest_block;
            let mut inner = 0;
            loop {
                inner += 1;
                node_pos -= 1;
                let node = self.open[node_pos];
                if node == fe {
                    break;
                }
                let fpos = self.formatting.iter().position(|&e| e == Some(node));
                if inner > 3 {
                    if let Some(p) = fpos {
                        self.formatting.remove(p);
                        if p < bookmark {
                            bookmark -= 1;
                        }
                        self.open.remove(node_pos);
                        continue;
                    }
                }
                let Some(p) = self.formatting.iter().position(|&e| e == Some(node)) else {
                    self.open.remove(node_pos);
                    continue;
                };
                let new = self.clone_element(node);
                self.formatting[p] = Some(new);
                self.open[node_pos] = new;
                if last_node == furthest_block {
                    bookmark = p + 1;
                }
                self.append(new, last_node);
                last_node = new;
            }
            if table_context(self.name(common)) {
                self.detach(last_node);
                if let Some(k) = self.open.iter().rposition(|&n| self.name(n) == "table") {
                    let table = self.open[k];
                    match self.dom.nodes[table].parent {
                        Some(p) => self.insert_before(p, table, last_node),
                        None => self.append(common, last_node),
                    }
                }
            } else {
                self.append(common, last_node);
            }
            let new = self.clone_element(fe);
            let kids = std::mem::take(&mut self.dom.nodes[furthest_block].children);
            for k in &kids {
                self.dom.nodes[*k].parent = Some(new);
            }
            self.dom.nodes[new].children = kids;
            self.append(furthest_block, new);
            if let Some(p) = self.formatting.iter().position(|&e| e == Some(fe)) {
                self.formatting.remove(p);
                if p < bookmark {
                    bookmark -= 1;
                }
            }
            self.formatting
                .insert(bookmark.min(self.formatting.len()), Some(new));
            if let Some(p) = self.open.iter().position(|&n| n == fe) {
                self.open.remove(p);
            }
            if let Some(p) = self.open.iter().position(|&n| n == furthest_block) {
                self.open.insert(p + 1, new);
            }
        }
    }

    fn element_in_scope(&self, id: NodeId) -> bool {
        for &n in self.open.iter().rev() {
            if n == id {
                return true;
            }
            if scope_boundary(self.name(n), Scope::Default) {
                return false;
            }
        }
        false
    }

    fn close_cell(&mut self) {
        self.generate_implied_end(None);
        self.pop_until(|n| matches!(n, "td" | "th"));
        self.clear_formatting_to_marker();
    }

    fn table_in_scope(&self) -> bool {
        self.has_in_scope("table", Scope::Table)
    }

    fn cell_in_scope(&self) -> bool {
        self.in_scope(|n| matches!(n, "td" | "th"), Scope::Table)
    }

    fn start_tag(&mut self, name: &str, attrs: Attrs) {
        let name = if name == "image" { "img" } else { name };
        let head_only = matches!(
            name,
            "html"
                | "head"
                | "base"
                | "basefont"
                | "bgsound"
                | "link"
                | "meta"
                | "style"
                | "script"
                | "title"
                | "template"
                | "noscript"
                | "noframes"
        );
        if !head_only && !self.body_started {
            self.body_started = true;
            return self.start_tag(name, attrs);
        }
        match name {
            "html" | "body" => {
                // attributes join the element's own, first one wins (WHATWG)
                let id = if name == "html" { 0 } else { BODY };
                let k = usize::from(name == "body");
                if let Data::Element { hidden, bold, .. } = &mut self.dom.nodes[id].data {
                    *hidden |= attrs.hidden_attr;
                    if attrs.has_style && !self.root_style[k] {
                        *hidden |= attrs.hidden;
                        *bold = attrs.bold;
                    }
                }
                self.root_style[k] |= attrs.has_style;
                if self.keep_attrs && attrs.from_tag {
                    let mut own = self.dom.attrs(id).to_vec();
                    for (key, v) in std::mem::take(&mut self.tag_attrs) {
                        if !own.iter().any(|(o, _)| *o == key) {
                            own.push((key, v));
                        }
                    }
                    self.dom.set_attrs(id, own);
                }
            }
            "head" | "frameset" | "frame" => {}
            "td" | "th" | "tr" | "tbody" | "thead" | "tfoot" | "caption" | "colgroup" | "col" => {
                if !self.table_in_scope() {
                    return;
                }
                if self.cell_in_scope() {
                    self.close_cell();
                }
                match name {
                    "td" | "th" => {
                        if self.name(self.current()) != "tr" {
                            self.pop_until_table_body();
                            self.insert_element("tr", Attrs::default());
                        }
                        self.insert_element(name, attrs);
                        self.formatting.push(None);
                    }
                    "tr" => {
                        self.pop_until_table_body();
                        self.insert_element(name, attrs);
                    }
                    "caption" => {
                        self.pop_until_table();
                        self.insert_element(name, attrs);
                        self.formatting.push(None);
                    }
                    _ => {
                        self.pop_until_table();
                        self.insert_element(name, attrs);
                    }
                }
            }
            "table" => {
                if table_context(self.name(self.current())) {
                    self.pop_until(|n| n == "table");
                } else if !self.doctype_html {
                    // quirks mode: a table may sit inside a paragraph
                } else {
                    self.close_p_in_button_scope();
                }
                self.insert_element(name, attrs);
            }
            "li" | "dd" | "dt" => {
                let same = |n: &str| {
                    if name == "li" {
                        n == "li"
                    } else {
                        matches!(n, "dd" | "dt")
                    }
                };
                for k in (0..self.open.len()).rev() {
                    let n = self.name(self.open[k]).to_owned();
                    if same(&n) {
                        self.generate_implied_end(Some(&n));
                        self.pop_until(|x| x == n);
                        break;
                    }
                    if is_special(&n) && !matches!(n.as_str(), "address" | "div" | "p") {
                        break;
                    }
                }
                self.close_p_in_button_scope();
                self.insert_element(name, attrs);
            }
            _ if is_heading(name) => {
                self.close_p_in_button_scope();
                if is_heading(self.name(self.current())) {
                    self.pop();
                }
                self.insert_element(name, attrs);
            }
            _ if closes_p(name) => {
                self.close_p_in_button_scope();
                self.insert_element(name, attrs);
            }
            "button" => {
                if self.has_in_scope("button", Scope::Default) {
                    self.generate_implied_end(None);
                    self.pop_until(|n| n == "button");
                }
                self.reconstruct_formatting();
                self.insert_element(name, attrs);
            }
            "a" => {
                let last_marker = self.formatting.iter().rposition(Option::is_none);
                let from = last_marker.map_or(0, |m| m + 1);
                let open_a = self.formatting[from..]
                    .iter()
                    .flatten()
                    .copied()
                    .find(|&e| self.name(e) == "a");
                if let Some(a) = open_a {
                    self.adoption_agency("a");
                    self.formatting.retain(|&e| e != Some(a));
                    self.open.retain(|&n| n != a);
                }
                self.reconstruct_formatting();
                if let Some(id) = self.insert_element(name, attrs) {
                    self.push_formatting(id);
                }
            }
            "nobr" => {
                self.reconstruct_formatting();
                if self.has_in_scope("nobr", Scope::Default) {
                    self.adoption_agency("nobr");
                    self.reconstruct_formatting();
                }
                if let Some(id) = self.insert_element(name, attrs) {
                    self.push_formatting(id);
                }
            }
            _ if is_formatting(name) => {
                self.reconstruct_formatting();
                if let Some(id) = self.insert_element(name, attrs) {
                    self.push_formatting(id);
                }
            }
            "applet" | "marquee" | "object" => {
                self.reconstruct_formatting();
                self.insert_element(name, attrs);
                self.formatting.push(None);
            }
            "option" | "optgroup" => {
                if self.name(self.current()) == "option" {
                    self.pop();
                }
                self.reconstruct_formatting();
                self.insert_element(name, attrs);
            }
            "base" | "basefont" | "bgsound" | "link" | "meta" | "style" | "script" | "title"
            | "template" | "noscript" | "noframes"
                if !self.body_started =>
            {
                let id = self.new_node(Data::Element {
                    name: name.to_owned(),
                    hidden: attrs.hidden,
                    bold: attrs.bold,
                });
                self.take_attrs(id, attrs);
                self.append(HEAD, id);
                if !is_void(name) {
                    self.open.push(id);
                }
            }
            "base" | "basefont" | "bgsound" | "link" | "meta" | "param" | "source" | "track"
            | "style" | "script" | "title" | "template" | "noscript" | "noframes" => {
                self.insert_element(name, attrs);
            }
            _ => {
                self.reconstruct_formatting();
                self.insert_element(name, attrs);
            }
        }
    }

    fn pop_until_table_body(&mut self) {
        while self.open.len() > 2
            && !matches!(
                self.name(self.current()),
                "table" | "tbody" | "thead" | "tfoot" | "template"
            )
        {
            self.open.pop();
        }
    }

    fn pop_until_table(&mut self) {
        while self.open.len() > 2 && !matches!(self.name(self.current()), "table" | "template") {
            self.open.pop();
        }
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "html" | "body" | "head" => {}
            "br" => self.start_tag("br", Attrs::default()),
            "p" => {
                if !self.has_in_scope("p", Scope::Button) {
                    self.insert_element("p", Attrs::default());
                }
                self.close_p();
            }
            "li" => {
                if self.has_in_scope("li", Scope::ListItem) {
                    self.generate_implied_end(Some("li"));
                    self.pop_until(|n| n == "li");
                }
            }
            "dd" | "dt" => {
                if self.has_in_scope(name, Scope::Default) {
                    self.generate_implied_end(Some(name));
                    self.pop_until(|n| n == name);
                }
            }
            _ if is_heading(name) => {
                if self.in_scope(is_heading, Scope::Default) {
                    self.generate_implied_end(None);
                    self.pop_until(is_heading);
                }
            }
            "td" | "th" => {
                if self.has_in_scope(name, Scope::Table) {
                    self.close_cell();
                }
            }
            "tr" | "tbody" | "thead" | "tfoot" | "caption" | "table" => {
                if self.has_in_scope(name, Scope::Table) {
                    while let Some(n) = self.pop() {
                        let popped = self.name(n).to_owned();
                        if matches!(popped.as_str(), "td" | "th" | "caption") {
                            self.clear_formatting_to_marker();
                        }
                        if popped == name {
                            break;
                        }
                    }
                }
            }
            "colgroup" | "col" => {}
            "applet" | "marquee" | "object" => {
                if self.has_in_scope(name, Scope::Default) {
                    self.generate_implied_end(None);
                    self.pop_until(|n| n == name);
                    self.clear_formatting_to_marker();
                }
            }
            _ if block_end_tag(name) => {
                if self.has_in_scope(name, Scope::Default) {
                    self.generate_implied_end(None);
                    self.pop_until(|n| n == name);
                }
            }
            _ if is_formatting(name) => self.adoption_agency(name),
            _ => self.any_other_end(name),
        }
    }

    fn flush_text(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let mut bytes = std::mem::take(&mut self.text);
        if bytes.contains(&0) {
            bytes.retain(|&b| b != 0);
        }
        match std::str::from_utf8(&bytes) {
            Ok(s) => self.insert_text(s),
            Err(_) => self.insert_text(&String::from_utf8_lossy(&bytes)),
        }
        self.text = bytes;
        self.text.clear();
    }

    fn event(&mut self, e: CallbackEvent<'_>) {
        match e {
            CallbackEvent::String { value } => self.text.extend_from_slice(value),
            CallbackEvent::OpenStartTag { name } => {
                self.flush_text();
                self.tag.clear();
                self.tag.push_str(&utf8(name));
                self.attrs = Attrs {
                    from_tag: true,
                    ..Attrs::default()
                };
                self.seen_style = false;
                self.attr_name.clear();
                if self.keep_attrs {
                    self.tag_attrs.clear();
                }
            }
            CallbackEvent::AttributeName { name } => {
                self.attr_name.clear();
                self.attr_name.extend_from_slice(name);
                if name == b"hidden" {
                    self.attrs.hidden = true;
                    self.attrs.hidden_attr = true;
                }
                if self.keep_attrs {
                    let name = String::from_utf8_lossy(name);
                    self.attr_dup = self.tag_attrs.iter().any(|(k, _)| *k == name);
                    if !self.attr_dup {
                        self.tag_attrs.push((name.into_owned(), String::new()));
                    }
                }
            }
            CallbackEvent::AttributeValue { value } => {
                if self.keep_attrs && !self.attr_dup {
                    if let Some((_, v)) = self.tag_attrs.last_mut() {
                        v.push_str(&String::from_utf8_lossy(value));
                    }
                }
                if self.attr_name == b"style" && !self.seen_style {
                    self.seen_style = true;
                    let f = style_flags(value, &mut self.style_buf);
                    self.attrs.hidden |= f.hidden;
                    self.attrs.bold = f.bold;
                    self.attrs.has_style = true;
                }
            }
            CallbackEvent::CloseStartTag { .. } => {
                let tag = std::mem::take(&mut self.tag);
                self.start_tag(&tag, self.attrs);
                self.tag = tag;
            }
            CallbackEvent::EndTag { name } => {
                self.flush_text();
                self.end_tag(&utf8(name));
            }
            CallbackEvent::Doctype {
                name,
                public_identifier,
                system_identifier,
                force_quirks,
            } => {
                let public = public_identifier
                    .map(|p| String::from_utf8_lossy(p).to_ascii_lowercase())
                    .unwrap_or_default();
                let old = [
                    "-//w3c//dtd html 3",
                    "-//w3c//dtd html 4.0 ",
                    "-//ietf//",
                    "-//w3o//",
                ]
                .iter()
                .any(|q| public.starts_with(q));
                let transitional_without_system = system_identifier.is_none()
                    && (public.starts_with("-//w3c//dtd html 4.01 transitional//")
                        || public.starts_with("-//w3c//dtd html 4.01 frameset//"));
                if self.keep_attrs && self.dom.doctype.is_none() {
                    self.dom.doctype = Some(String::from_utf8_lossy(name).to_ascii_lowercase());
                }
                self.doctype_html = name.eq_ignore_ascii_case(b"html")
                    && !force_quirks
                    && !old
                    && !transitional_without_system;
            }
            CallbackEvent::Comment { .. } | CallbackEvent::Error(_) => {}
        }
    }
}

/// Tag names are ASCII nearly always: the strict check is cheaper than the lossy decoder.
fn utf8(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// The callback emitter without parse-error reporting (the tokenizer then skips its
/// per-character validation; errors change nothing here).
struct Quiet<E>(E);

impl<E: Emitter<Token = Infallible>> ForwardingEmitter for Quiet<E> {
    type Token = Infallible;

    fn inner(&mut self) -> &mut impl Emitter<Token = Infallible> {
        &mut self.0
    }

    fn should_emit_errors(&mut self) -> bool {
        false
    }

    fn emit_error(&mut self, _: html5gum::Error) {}
}

/// Parses `html` leniently for extraction (no attributes kept); never fails.
pub fn parse(html: &str) -> Dom {
    build(html, false)
}

/// Parses `html` leniently into a document that keeps its attributes and doctype, to be
/// edited and written back out; never fails.
pub fn parse_document(html: &str) -> Dom {
    build(html, true)
}

fn build(html: &str, keep_attrs: bool) -> Dom {
    let mut b = Builder::new(keep_attrs);
    {
        let mut emitter = CallbackEmitter::new(|e: CallbackEvent<'_>, _: Span<()>| {
            b.event(e);
            None::<Infallible>
        });
        emitter.naively_switch_states(true);
        let _ = Tokenizer::new_with_emitter(html, Quiet(emitter)).finish();
    }
    b.flush_text();
    b.dom
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
        assert!(d.nodes.len() <= MAX_OPEN + 3);
    }
}
