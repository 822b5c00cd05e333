//! Golden test: every `.eml` under tests/corpus, tests/samples and tests/samples-wide goes
//! through `parse::view` → `classify` (no relay, no team) → `ParseReport`, and is compared
//! with the `.json` label beside it. `kind` must match for every message; the compared
//! values (source, form, consent, each field and each extra, whitespace-normalised) must
//! match at 99% or better over the development corpus and our first samples, and at 95% or
//! better over the wide samples (providers and layouts beyond them: the bar the hidden
//! corpora hold the parser to). Each mismatching message gets `<name>.actual` beside it.

use leadgate::domain::classify::{classify, ClassifyContext};
use leadgate::domain::report::ParseReport;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn norm(v: &Value) -> String {
    match v {
        Value::String(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn keys(a: &Value, b: &Value) -> Vec<String> {
    let mut k: Vec<String> = Vec::new();
    for v in [a, b] {
        if let Some(o) = v.as_object() {
            for key in o.keys() {
                if !k.contains(key) {
                    k.push(key.clone());
                }
            }
        }
    }
    k
}

/// (compared values, mismatches as "what: expected ≠ actual").
fn compare(expected: &Value, actual: &Value) -> (usize, Vec<String>) {
    let mut n = 0;
    let mut misses = Vec::new();
    for top in ["source", "form", "consent"] {
        n += 1;
        if norm(&expected[top]) != norm(&actual[top]) {
            misses.push(format!("{top}: {} ≠ {}", expected[top], actual[top]));
        }
    }
    for part in ["fields", "extra"] {
        for k in keys(&expected[part], &actual[part]) {
            n += 1;
            let (e, a) = (&expected[part][&k], &actual[part][&k]);
            if norm(e) != norm(a) {
                misses.push(format!("{part}.{k}: {e} ≠ {a}"));
            }
        }
    }
    (n, misses)
}

fn emls(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn golden_development_corpus_and_own_samples() {
    check(&["corpus", "samples"], 99.0, 70);
}

#[test]
fn golden_wide_samples_of_providers_beyond_our_corpus() {
    check(&["samples-wide"], 95.0, 60);
}

/// Runs the labelled mail of `dirs`: kind right for every message, values right at
/// `min_values` percent or better, at least `min_files` messages.
fn check(dirs: &[&str], min_values: f64, min_files: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let files: Vec<PathBuf> = dirs.iter().flat_map(|d| emls(&root.join(d))).collect();
    let ctx = ClassifyContext::default();
    let (mut kind_ok, mut values, mut value_misses) = (0usize, 0usize, 0usize);
    let mut per_source: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut failed = Vec::new();
    for path in &files {
        let raw = std::fs::read(path).expect("read eml");
        let label_path = path.with_extension("json");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&label_path).expect("every .eml has a .json label"),
        )
        .expect("label is JSON");
        let view = leadgate::parse::view(&raw);
        let c = classify(&view, &ctx);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let actual = ParseReport::new(name, &c).to_json();
        let source = expected["source"]
            .as_str()
            .unwrap_or("(not_lead)")
            .to_owned();
        let entry = per_source.entry(source).or_insert((0, 0, 0));
        entry.0 += 1;
        let mut problems = Vec::new();
        if expected["kind"] == actual["kind"] {
            kind_ok += 1;
        } else {
            entry.1 += 1;
            problems.push(format!(
                "kind: {} ≠ {} ({}: {})",
                expected["kind"], actual["kind"], actual["class"], c.reason
            ));
        }
        if expected["kind"] == "lead" || actual["kind"] == "lead" {
            let (n, misses) = compare(&expected, &actual);
            values += n;
            value_misses += misses.len();
            entry.2 += misses.len();
            problems.extend(misses);
        }
        let actual_path = path.with_extension("actual");
        if problems.is_empty() {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            let mut out = actual.clone();
            out["reason"] = Value::String(c.reason.clone());
            out["problems"] = problems.iter().map(|p| Value::String(p.clone())).collect();
            let text = serde_json::to_string_pretty(&out).unwrap_or_default();
            std::fs::write(&actual_path, text).expect("write .actual");
            failed.push((actual_path, problems));
        }
    }
    println!(
        "\n{:<22} {:>5} {:>11} {:>12}",
        "source", "files", "kind misses", "value misses"
    );
    for (s, (n, k, v)) in &per_source {
        println!("{s:<22} {n:>5} {k:>11} {v:>12}");
    }
    let kind_pct = 100.0 * kind_ok as f64 / files.len().max(1) as f64;
    let value_pct = 100.0 * (values - value_misses) as f64 / values.max(1) as f64;
    println!(
        "\n{} files; kind {kind_ok}/{} = {kind_pct:.1}%; values {}/{values} = {value_pct:.2}%",
        files.len(),
        files.len(),
        values - value_misses
    );
    for (p, problems) in &failed {
        println!("MISMATCH {}\n    {}", p.display(), problems.join("\n    "));
    }
    assert!(
        files.len() >= min_files,
        "only {} messages tested",
        files.len()
    );
    let names: Vec<String> = failed
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(
        kind_ok == files.len() && value_pct >= min_values,
        "golden mismatch (kind {kind_pct:.1}%, values {value_pct:.2}%); see {}",
        names.join(", ")
    );
}
