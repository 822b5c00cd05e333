//! Label/value pairs out of [`Item`]s, for every layout we meet: `Label: value` lines,
//! `Label:` with the value on following lines, `--- Label ---` blocks, a label line
//! followed by its value lines, bold labels, table pairs and JSON dumps. A separator line
//! (`--`, `---`) or a "User Information" heading after the fields starts the technical
//! footer, whose pairs are flagged `meta`.

use super::items::Item;
use regex::Regex;
use std::sync::LazyLock;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub value: String,
    /// From the technical footer (IP, user agent, page URL...).
    pub meta: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub fields: Vec<Field>,
    /// Lines before the first field (intro sentences).
    pub intro: Vec<String>,
}

static DASHED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^-{2,}\s*(\S.*?)\s*-{2,}$").expect("static regex"));
static SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[-_=*~]\s?){2,}$").expect("static regex"));
static META_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(user information|technical (details|information)|meta ?data|submission details|informations techniques|technische (details|informationen))$").expect("static regex")
});
static NOISE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(on .*wrote|view(?-u:\b)|see all|see the|manage(?-u:\b)|edit(?-u:\b)|reply to(?-u:\b)|reply for(?-u:\b)|respond(?-u:\b)|check (activity|your|it|out)(?-u:\b)|click(?-u:\b)|download(?-u:\b)|open(?-u:\b)|unsubscribe|you are receiving|you're receiving|your form(?-u:\b)|someone(?-u:\b)|here'?s|here are|thanks(?-u:\b)|thank you|new (response|submission|form|entry|lead|message|quote|request)|a new(?-u:\b)|submitted on(?-u:\b)|eingereicht|soumis le|enviado el|you have(?-u:\b)|you've(?-u:\b)|you got(?-u:\b)|sent (by|from|via)(?-u:\b)|this (e-?mail|message) was|report it|does this submission)").expect("static regex")
});
static FOOTER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(this (e-?mail|message|form) (was|is)|sent (from|via|by)(?-u:\b)|you are receiving|you're receiving|powered by|made with|view (all|this|the|submission|entry)|see all|manage (submissions|notification)|diese e-mail wurde|cet e-mail a été|este (mensaje|correo)|questa e-mail|respond (quickly|to this)|reply to \w+:)").expect("static regex")
});

pub fn is_separator(t: &str) -> bool {
    let t = t.trim();
    // a separator starts and ends with one of its marks: other lines skip the regex
    let mark = |b: Option<&u8>| matches!(b, Some(b'-' | b'_' | b'=' | b'*' | b'~'));
    mark(t.as_bytes().first()) && mark(t.as_bytes().last()) && SEPARATOR.is_match(t)
}

/// "User information", "Technical details" and the like, in any case: the first letter
/// and the last are tested before the regex (non-ASCII ones go to it, as `ſ` folds to `s`).
fn meta_heading(t: &str) -> bool {
    let b = t.as_bytes();
    let first = b.first().map(u8::to_ascii_lowercase);
    let last = b.last().map(u8::to_ascii_lowercase);
    matches!(first, Some(b'u' | b't' | b'm' | b's' | b'i' | 0x80..))
        && matches!(last, Some(b'n' | b's' | b'a' | 0x80..))
        && META_HEADING.is_match(t)
}

fn dashed_label(t: &str) -> Option<&str> {
    if !(t.starts_with("--") && t.ends_with("--")) {
        return None;
    }
    let c = DASHED.captures(t)?;
    let l = c.get(1)?.as_str();
    (!l.chars().all(|c| c == '-')).then_some(l)
}

/// Split `Label: value` at the first colon that is not inside a time (`9:30`) or URL.
/// Byte scan: a colon's neighbours are ASCII digits exactly when their bytes are.
pub fn colon_split(t: &str) -> Option<(&str, &str)> {
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // ':' or the fullwidth '：' (EF BC 9A)
        let len = match b[i] {
            b':' => 1,
            0xEF if b.get(i + 1) == Some(&0xBC) && b.get(i + 2) == Some(&0x9A) => 3,
            _ => {
                i += 1;
                continue;
            }
        };
        let prev_digit = i > 0 && b[i - 1].is_ascii_digit();
        let next_digit = b.get(i + len).is_some_and(u8::is_ascii_digit);
        if prev_digit && next_digit {
            i += len;
            continue;
        }
        let rest = &t[i + len..];
        if rest.starts_with("//") {
            return None;
        }
        return Some((t[..i].trim(), rest.trim()));
    }
    None
}

