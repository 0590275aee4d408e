//! The log's writer: lines are appended to a buffer in memory, and a thread of their own writes the buffer out
//! in batches, so a request's worker thread neither takes stderr's lock nor makes a system call for its access log
//! line.
//!
//! Invariants: no line is dropped (a writer waits while [`MAX_BUFFERED`] bytes are waiting, rather than lose
//! any); lines keep their order; a line reaches the output at most about [`BATCH_WAIT`] after it was written, and
//! every line written before [`LogFlush`] is dropped is out when its drop returns. The writing thread is woken
//! once per batch (when a line finds the buffer empty), not once per line: under load a batch holds hundreds of
//! lines (BENCHMARKS.md, run of 2026-12-04).

use std::{
    io::Write,
    sync::{Arc, Condvar, Mutex, MutexGuard},
    thread::JoinHandle,
    time::Duration,
};

/// How long the writing thread lets a batch gather after its first line.
pub const BATCH_WAIT: Duration = Duration::from_millis(2);
/// The most bytes waiting to be written: a writer waits beyond this (the output is slower than the log).
pub const MAX_BUFFERED: usize = 8 << 20;

#[derive(Debug, Default)]
struct State {
    buffer: Vec<u8>,
    /// The writing thread is writing a batch it took.
    writing: bool,
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// A line was written to an empty buffer, or the log closes.
    wake: Condvar,
    /// The buffer was taken, or a batch written: writers waiting for room, and [`LogFlush::sync`], may go on.
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A writer that panicked left the buffer whole (it only appends): go on with it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Where the log's lines are written ([`tracing_subscriber::fmt::MakeWriter`]); cheap to clone.
#[derive(Debug, Clone)]
pub struct BatchedLog(Arc<Shared>);

/// The writing thread: dropped, it writes every line still waiting, then ends.
#[derive(Debug)]
pub struct LogFlush {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer of batches to `out` (stderr), and the guard that ends it.
pub fn batched<W: Write + Send + 'static>(out: W) -> std::io::Result<(BatchedLog, LogFlush)> {
    let shared = Arc::new(Shared::default());
    let thread = std::thread::Builder::new().name("cybercrime-log".into()).spawn({
        let shared = shared.clone();
        move || write_batches(&shared, out)
    })?;
    Ok((BatchedLog(shared.clone()), LogFlush { shared, thread: Some(thread) }))
}

fn write_batches<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::with_capacity(64 * 1024);
    loop {
        let mut state = shared.lock();
        while state.buffer.is_empty() && !state.closed {
            state = shared.wake.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if state.buffer.is_empty() && state.closed {
            return;
        }
        if !state.closed {
            drop(state);
            std::thread::sleep(BATCH_WAIT);
            state = shared.lock();
        }
        std::mem::swap(&mut state.buffer, &mut batch);
        state.writing = true;
        drop(state);
        shared.drained.notify_all();
        // A log that cannot be written has nowhere to say so: the lines are lost, the server goes on.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        shared.lock().writing = false;
        shared.drained.notify_all();
        batch.clear();
        if batch.capacity() > 1 << 20 {
            batch.shrink_to(64 * 1024);
        }
    }
}

impl LogFlush {
    /// Waits (at most `within`) until every line written so far is out: before the server tells on stdout that
    /// it serves, so that a reader of both finds the log's start-up lines there.
    pub fn sync(&self, within: Duration) {
        let deadline = std::time::Instant::now() + within;
        let mut state = self.shared.lock();
        if !state.buffer.is_empty() {
            self.shared.wake.notify_one();
        }
        while (!state.buffer.is_empty() || state.writing) && !state.closed {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            state = self.shared.drained.wait_timeout(state, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
    }
}

impl Drop for LogFlush {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Write for &BatchedLog {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let shared = &self.0;
        let mut state = shared.lock();
        while state.buffer.len() >= MAX_BUFFERED && !state.closed {
            state = shared.drained.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        let first = state.buffer.is_empty();
        state.buffer.extend_from_slice(line);
        drop(state);
        if first {
            shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedLog {
    type Writer = &'a BatchedLog;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output shared with the test.
    #[derive(Clone, Default)]
    struct Out(Arc<Mutex<Vec<u8>>>);

    impl Write for Out {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_flush_returns() {
        let out = Out::default();
        let (log, flush) = batched(out.clone()).unwrap();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        (&log).write_all(format!("{w} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        drop(flush);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let mut next = [0usize; 4];
        for line in text.lines() {
            let (w, i) = line.split_once(' ').unwrap();
            let w: usize = w.parse().unwrap();
            assert_eq!(i.parse::<usize>().unwrap(), next[w], "writer {w}'s lines in order, none lost");
            next[w] += 1;
        }
        assert_eq!(next, [20_000; 4]);
    }

    #[test]
    fn sync_returns_once_every_line_is_out() {
        let out = Out::default();
        let (log, flush) = batched(out.clone()).unwrap();
        for i in 0..1000 {
            (&log).write_all(format!("{i}\n").as_bytes()).unwrap();
        }
        flush.sync(Duration::from_secs(10));
        assert_eq!(String::from_utf8(out.0.lock().unwrap().clone()).unwrap().lines().count(), 1000);
    }

    #[test]
    fn a_line_is_out_soon_without_a_flush() {
        let out = Out::default();
        let (log, _flush) = batched(out.clone()).unwrap();
        (&log).write_all(b"one line\n").unwrap();
        let started = std::time::Instant::now();
        while out.0.lock().unwrap().is_empty() {
            assert!(started.elapsed() < Duration::from_secs(5), "the line was not written");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(&*out.0.lock().unwrap(), b"one line\n");
    }
}
