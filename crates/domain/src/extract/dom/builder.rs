//! Tree construction: html5gum's callback events in, a [`Dom`] out, by the parts of the
//! WHATWG rules that shape what the renderer reads (see the parent module). The start and
//! end tag rules are in `tags`.

mod tags;

use super::names::{implied_end, is_special, is_void, scope_boundary, table_context, Scope};
use super::style::{style_flags, Attrs};
use super::{Data, Dom, Node, NodeId, BODY, HEAD};
use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Emitter, ForwardingEmitter, Span, Tokenizer};
use std::borrow::Cow;
use std::convert::Infallible;

/// Open elements beyond this depth are not opened (their content joins the deepest open
/// one); the renderer stops far above it, and hostile nesting stays linear.
pub(super) const MAX_OPEN: usize = 512;
/// Formatting elements remembered for reconstruction, at most.
const MAX_FORMATTING: usize = 64;

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
    /// Keep every attribute and the doctype ([`super::parse_document`]); off on the
    /// extraction path.
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

pub(super) fn build(html: &str, keep_attrs: bool) -> Dom {
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