pub fn label_like(l: &str) -> bool {
    let n = l.chars().count();
    if n == 0 || n > 90 || l.split_whitespace().count() > 14 {
        return false;
    }
    let first = l.chars().next().unwrap_or(' ');
    if !(first.is_alphabetic() || "¿¡(*#".contains(first)) {
        return false;
    }
    if l.contains('@') || l.contains('<') || l.contains("http") || l.ends_with(',') {
        return false;
    }
    !NOISE_LABEL.is_match(l)
}

/// A list bullet before a `Label: value` line (`- `, `• `, `* `), as Markdown and chat
/// webhooks print fields.
fn strip_bullet(t: &str) -> &str {
    for b in ["- ", "• ", "* ", "· ", "▪ ", "– ", "► ", "◦ "] {
        if let Some(rest) = t.strip_prefix(b) {
            return rest.trim_start();
        }
    }
    t
}

fn colon_label(t: &str) -> Option<(&str, &str)> {
    let (label, value) = colon_split(strip_bullet(t))?;
    // "Contact this customer soon. Lead #: 1882": the label is what follows the sentence
    let label = match label.rfind(". ") {
        Some(at)
            if label.len() > at + 2
                && label[at + 2..].split_whitespace().count() <= 3
                && !value.starts_with("http") =>
        {
            label[at + 2..].trim()
        }
        _ => label,
    };
    label_like(label).then_some((label, value))
}

fn is_footer(t: &str) -> bool {
    FOOTER_LINE.is_match(t)
}

