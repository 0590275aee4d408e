//! The progress report for 10,000 synthetic activities and 200 states: building its content, and writing it
//! as Markdown, HTML and JSON. `cargo bench -p reporting --bench report` (see BENCHMARKS.md).

#![allow(missing_docs)]

use std::hint::black_box;

use core_model::Dataset;
use criterion::{Criterion, criterion_group, criterion_main};
use reporting::{Format, Period, ProgressReport, render_progress};

fn benches(c: &mut Criterion) {
    let mut ds = Dataset::bundled();
    ds.states = core_model::synthetic::states(&ds, 200, 2007);
    let synthetic = core_model::synthetic::activities(&ds, 10_000, 2007);
    ds.activities.extend(synthetic);
    let as_of = "2029-12-31".parse().expect("date");
    let period = Period::new("1990-01-01".parse().expect("date"), as_of).expect("period");
    let report = ProgressReport::build(&ds, as_of, period).expect("report");

    let mut group = c.benchmark_group("progress_report_10000_activities_200_states");
    group.sample_size(20);
    group.bench_function("build", |b| b.iter(|| black_box(ProgressReport::build(&ds, as_of, period).expect("report"))));
    for (name, format) in [("markdown", Format::Markdown), ("html", Format::Html), ("json", Format::Json)] {
        group.bench_function(format!("render_{name}"), |b| {
            b.iter(|| black_box(render_progress(&report, format).expect("render")))
        });
    }
    group.finish();
}

criterion_group!(report, benches);
criterion_main!(report);
