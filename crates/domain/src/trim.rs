//! Reply trimming: what of a reply to relay, and what is quoted history to drop. Layered:
//! leadgate's own marker line first, then the quote headers of the common clients (Gmail,
//! Outlook desktop and web, Apple Mail, Thunderbird) in several languages, then a trailing
//! `>` block. Pure text in, text out; the full original is kept elsewhere.
//!
//! The rule when unsure is to keep: a false cut loses the sender's words, a missed one
//! relays a quote the lead has already seen (leadgate's internal notification is always
//! caught by its marker).

use std::sync::LazyLock;

use regex::Regex;

use crate::extract::dom::{self, Data, Dom, NodeId};

/// The start of the line leadgate puts at the top of every email to an owner.
pub const REPLY_MARKER: &str = "##- Reply above this line";

/// The full marker line for a lead's display name (newlines and the marker's own
/// delimiters are taken out of the name so the line stays one recognisable line).
pub fn marker_line(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace("-##", "")
        .replace("##-", "");
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{REPLY_MARKER}: your reply goes to {name} through leadgate -##")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trimmed {
    /// The new text, trailing whitespace removed.
    pub reply: String,
    /// Whether anything was cut.
    pub quoted: bool,
    /// Which layer cut, for the logs: `marker`, `attribution`, `outlook`, `quote`, `signature`.
    pub cut_by: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrimOptions {
    /// Also drop a trailing signature after a `-- ` line. Off by default: a team member's
    /// signature is usually meant for the lead.
    pub strip_signature: bool,
}

/// Trims `text` with the default options.
pub fn trim_reply(text: &str) -> Trimmed {
    trim_reply_with(text, TrimOptions::default())
}

pub fn trim_reply_with(text: &str, opts: TrimOptions) -> Trimmed {
    let lines = split_lines(text);
    let (start, cut) = region(&lines, 0, 0);
    let start_off = lines.get(start).map_or(text.len(), |l| l.start);
    let mut end_idx = cut.map_or(lines.len(), |(i, _)| i);
    let mut cut_by = cut.map(|(_, why)| why);
    if opts.strip_signature {
        if let Some(i) = (start..end_idx).find(|&i| matches!(lines[i].text, "-- " | "--")) {
            end_idx = i;
            cut_by = cut_by.or(Some("signature"));
        }
    }
    let end_off = lines.get(end_idx).map_or(text.len(), |l| l.start);
    let reply = text
        .get(start_off..end_off.max(start_off))
        .unwrap_or("")
        .trim_end();
    Trimmed {
        reply: reply.to_string(),
        quoted: cut_by.is_some(),
        cut_by,
    }
}

struct Line<'a> {
    start: usize,
    /// Without the line ending.
    text: &'a str,
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        out.push(Line {
            start,
            text: piece.trim_end_matches(['\n', '\r']),
        });
        start += piece.len();
    }
    out
}

/// The reply region from `from` on: (first line, cut line and reason). A cut with only
/// blank lines above it may be a bottom-posted reply; then the region moves below the
/// quote. `depth` bounds that.
fn region(lines: &[Line<'_>], from: usize, depth: u8) -> (usize, Option<(usize, &'static str)>) {
    let Some((cut, why)) = first_cut(lines, from) else {
        return (from, None);
    };
    let blank_above = lines[from..cut].iter().all(|l| l.text.trim().is_empty());
    if blank_above && depth < 4 {
        // Bottom-posting: a header or marker, a `>` block right under it, then the reply.
        let mut i = cut + usize::from(!is_quoted(lines[cut].text));
        let quote_start = i;
        while i < lines.len() && (is_quoted(lines[i].text) || lines[i].text.trim().is_empty()) {
            i += 1;
        }
        let had_quote = lines[quote_start..i].iter().any(|l| is_quoted(l.text));
        if had_quote && i < lines.len() {
            let (start, inner) = region(lines, i, depth + 1);
            return (start, inner.or(Some((lines.len(), why))));
        }
    }
    (from, Some((cut, why)))
}

