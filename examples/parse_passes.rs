//! The parse path's cost per message, for callgrind (docs/performance.md, "Parse
//! throughput"): reads every `.eml` of `tests/corpus` (or of the directories given after
//! the count), runs one untimed warm-up pass, then N passes of `parse::view` + `classify`
//! with the default context, the path `leadgate parse` takes.
//!
//! ```text
//! cargo build --profile bench --example parse_passes
//! valgrind --tool=callgrind target/release/examples/parse_passes 10   # and 30
//! # instructions/message = (Ir(30) - Ir(10)) / 20 / messages
//! ```
//!
//! `parse_passes dump DIR...` prints, per file, its classification (extraction included)
//! and the body's rendered items: two builds whose dumps are equal read mail the same way.

use leadgate::domain::classify::{classify, ClassifyContext};
use leadgate::domain::extract::Body;
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn mails(dirs: &[PathBuf]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("a readable mail directory"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).expect("read");
            (p, raw)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let dirs = |rest: &[String]| -> Vec<PathBuf> {
        if rest.is_empty() {
            vec![corpus.clone()]
        } else {
            rest.iter().map(PathBuf::from).collect()
        }
    };
    let ctx = ClassifyContext::default();
    if args.first().map(String::as_str) == Some("dump") {
        for (path, raw) in mails(&dirs(&args[1..])) {
            let view = leadgate::parse::view(&raw);
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            println!(
                "== {name}\n{:?}\n{:?}",
                classify(&view, &ctx),
                Body::of(&view).items
            );
        }
        return;
    }
    let passes: usize = args
        .first()
        .map(|n| n.parse().expect("passes: a number, or `dump`"))
        .unwrap_or(10);
    let mails: Vec<Vec<u8>> = mails(&dirs(args.get(1..).unwrap_or_default()))
        .into_iter()
        .map(|(_, raw)| raw)
        .collect();
    let pass = || {
        for m in &mails {
            let v = leadgate::parse::view(black_box(m));
            black_box(classify(&v, &ctx));
        }
    };
    pass();
    let start = std::time::Instant::now();
    for _ in 0..passes {
        pass();
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{} messages x {passes} passes: {:.0} msg/s",
        mails.len(),
        (mails.len() * passes) as f64 / secs
    );
}
