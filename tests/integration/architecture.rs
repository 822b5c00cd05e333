//! The layout rules of src/ that the compiler does not hold by itself (lib.rs's module map
//! and the README's "Where things are" describe them): no circle between top-level modules,
//! each outside crate or power used by the one module that owns it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of src/ belongs to (`src/relay/compose.rs` → `relay`).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The top-level modules a file names as `crate::m` or inside `crate::{m, n::x}`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's own items, not those of a nested `{...}`.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphanumeric() || c == '_') => {
                        item_start = false;
                        let name: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if name != "self" {
                            out.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        deps.extend(referenced(&text).into_iter().filter(|m| *m != module));
    }
    graph
}

/// A path of modules from `from` back to itself, if there is one.
fn circle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_owned(), vec![from.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == from {
                let mut circle = path.clone();
                circle.push(from.to_owned());
                return Some(circle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_top_level_module_depends_on_itself_through_others() {
    let graph = module_graph();
    assert!(graph.len() > 10, "the graph reads src/: {graph:?}");
    let circles: Vec<String> = graph
        .keys()
        .filter_map(|m| circle_through(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        circles.is_empty(),
        "circles between modules:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("ops", &["pipeline"][..]),
        ("pipeline", &["relay", "store"][..]),
        ("relay", &["ops"][..]),
        ("store", &[][..]),
    ]
    .into_iter()
    .map(|(m, deps)| (m.to_owned(), deps.iter().map(|d| d.to_string()).collect()))
    .collect();
    assert_eq!(
        circle_through(&graph, "ops")
            .map(|c| c.join(" → "))
            .as_deref(),
        Some("ops → pipeline → relay → ops")
    );
    assert_eq!(circle_through(&graph, "store"), None);
    assert_eq!(
        referenced(
            "use crate::{config::Settings, domain, store::{self, Conn}};\nx = crate::ops::f();"
        ),
        ["config", "domain", "ops", "store"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}

/// Every file of src/ with its production text: what precedes its `#[cfg(test)]` module.
fn production_files() -> Vec<(String, String)> {
    production_files_under(&src())
}

fn production_files_under(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let code = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            let rel = f.strip_prefix(root).unwrap().display().to_string();
            (rel, code)
        })
        .collect()
}

/// The files of src/ outside `owners` (path prefixes) whose production code names `what`.
fn users_outside(what: &str, owners: &[&str]) -> Vec<String> {
    production_files()
        .into_iter()
        .filter(|(path, code)| !owners.iter().any(|o| path.starts_with(o)) && code.contains(what))
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn only_parse_rs_reads_mail_with_mail_parser() {
    assert_eq!(
        users_outside("mail_parser", &["parse.rs"]),
        Vec::<String>::new()
    );
}

#[test]
fn only_the_clock_module_reads_the_wall_clock() {
    for now in ["Timestamp::now()", "Zoned::now()", "SystemTime::now()"] {
        assert_eq!(
            users_outside(now, &["clock.rs"]),
            Vec::<String>::new(),
            "{now}"
        );
    }
}

#[test]
fn the_owner_check_sees_production_code_only() {
    let files = production_files();
    let (_, parse) = files.iter().find(|(p, _)| p == "parse.rs").unwrap();
    assert!(parse.contains("mail_parser"));
    assert!(!users_outside("mail_parser", &[]).is_empty());
}

#[test]
fn only_the_store_speaks_sql() {
    assert_eq!(users_outside("sqlx", &["store/"]), Vec::<String>::new());
}

#[test]
fn the_domain_crate_depends_on_no_io_crate() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/domain/Cargo.toml"),
    )
    .unwrap();
    let deps = &manifest[manifest.find("[dependencies]").expect("a dependency list")..];
    let names: Vec<&str> = deps
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    assert!(names.contains(&"regex"), "the list is read: {names:?}");
    for io in [
        "tokio",
        "sqlx",
        "lettre",
        "async-imap",
        "mail-parser",
        "axum",
        "reqwest",
    ] {
        assert!(!names.contains(&io), "the domain crate depends on {io}");
    }
}