/// The first line where quoted history starts, at or after `from`.
fn first_cut(lines: &[Line<'_>], from: usize) -> Option<(usize, &'static str)> {
    for i in from..lines.len() {
        let line = norm(lines[i].text);
        if lines[i].text.contains(REPLY_MARKER) {
            return Some((i, "marker"));
        }
        if is_quoted(lines[i].text) {
            continue;
        }
        if is_attribution(&line) && (strong(&line) || quote_follows(lines, i + 1)) {
            return Some((i, "attribution"));
        }
        // Gmail wraps a long attribution over two lines.
        if let Some(next) = lines.get(i + 1) {
            let next_norm = norm(next.text);
            if line.chars().count() >= 40
                && !line.ends_with(['.', '!', '?'])
                && !is_attribution(&next_norm)
                && is_attribution(&format!("{line} {next_norm}"))
                && (strong(&format!("{line} {next_norm}")) || quote_follows(lines, i + 2))
            {
                return Some((i, "attribution"));
            }
        }
        if ORIGINAL.is_match(&line) || FORWARD_INTRO.is_match(&line) {
            return Some((i, "outlook"));
        }
        if UNDERSCORES.is_match(&line)
            && lines[i + 1..]
                .iter()
                .take(3)
                .any(|l| FROM_LABEL.is_match(&norm(l.text)))
        {
            return Some((i, "outlook"));
        }
        if is_header_block(lines, i) {
            return Some((i, "outlook"));
        }
    }
    trailing_quote(lines, from).map(|i| (i, "quote"))
}

/// A trailing run of `>` lines (with blank lines in it), and its attribution line if the
/// line above it looks like one in any language ("Jane <j@x> wrote:").
fn trailing_quote(lines: &[Line<'_>], from: usize) -> Option<usize> {
    let last = (from..lines.len())
        .rev()
        .find(|&i| !lines[i].text.trim().is_empty())?;
    if !is_quoted(lines[last].text) {
        return None;
    }
    let mut start = last;
    while start > from
        && (is_quoted(lines[start - 1].text) || lines[start - 1].text.trim().is_empty())
    {
        start -= 1;
    }
    while start < last && lines[start].text.trim().is_empty() {
        start += 1;
    }
    let above = (from..start)
        .rev()
        .find(|&i| !lines[i].text.trim().is_empty());
    if let Some(a) = above {
        let t = norm(lines[a].text);
        if t.ends_with(':')
            && t.chars().count() <= 250
            && (t.contains('@') || t.chars().any(|c| c.is_ascii_digit()))
            && GENERIC_WROTE.is_match(&t)
        {
            return Some(a);
        }
    }
    Some(start)
}

/// An Outlook header block: a From line and, in the next lines, at least two of the
/// date, recipient and subject lines.
fn is_header_block(lines: &[Line<'_>], i: usize) -> bool {
    if !FROM_LABEL.is_match(&norm(lines[i].text)) {
        return false;
    }
    let next: Vec<String> = lines[i + 1..]
        .iter()
        .take(5)
        .map(|l| norm(l.text))
        .collect();
    let has = |re: &Regex| next.iter().any(|l| re.is_match(l));
    [&*SENT_LABEL, &*TO_LABEL, &*SUBJECT_LABEL]
        .iter()
        .filter(|re| has(re))
        .count()
        >= 2
}

fn is_quoted(line: &str) -> bool {
    line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .starts_with('>')
}

/// Matching form of a line: no-break spaces as spaces, trimmed, plain-text bold stars off.
fn norm(line: &str) -> String {
    line.replace(['\u{a0}', '\u{202f}'], " ")
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .trim_matches('*')
        .trim()
        .to_string()
}

fn is_attribution(line: &str) -> bool {
    // A real header carries a date or an address; "On Monday I wrote:" does not.
    line.ends_with(':')
        && line.chars().count() <= 300
        && (line.contains('@') || line.chars().any(|c| c.is_ascii_digit()))
        && ATTRIBUTION.iter().any(|re| re.is_match(line))
}

/// An attribution with both a date and an address is one even when no `>` block follows
/// (clients that quote without `>`); a weaker one needs the quote to follow.
fn strong(line: &str) -> bool {
    line.contains('@') && line.chars().any(|c| c.is_ascii_digit())
}

/// Is the next non-blank line from `i` on quoted, leadgate's marker, or absent?
fn quote_follows(lines: &[Line<'_>], i: usize) -> bool {
    lines
        .get(i..)
        .unwrap_or(&[])
        .iter()
        .find(|l| !norm(l.text).is_empty())
        .is_none_or(|l| is_quoted(l.text) || l.text.contains(REPLY_MARKER))
}

/// The HTML part trimmed, when the relay sends HTML too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrimmedHtml {
    /// A whole serialized document.
    pub html: String,
    pub quoted: bool,
}

/// Removes client quote containers from an HTML reply: Gmail's `gmail_quote`, `blockquote`s
/// (Apple Mail, Thunderbird), Thunderbird's cite prefix, Yahoo's `yahoo_quoted`, and
/// everything from Outlook's reply header (`divRplyFwdMsg`, the desktop header's
/// border-top div) or leadgate's marker on. The plain-text part stays the reference;
/// this is best-effort formatting.
pub fn trim_reply_html(html: &str) -> TrimmedHtml {
    let (doc, quoted) = trim_html_document(html);
    TrimmedHtml {
        html: doc.to_html(),
        quoted,
    }
}

/// [`trim_reply_html`]'s work, the document left as a tree (the relay reads its text).
pub(crate) fn trim_html_document(html: &str) -> (Dom, bool) {
    let mut doc = dom::parse_document(html);
    let mut quoted = false;

    // From these on, everything to the end of the document is history.
    let order = doc.descendants();
    let mut onward: Vec<NodeId> = ONWARD
        .iter()
        .flat_map(|sel| order.iter().copied().filter(|&n| sel.matches(&doc, n)))
        .collect();
    onward.extend(order.iter().filter_map(|&n| match &doc.nodes[n].data {
        Data::Text(t) if t.contains(REPLY_MARKER) => doc.parent(n),
        _ => None,
    }));
    for id in onward {
        if !doc.attached(id) {
            continue; // already gone with an earlier cut
        }
        let mut doomed = vec![id];
        if let Some(p) = doc.parent(id) {
            let kids = doc.children(p);
            let at = kids.iter().position(|&c| c == id).unwrap_or(0);
            let before = kids[..at]
                .iter()
                .rev()
                .find(|&&k| !matches!(&doc.nodes[k].data, Data::Text(t) if t.trim().is_empty()));
            if let Some(&hr) = before.filter(|&&k| doc.name(k) == "hr") {
                doomed.push(hr);
            }
        }
        let mut cur = id;
        while let Some(p) = doc.parent(cur) {
            let kids = doc.children(p);
            let at = kids.iter().position(|&c| c == cur).unwrap_or(kids.len());
            doomed.extend(kids.get(at + 1..).unwrap_or(&[]));
            if doc.name(p) == "body" {
                break;
            }
            cur = p;
        }
        for d in doomed {
            doc.detach(d);
        }
        quoted = true;
    }
    let order = doc.descendants();
    let remove: Vec<NodeId> = REMOVE
        .iter()
        .flat_map(|sel| order.iter().copied().filter(|&n| sel.matches(&doc, n)))
        .collect();
    for id in remove {
        doc.detach(id);
        quoted = true;
    }
    (doc, quoted)
}

/// The few CSS selectors trimming needs: an element name (`*` for any) and one attribute
/// test. Class and id compare ASCII-case-insensitively (quirks-mode documents, which
/// most mail is, match them so).
struct Selector {
    tag: &'static str,
    test: AttrTest,
}

enum AttrTest {
    Any,
    Class(&'static str),
    Id(&'static str),
    StyleContains(&'static str),
}

impl Selector {
    const fn new(tag: &'static str, test: AttrTest) -> Self {
        Selector { tag, test }
    }

    fn matches(&self, doc: &Dom, id: NodeId) -> bool {
        if !doc.is_element(id) || (self.tag != "*" && doc.name(id) != self.tag) {
            return false;
        }
        match self.test {
            AttrTest::Any => true,
            AttrTest::Class(c) => doc.attr(id, "class").is_some_and(|v| {
                v.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case(c))
            }),
            AttrTest::Id(want) => doc
                .attr(id, "id")
                .is_some_and(|v| v.eq_ignore_ascii_case(want)),
            AttrTest::StyleContains(s) => doc.attr(id, "style").is_some_and(|v| v.contains(s)),
        }
    }
}

const REMOVE: &[Selector] = &[
    Selector::new("div", AttrTest::Class("gmail_quote")),
    Selector::new("blockquote", AttrTest::Any),
    Selector::new("div", AttrTest::Class("moz-cite-prefix")),
    Selector::new("div", AttrTest::Class("yahoo_quoted")),
];

const ONWARD: &[Selector] = &[
    Selector::new("*", AttrTest::Id("divRplyFwdMsg")),
    Selector::new("*", AttrTest::Id("mail-editor-reference-message-container")),
    Selector::new("div", AttrTest::StyleContains("border-top:solid #E1E1E1")),
    Selector::new("div", AttrTest::StyleContains("border-top:solid #B5C4DF")),
];

fn re(s: &str) -> Regex {
    Regex::new(s).expect("static regex")
}

static ATTRIBUTION: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)^on\s.+\swrote\s?:$",         // en: Gmail, Apple Mail, Thunderbird
        r"(?i)^am\s.+\sschrieb\s.+:$",      // de
        r"(?i)^le\s.+\sa\s+écrit\s?:$",     // fr
        r"(?i)^el\s.+\sescribió\s?:$",      // es
        r"(?i)^(den|d\.)\s.+\sskrev\s.+:$", // da, sv, no
        r"(?i)^op\s.+\sschreef\s.+:$",      // nl
        r"(?i)^il\s.+\sha\s+scritto\s?:$",  // it
        r"(?i)^(em|on|às)\s.+\sescreveu\s?:$", // pt
        r"(?i)^.{0,120}<[^<>\s]+@[^<>\s]+>\s(wrote|schrieb|a écrit|escribió|skrev)\s?:$", // "Jane <j@x> wrote:"
    ]
    .iter()
    .map(|s| re(s))
    .collect()
});

static GENERIC_WROTE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\s(wrote|writes|schrieb|a\s+écrit|escribió|skrev|schreef|ha\s+scritto|escreveu|napisał)(\s.*)?:$",
    )
});

static ORIGINAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|message original|mensaje original|oprindelig meddelelse|original meddelelse|oorspronkelijk bericht|messaggio originale|ursprungligt meddelande|mensagem original|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|videresendt meddelelse|doorgestuurd bericht)\s*-{2,}$",
    )
});

static FORWARD_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|inicio del mensaje reenviado|start på videresendt besked)\s?:$",
    )
});

static UNDERSCORES: LazyLock<Regex> = LazyLock::new(|| re(r"^_{10,}$"));

static FROM_LABEL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\*?(from|von|de|fra|van|da|från)\s?:\*?\s*\S"));
static SENT_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\*?(sent|date|gesendet|datum|envoyé|enviado|fecha|sendt|dato|verzonden|inviato|data|skickat)\s?:",
    )
});
static TO_LABEL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\*?(to|an|à|a|para|til|aan|till|cc)\s?:"));
static SUBJECT_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^\*?(subject|betreff|objet|asunto|emne|onderwerp|oggetto|ämne|assunto)\s?:")
});

#[cfg(test)]
mod tests;
