//! Parse throughput over the corpus: `parse::view` alone (bytes → MessageView, the
//! counterpart of bench/parse_python.py) and the whole `view` + `classify` + extraction.
//! Run: `cargo bench --bench parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leadgate::domain::classify::{classify, ClassifyContext};
use std::hint::black_box;
use std::path::Path;

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let mails = corpus();
    let ctx = ClassifyContext::default();
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Elements(mails.len() as u64));
    g.bench_function("view", |b| {
        b.iter(|| {
            for m in &mails {
                black_box(leadgate::parse::view(black_box(m)));
            }
        })
    });
    g.bench_function("view+classify", |b| {
        b.iter(|| {
            for m in &mails {
                let v = leadgate::parse::view(black_box(m));
                black_box(classify(&v, &ctx));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