pub fn parse(items: &[Item], plain: &str) -> Parsed {
    if let Some(fields) = json_dump(plain) {
        return Parsed {
            fields,
            intro: Vec::new(),
        };
    }
    let mut out = Parsed::default();
    let mut meta = false;
    let n = items.len();
    // each line's reading as `Label: value` and as `--- Label ---`, worked out once: the
    // loops below look ahead over the same lines again and again
    let colons: Vec<Option<(&str, &str)>> = items
        .iter()
        .map(|it| it.line().and_then(colon_label))
        .collect();
    let dashed: Vec<Option<&str>> = items
        .iter()
        .map(|it| it.line().and_then(dashed_label))
        .collect();
    let mut i = 0;
    let line_at = |k: usize| items.get(k).and_then(Item::line);
    let bold_at = |k: usize| matches!(items.get(k), Some(Item::Line { bold: true, .. }));
    // a bold line that heads its own value lines (a bold value stands alone)
    let bold_label_at =
        |k: usize| bold_at(k) && matches!(items.get(k + 1), Some(Item::Line { bold: false, .. }));
    while i < n {
        let (text, bold) = match &items[i] {
            Item::Blank => {
                i += 1;
                continue;
            }
            Item::Pair(l, v) => {
                let l = l.trim().trim_end_matches([':', '：']).trim();
                if label_like(l) {
                    push(&mut out, l, v, meta);
                }
                i += 1;
                continue;
            }
            Item::Line { text, bold } => (text.as_str(), *bold),
        };
        if is_separator(text) {
            if line_at(i + 1).is_some() && line_at(i + 2).is_some_and(is_separator) {
                i += 3;
                continue;
            }
            if !out.fields.is_empty() {
                meta = true;
            }
            i += 1;
            continue;
        }
        if meta_heading(text) && !out.fields.is_empty() {
            meta = true;
            i += 1;
            continue;
        }
        if let Some((prefix, pairs)) = inline_pairs(text) {
            if out.fields.is_empty() && !prefix.is_empty() {
                out.intro.push(prefix.to_owned());
            }
            for (label, value) in pairs {
                push(&mut out, label, value, meta);
            }
            i += 1;
            continue;
        }
        if let Some(label) = dashed[i] {
            let mut j = i + 1;
            let mut lines = Vec::new();
            while j < n {
                match &items[j] {
                    Item::Blank => {}
                    Item::Pair(..) => break,
                    Item::Line { text: t, .. } => {
                        if dashed[j].is_some() || is_separator(t) {
                            break;
                        }
                        lines.push(t.as_str());
                    }
                }
                j += 1;
            }
            push(&mut out, label, &lines.join("\n"), meta);
            i = j;
            continue;
        }
        if let Some((label, value)) = colons[i] {
            let mut j = i + 1;
            let mut lines: Vec<&str> = Vec::new();
            if !value.is_empty() {
                lines.push(value);
                // a one-line value like a name or a date is followed by the next field,
                // not by more of itself, even when that field is a question
                let short = value.chars().count() <= 80 && !value.ends_with(['.', '!', '?']);
                while let Some(t) = line_at(j) {
                    if bold_at(j)
                        || is_separator(t)
                        || dashed[j].is_some()
                        || colons[j].is_some()
                        || meta_heading(t)
                        || (short && lines.len() == 1 && question_answer(t).is_some())
                    {
                        break;
                    }
                    lines.push(t);
                    j += 1;
                }
            } else {
                let mut blanks = 0;
                while j < n {
                    match &items[j] {
                        Item::Blank => {
                            blanks += 1;
                            if blanks >= 2 && !lines.is_empty() {
                                break;
                            }
                        }
                        Item::Pair(..) => break,
                        Item::Line { text: t, bold: b } => {
                            if is_separator(t)
                                || dashed[j].is_some()
                                || meta_heading(t)
                                || (*b && !lines.is_empty())
                            {
                                break;
                            }
                            if colons[j].is_some() && (lines.is_empty() || blanks > 0) {
                                break;
                            }
                            if blanks > 0 && !lines.is_empty() {
                                if is_footer(t) {
                                    break;
                                }
                                lines.push("");
                            }
                            blanks = 0;
                            lines.push(t);
                        }
                    }
                    j += 1;
                }
            }
            push(&mut out, label, &lines.join("\n"), meta);
            i = j;
            continue;
        }
        if let Some((label, value)) = bracket_label(text) {
            // 【お名前】 or ■ご住所: the value on the same line or on the lines below
            let mut j = i + 1;
            let mut lines: Vec<&str> = Vec::new();
            if !value.is_empty() {
                lines.push(value);
            }
            while let Some(t) = line_at(j) {
                if bracket_label(t).is_some() || is_separator(t) || colons[j].is_some() {
                    break;
                }
                lines.push(t);
                j += 1;
            }
            push(&mut out, label, &lines.join("\n"), meta);
            i = j;
            continue;
        }
        if let Some(row) = table_row(text) {
            if let Some((label, value)) = row {
                push(&mut out, label, value, meta);
            }
            i += 1;
            continue;
        }
        if let Some((question, answer)) = question_answer(text) {
            push(&mut out, question, answer, meta);
            i += 1;
            continue;
        }
        let starts_paragraph = i == 0 || matches!(items.get(i - 1), Some(Item::Blank));
        let next_is_value =
            line_at(i + 1).is_some_and(|t| colons[i + 1].is_none() && !is_footer(t));
        // a long line is a label only as a question; else it is a sentence of the intro
        let label_ok = label_like(text)
            && (text.split_whitespace().count() <= 8 || text.ends_with('?'))
            && !text.ends_with('.')
            && !text.ends_with('!')
            && !is_footer(text)
            && !text.ends_with(':');
        if bold && label_ok {
            // a bold label: its value is the next non-bold lines (after blank lines, if any)
            let mut j = i + 1;
            while matches!(items.get(j), Some(Item::Blank)) {
                j += 1;
            }
            let field_line = |k: usize| colons.get(k).is_some_and(Option::is_some);
            if field_line(j) && field_line(j + 1) {
                // a section heading ("Customer Information") over `Label: value` lines
                i += 1;
                continue;
            }
            let mut lines = Vec::new();
            while let Some(t) = line_at(j) {
                if bold_at(j) || is_separator(t) {
                    break;
                }
                lines.push(t);
                j += 1;
            }
            if !lines.is_empty() {
                push(&mut out, text, &lines.join("\n"), meta);
                i = j;
                continue;
            }
        } else if starts_paragraph && next_is_value && label_ok && !bold_label_at(i + 1) {
            let mut j = i + 1;
            let mut lines = Vec::new();
            while let Some(t) = line_at(j) {
                if colons[j].is_some() || is_separator(t) || bold_label_at(j) {
                    break;
                }
                lines.push(t);
                j += 1;
            }
            push(&mut out, text, &lines.join("\n"), meta);
            i = j;
            continue;
        }
        if out.fields.is_empty() {
            out.intro.push(text.to_owned());
        }
        i += 1;
    }
    out
}

/// `【お名前】佐藤 美咲`, `■ご住所` (Japanese forms and mail magazines mark labels so).
fn bracket_label(t: &str) -> Option<(&str, &str)> {
    if let Some(rest) = t.strip_prefix('【') {
        let (label, value) = rest.split_once('】')?;
        return Some((label.trim(), value.trim()));
    }
    for mark in ['■', '◆', '●', '▼'] {
        if let Some(rest) = t.strip_prefix(mark) {
            let rest = rest.trim();
            return match colon_split(rest) {
                Some((l, v)) if label_like(l) => Some((l, v)),
                None if label_like(rest) => Some((rest, "")),
                _ => None,
            };
        }
    }
    None
}

