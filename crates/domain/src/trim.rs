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
    use scraper::{Html, Selector};
    let mut doc = Html::parse_document(html);
    let mut quoted = false;
    let is_el = |n: &scraper::Node, name: &str| n.as_element().is_some_and(|e| e.name() == name);

    // From these on, everything to the end of the document is history. (ego_tree's NodeId
    // is not re-exported by scraper, hence the inferred types.)
    let mut onward = Vec::new();
    for s in ONWARD_SELECTORS {
        if let Ok(sel) = Selector::parse(s) {
            onward.extend(doc.select(&sel).map(|e| e.id()));
        }
    }
    onward.extend(doc.tree.nodes().filter_map(|n| {
        let text = n.value().as_text()?;
        text.contains(REPLY_MARKER)
            .then(|| n.parent().map(|p| p.id()))
            .flatten()
    }));
    for id in onward {
        let root = doc.tree.root().id();
        let Some(node) = doc.tree.get(id) else {
            continue;
        };
        if node.ancestors().last().map(|r| r.id()) != Some(root) {
            continue; // already gone with an earlier cut
        }
        let mut doomed = vec![id];
        let before = node
            .prev_siblings()
            .find(|n| !n.value().as_text().is_some_and(|t| t.trim().is_empty()));
        if let Some(hr) = before.filter(|n| is_el(n.value(), "hr")) {
            doomed.push(hr.id());
        }
        let mut cur = Some(node);
        while let Some(n) = cur {
            doomed.extend(n.next_siblings().map(|s| s.id()));
            cur = n
                .parent()
                .filter(|p| !is_el(p.value(), "body") && p.parent().is_some());
        }
        for d in doomed {
            if let Some(mut n) = doc.tree.get_mut(d) {
                n.detach();
            }
        }
        quoted = true;
    }
    let mut remove = Vec::new();
    for s in REMOVE_SELECTORS {
        if let Ok(sel) = Selector::parse(s) {
            remove.extend(doc.select(&sel).map(|e| e.id()));
        }
    }
    for id in remove {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
            quoted = true;
        }
    }
    TrimmedHtml {
        html: doc.html(),
        quoted,
    }
}

const REMOVE_SELECTORS: &[&str] = &[
    "div.gmail_quote",
    "blockquote",
    "div.moz-cite-prefix",
    "div.yahoo_quoted",
];

const ONWARD_SELECTORS: &[&str] = &[
    "#divRplyFwdMsg",
    "#mail-editor-reference-message-container",
    r#"div[style*="border-top:solid #E1E1E1"]"#,
    r#"div[style*="border-top:solid #B5C4DF"]"#,
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
