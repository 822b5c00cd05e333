//! Robustness: hostile or broken input never panics, and always yields a class with a
//! reason (DESIGN invariant 6). Deterministic cases plus a seeded mutation sweep over the
//! corpus (truncation, byte flips, NUL bytes, spliced boundaries).

use leadgate::domain::classify::{classify, ClassifyContext};
use leadgate::domain::report::ParseReport;
use std::path::Path;

fn run(raw: &[u8]) {
    let view = leadgate::parse::view(raw);
    let c = classify(&view, &ClassifyContext::default());
    assert!(!c.reason.is_empty(), "class without a reason");
    let _ = ParseReport::new("x.eml", &c).to_json();
}

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    v.iter().map(|p| std::fs::read(p).expect("read")).collect()
}

#[test]
fn empty_and_tiny() {
    for raw in [
        &b""[..],
        b"\n",
        b"\r\n\r\n",
        b"\0",
        b":",
        b"From:",
        b"Subject: x\n\n",
        b"\xff\xfe",
    ] {
        run(raw);
    }
    let v = leadgate::parse::view(b"");
    assert!(!v.problems.is_empty());
    let c = classify(&v, &ClassifyContext::default());
    assert_eq!(c.class.as_str(), "other");
}

#[test]
fn truncated_every_corpus_message() {
    for raw in corpus() {
        let n = raw.len();
        for cut in [1, 7, n / 10, n / 3, n / 2, n * 2 / 3, n.saturating_sub(3)] {
            run(&raw[..cut.min(n)]);
        }
    }
}

#[test]
fn bad_boundaries_and_nesting() {
    run(b"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n");
    run(b"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nName: a\n--y--\n");
    run(b"Content-Type: multipart/alternative\n\nno boundary at all\n");
    let mut deep = String::new();
    for i in 0..400 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\n\nName: Ann\nEmail: ann@example.com\n");
    run(deep.as_bytes());
    let mut rfc822 = String::new();
    for _ in 0..50 {
        rfc822.push_str("Content-Type: message/rfc822\n\n");
    }
    rfc822.push_str("Subject: inner\n\nhello");
    run(rfc822.as_bytes());
    let html = format!(
        "Content-Type: text/html\n\n{}<b>Name:</b> x{}",
        "<table><tr><td><div>".repeat(3000),
        "</div></td></tr></table>".repeat(3000)
    );
    run(html.as_bytes());
    let dl = format!(
        "Content-Type: text/html\n\n{}x{}",
        "<dl><dt>a</dt><dd><span>".repeat(5000),
        "</span></dd></dl>".repeat(5000)
    );
    run(dl.as_bytes());
}

#[test]
fn nul_bytes_charsets_and_encodings() {
    run(b"Subject: a\0b\nFrom: \0@\0\n\nName:\0 x\0\nEmail: a@b.co\0\n");
    run(b"Content-Type: text/plain; charset=x-unknown-42\n\nName: \xe9\xe8\nEmail: a@b.co\n");
    run(b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n!!!not base64***\n");
    run(b"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nName: =E9=\n=ZZ=\n");
    run(b"Subject: =?utf-8?B?////?= =?bogus?Q?=FF?=\nFrom: =?utf-8?q?=C3?= <a@b.c>\n\nx");
    run("Subject: ünïcödé 🎉\n\nNom : 日本語 ✓\nE-mail : a@b.co\n".as_bytes());
}

#[test]
fn header_injection_in_fields() {
    let raw = b"From: site <wp@example.com>\nReply-To: evil@example.net\nSubject: New Entry: Contact\n\nName: Eve\r\nBcc: victim@example.org\nEmail: eve@example.net\r\nSubject: injected\nMessage: hi\r\n\r\nX-Other: y\n";
    run(raw);
}

#[test]
fn ten_megabyte_body() {
    let mut raw =
        b"Subject: big\nContent-Type: text/plain\n\nName: Big\nEmail: big@example.com\nMessage:\n"
            .to_vec();
    let line = b"lorem ipsum dolor sit amet: consectetur adipiscing elit 12:30\n";
    while raw.len() < 10 * 1024 * 1024 {
        raw.extend_from_slice(line);
    }
    run(&raw);
    let mut many = b"Subject: many\nContent-Type: text/plain\n\n".to_vec();
    let mut i = 0u64;
    while many.len() < 10 * 1024 * 1024 {
        many.extend_from_slice(format!("Label {i}: value {i}\n").as_bytes());
        i += 1;
    }
    run(&many);
    let mut html = b"Subject: big\nContent-Type: text/html\n\n".to_vec();
    while html.len() < 10 * 1024 * 1024 {
        html.extend_from_slice(b"<p><b>Label:</b> value &amp; more</p>\n");
    }
    run(&html);
}

/// A small deterministic generator, so the sweep is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn mutation_sweep() {
    let mut rng = Lcg(0x1ead_6a7e);
    let junk: [&[u8]; 6] = [b"\0", b"\r\n--", b"=?", b"<td>", b"\xc3", b"\n\n"];
    for raw in corpus() {
        for _ in 0..40 {
            let mut m = raw.clone();
            for _ in 0..1 + rng.next() % 6 {
                if m.is_empty() {
                    break;
                }
                let at = rng.next() % m.len();
                match rng.next() % 4 {
                    0 => m[at] = (rng.next() % 256) as u8,
                    1 => {
                        let j = junk[rng.next() % junk.len()];
                        m.splice(at..at, j.iter().copied());
                    }
                    2 => {
                        let end = (at + rng.next() % 64).min(m.len());
                        m.drain(at..end);
                    }
                    _ => m.truncate(at),
                }
            }
            run(&m);
        }
    }
}

/// Inputs the fuzzer found (`cargo fuzz run classify_parse`), kept so they stay fixed.
#[test]
fn fuzzer_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed-inputs");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("tests/malformed-inputs") {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        run(&raw);
        n += 1;
    }
    assert!(n > 0, "the findings are there");
}