/// A Markdown or text table row, `| Name | Ann |`: `Some(None)` for a rule or a row that
/// is not a pair (the header, a wider table), `Some(Some(pair))` for a label/value row.
fn table_row(t: &str) -> Option<Option<(&str, &str)>> {
    let inner = t.strip_prefix('|')?.strip_suffix('|')?;
    let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
    if cells
        .iter()
        .all(|c| c.chars().all(|ch| "-:= ".contains(ch)))
    {
        return Some(None);
    }
    match cells.as_slice() {
        [label, value] if label_like(label) => Some(Some((label, value))),
        _ => Some(None),
    }
}

/// A label inside a paragraph: its lead-in (sentence end, `|`, or the start), a
/// capitalised label, the colon. The space after the colon and the label's length (at most
/// 31 characters) are checked by [`inline_labels`]: `{0,30}?` of a Unicode letter class
/// compiles to 2.5 MB of automaton, kept for the daemon's life.
static INLINE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[.;]\s+|\s+\|\s+)(\p{Lu}[\p{L}'’/ -]*?):").expect("static regex")
});

/// The matches of `(?:^|[.;]\s+|\s+\|\s+)(\p{Lu}[\p{L}'’/ -]{0,30}?):\s`, as (start,
/// end, match) with the end after the space. The label holds no colon, so its colon is the
/// first after it; where that colon is not followed by a space or the label is too long,
/// the bounded pattern failed at this start, and no later start can lie before the colon.
fn inline_labels(t: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let m = INLINE_LABEL.find_at(t, at)?;
        let space = t[m.end()..].chars().next().filter(|c| c.is_whitespace());
        let label_chars = m
            .as_str()
            .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ';' | '|'))
            .chars()
            .count()
            - 1;
        match space {
            Some(s) if label_chars <= 31 => {
                at = m.end() + s.len_utf8();
                return Some((m.start(), at, &t[m.start()..at]));
            }
            _ => at = m.end(),
        }
    })
}

/// `Project type: Kitchen Remodel. Location: Seattle. Budget: $50k.`: several fields run
/// together in one paragraph (marketplaces do this). Three labels at least, each a few
/// capitalised words after a sentence end. The sentences before the first label come back
/// first (an intro such as "Sam is interested in working with you.").
fn inline_pairs(t: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    // three `: ` at least, before any regex
    t.matches(": ").nth(2)?;
    // the label is the match without its lead-in (sentence end, `|`, spaces; the label
    // itself starts with a capital) and without the `:` and space after it: no capture
    // groups needed, which spares the regex's slower capturing search
    let starts: Vec<(usize, usize, &str)> = inline_labels(t)
        .filter_map(|(start, end, m)| {
            let label =
                m.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ';' | '|'));
            let mut rest = label.chars();
            rest.next_back().filter(|c| c.is_whitespace())?;
            let label = rest.as_str().strip_suffix(':')?;
            Some((start, end, label))
        })
        .filter(|(_, _, l)| l.split_whitespace().count() <= 4 && label_like(l))
        .collect();
    if starts.len() < 3 {
        return None;
    }
    let prefix = t[..starts[0].0].trim();
    let mut pairs = Vec::new();
    for (k, (_, value_start, label)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map(|n| n.0).unwrap_or(t.len());
        let value = t[*value_start..end]
            .trim()
            .trim_end_matches(['.', ';'])
            .trim();
        pairs.push((*label, value));
    }
    Some((prefix, pairs))
}

/// `Which date? Saturday 12 December`: a question and its short answer on one line, as
/// some providers print questions that end in `?` instead of a colon. The answer must not
/// read like a sentence of its own, so prose with a question in it stays prose.
fn question_answer(t: &str) -> Option<(&str, &str)> {
    let at = t.find("? ")?;
    let (question, answer) = (&t[..=at], t[at + 1..].trim());
    let words = |s: &str| s.split_whitespace().count();
    let sentence_end = answer.ends_with(['.', '!', '?', ':', '…']);
    (label_like(question)
        && (2..=14).contains(&words(question))
        && !answer.is_empty()
        && !answer.contains('?')
        && answer.chars().count() <= 80
        && words(answer) <= 8
        && !sentence_end)
        .then_some((question, answer))
}

/// No form has more fields than this; the rest of a huge body is not read as fields.
const MAX_FIELDS: usize = 500;

/// `**Label:** value` and `**Label**: value` (Markdown): the emphasis is not the label's.
fn unemphasise<'a>(label: &'a str, value: &'a str) -> (&'a str, &'a str) {
    let marks = ['*', '_'];
    if !label.starts_with(marks) {
        return (label, value);
    }
    let label = label
        .trim_matches(marks)
        .trim()
        .trim_end_matches([':', '：'])
        .trim();
    (label, value.trim_start_matches(marks).trim())
}

