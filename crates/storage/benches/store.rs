//! Store benchmarks, on SQLite and on PostgreSQL: the treaty status of all states at a date, a point read, a
//! filtered page of 50 activities over 100,000 synthetic ones, and durable single writes.
//!
//! `cargo bench -p storage --bench store` (see BENCHMARKS.md). `BENCH_ACTIVITIES` sets the number of synthetic
//! activities (default 100000); `CYBERCRIME_TEST_DATABASE_URL` the PostgreSQL server (default
//! `postgres://postgres@127.0.0.1:5432/test`; the benchmark works in a schema of its own and drops it).

#![allow(missing_docs, clippy::print_stderr)]

use std::{hint::black_box, sync::Arc, time::Duration};

use core_model::{Dataset, Filter, TreatyNumber};
use criterion::{Criterion, criterion_group, criterion_main};
use storage::{OpenOptions, PageRequest, SqlStore, Store, WriteContext, testing::PgSchema};

fn activities() -> usize {
    std::env::var("BENCH_ACTIVITIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

async fn fill(store: &dyn Store) {
    let mut ds = Dataset::bundled();
    let synthetic = core_model::synthetic::activities(&ds, activities(), 2007);
    ds.activities.extend(synthetic);
    let started = std::time::Instant::now();
    store.import(&WriteContext::by("bench"), &ds).await.expect("import");
    eprintln!("{:?}: imported {} activities in {:.1?}", store.backend(), ds.activities.len(), started.elapsed());
}

async fn open_sqlite(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.path().join("bench.sqlite").display());
    let options = OpenOptions { load_bundled_if_empty: false, ..OpenOptions::default() };
    Arc::new(SqlStore::open(&url, options).await.expect("open SQLite"))
}

async fn open_postgres() -> (Arc<dyn Store>, PgSchema) {
    let schema = PgSchema::create().await.expect("PostgreSQL is needed for this benchmark");
    let options = OpenOptions { load_bundled_if_empty: false, ..OpenOptions::default() };
    let store = Arc::new(SqlStore::open(&schema.url, options).await.expect("open PostgreSQL"));
    (store, schema)
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, store: Arc<dyn Store>) {
    rt.block_on(fill(&*store));
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1)).sample_size(30);

    let as_of = "2007-11-30".parse().expect("date");
    group.bench_function("treaty_status_all_states", |b| {
        b.iter(|| black_box(store.snapshot().dataset().treaty_status(TreatyNumber(185), as_of).expect("status")))
    });
    group.bench_function("get_activity", |b| {
        b.to_async(rt).iter(|| async { black_box(store.get_activity("synthetic-2007-54321").await.expect("get")) })
    });
    let filter =
        Filter::parse("status = \"COMPLETED\" AND start >= \"2007-03-01\" AND region = \"EUROPE\"").expect("filter");
    group.bench_function("list_activities_filtered_page_50", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.list_activities(&filter, &PageRequest::first(50)).await.expect("list")) })
    });
    let mut n = 0u64;
    let base = Dataset::bundled();
    group.bench_function("durable_single_write", |b| {
        b.to_async(rt).iter(|| {
            n += 1;
            let mut a = core_model::synthetic::activities(&base, 1, n).remove(0);
            a.id = format!("bench-write-{name}-{n}");
            let store = store.clone();
            async move { black_box(store.create_activity(&WriteContext::by("bench"), a).await.expect("write")) }
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temporary folder");
    let sqlite = rt.block_on(open_sqlite(&dir));
    bench_backend(c, &rt, "sqlite", sqlite);
    let (pg, _cleanup) = rt.block_on(open_postgres());
    bench_backend(c, &rt, "postgres", pg);
}

criterion_group!(store, benches);
criterion_main!(store);
