//! The start and end tag rules of tree construction ("in body", "in table", "in row" and
//! "in cell", merged the way the renderer needs them).

use super::Builder;
use crate::extract::dom::names::{
    block_end_tag, closes_p, is_formatting, is_heading, is_special, is_void, table_context, Scope,
};
use crate::extract::dom::style::Attrs;
use crate::extract::dom::{Data, BODY, HEAD};

impl Builder {
    pub(super) fn start_tag(&mut self, name: &str, attrs: Attrs) {
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

    pub(super) fn pop_until_table_body(&mut self) {
        while self.open.len() > 2
            && !matches!(
                self.name(self.current()),
                "table" | "tbody" | "thead" | "tfoot" | "template"
            )
        {
            self.open.pop();
        }
    }

    pub(super) fn pop_until_table(&mut self) {
        while self.open.len() > 2 && !matches!(self.name(self.current()), "table" | "template") {
            self.open.pop();
        }
    }

    pub(super) fn end_tag(&mut self, name: &str) {
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
}