/// A value whose every line is quoted with `>` (a message quoted inside a notification):
/// the quote marks are layout, not what the person typed.
fn unquote_value(value: &str) -> std::borrow::Cow<'_, str> {
    let quoted = |l: &str| l.trim_start().starts_with('>');
    if !value.lines().filter(|l| !l.trim().is_empty()).all(quoted) {
        return value.into();
    }
    value
        .lines()
        .map(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix('>').unwrap_or(t);
            t.strip_prefix(' ').unwrap_or(t)
        })
        .collect::<Vec<_>>()
        .join("\n")
        .into()
}

fn push(out: &mut Parsed, label: &str, value: &str, meta: bool) {
    let label = label.trim().trim_end_matches([':', '：']).trim();
    let (label, value) = unemphasise(strip_bullet(label), value.trim());
    let value = unquote_value(value);
    let value = value.trim();
    if label.is_empty() || value.is_empty() || out.fields.len() >= MAX_FIELDS {
        return;
    }
    if out
        .fields
        .iter()
        .any(|f| f.label == label && f.value == value)
    {
        return;
    }
    out.fields.push(Field {
        label: label.to_owned(),
        value: value.to_owned(),
        meta,
    });
}

/// A submission dumped as one JSON object in the body.
fn json_dump(plain: &str) -> Option<Vec<Field>> {
    let start = plain.find('{')?;
    let end = plain.rfind('}')?;
    if end <= start {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(plain.get(start..=end)?).ok()?;
    let obj = v.as_object()?;
    let mut fields = Vec::new();
    for (k, v) in obj {
        let value = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => continue,
        };
        if !value.trim().is_empty() {
            fields.push(Field {
                label: k.clone(),
                value: value.trim().to_owned(),
                meta: false,
            });
        }
    }
    (fields.len() >= 2).then_some(fields)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_inline_label_is_at_most_31_characters_with_a_space_after_its_colon() {
        let labels = |t: &str| -> Vec<String> {
            super::inline_labels(t)
                .map(|(_, _, m)| m.to_owned())
                .collect()
        };
        let long = format!("A{}", "b".repeat(31));
        assert_eq!(labels(&format!("{}: x. Name: y", &long[..31])).len(), 2);
        assert_eq!(labels(&format!("{long}: x. Name: y")), [". Name: "]);
        // A colon without a space is no label; the `|` lead-in right after it still is.
        assert_eq!(labels("Time:10 | Name: y"), [" | Name: "]);
    }

    use super::super::items::from_text;
    use super::*;

    fn pairs(t: &str) -> Vec<(String, String)> {
        parse(&from_text(t), t)
            .fields
            .into_iter()
            .filter(|f| !f.meta)
            .map(|f| (f.label, f.value))
            .collect()
    }

    #[test]
    fn colon_lines_and_multiline_message() {
        let p = pairs(
            "Intro line\n\nName: Ann\nPick-up: 9:30 PM\nMessage:\nline 1\nline 2\n\nIP: 1.2.3.4",
        );
        assert_eq!(p[0], ("Name".into(), "Ann".into()));
        assert_eq!(p[1], ("Pick-up".into(), "9:30 PM".into()));
        assert_eq!(p[2], ("Message".into(), "line 1\nline 2".into()));
    }

    #[test]
    fn blocks_and_dashed() {
        let p = pairs("name\nAnn Lee\n\nemail\nann@example.com\n");
        assert_eq!(p.len(), 2);
        let p = pairs("--- Name ---\n\nAnn\n\n--- Msg ---\n\na\nb\n");
        assert_eq!(p[1], ("Msg".into(), "a\nb".into()));
    }

    #[test]
    fn a_question_and_its_answer_on_one_line() {
        let p = pairs("Name: Leah Kim\nWhich date? Saturday 12 December\nHow often do you need us? Every 2 weeks\n");
        assert_eq!(p[1], ("Which date?".into(), "Saturday 12 December".into()));
        assert_eq!(
            p[2],
            ("How often do you need us?".into(), "Every 2 weeks".into())
        );
        // prose with a question in it is not a field
        let p = pairs("Name: Ann\nEmail: ann@example.org\n\nCan you help? We need a new roof before winter.\n");
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn footer_is_meta() {
        let t = "Name: Ann\n\n---\n\nPage URL: https://x.example/\n";
        let f = parse(&from_text(t), t).fields;
        assert!(f[1].meta);
    }
}
