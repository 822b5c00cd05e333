//! Any bytes through `parse::view` and `classify`: never a panic, always a class with a
//! reason. Run: `cargo +nightly fuzz run classify_parse fuzz/corpus/classify_parse ../tests/corpus`
#![no_main]

use leadgate::domain::classify::{classify, ClassifyContext};
use leadgate::domain::report::ParseReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let view = leadgate::parse::view(data);
    let c = classify(&view, &ClassifyContext::default());
    assert!(!c.reason.is_empty());
    let _ = ParseReport::new("fuzz.eml", &c).to_json();
});
