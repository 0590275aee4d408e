//! The dataset loader (`core_model::Dataset::parse`) on arbitrary input: the first byte picks one of the 14 files
//! (`core_model::FILES` order, byte modulo 14), the rest is that file's text (rejected unless UTF-8: the loader
//! takes `&str`); the other 13 files are the bundled ones.
//!
//! It must return `Ok` or `DatasetErrors`, never panic. It also checks what `dataset.rs` documents:
//! - every error names one of the dataset's files, and there is at least one;
//! - a dataset that parses, written back with `to_files` and parsed again, gives an equal dataset.

#![no_main]

use core_model::{Dataset, FILES};
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some((&selector, rest)) = data.split_first() else { return Corpus::Reject };
    let Ok(text) = std::str::from_utf8(rest) else { return Corpus::Reject };
    let mut files: Vec<(&str, &str)> = Dataset::bundled_files().to_vec();
    let index = usize::from(selector) % files.len();
    files[index].1 = text;

    match Dataset::parse(&files) {
        Ok(dataset) => {
            let written = dataset.to_files();
            let written: Vec<(&str, &str)> = written.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            match Dataset::parse(&written) {
                Ok(again) => {
                    assert!(again == dataset, "{}: writing and parsing again changes the dataset", files[index].0)
                }
                Err(e) => panic!("{}: the dataset written back does not parse: {e}", files[index].0),
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "an error without a problem");
            for e in &errors.0 {
                assert!(FILES.iter().any(|(name, _)| *name == e.file), "an error naming no file of the dataset: {e}");
            }
            assert!(!errors.to_string().is_empty());
        }
    }
    Corpus::Keep
});
