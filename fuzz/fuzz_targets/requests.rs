//! Request decoding and validation of every method of the five services: the first byte picks the method and
//! the caller (see `cybercrime_fuzz` in `fuzz/src/lib.rs`), the rest is decoded with prost as that method's
//! request message; when it decodes, the real handler (`grpc_server::service::Services`) is called on a store on
//! a temporary SQLite file loaded with the bundled 2007 dataset (opened once per process, as is the tokio
//! runtime). Streamed responses (the reports, WatchTreatyActions) are pulled for their first two items.
//!
//! The handler must answer OK or a client error (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
//! FAILED_PRECONDITION, ABORTED, PERMISSION_DENIED, OUT_OF_RANGE, UNAUTHENTICATED, RESOURCE_EXHAUSTED): an INTERNAL,
//! UNKNOWN or UNAVAILABLE fails the run, as does a panic (but for UNAVAILABLE PDF_PRINTER_MISSING: the harness's
//! PDF printer has no browser, so a report asked for as PDF is refused without starting a process). Writes by a reader must be PERMISSION_DENIED and by an
//! anonymous caller UNAUTHENTICATED, whatever the request; anything with a bad token, UNAUTHENTICATED.
//!
//! The store is shared by every input of a run, so writes that succeed (an admin may create, update and delete
//! activities and record treaty actions) change what later inputs see: replay a reproducer alone.

#![no_main]

use cybercrime_fuzz::{Caller, METHODS, call, check, harness};
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some((&selector, bytes)) = data.split_first() else { return Corpus::Reject };
    let index = usize::from(selector) % METHODS.len();
    let caller = Caller::from_selector(selector);
    let h = harness();
    match h.runtime.block_on(call(&h.services, index, bytes, caller)) {
        None => Corpus::Reject,
        Some(result) => {
            check(METHODS[index], caller, &result);
            Corpus::Keep
        }
    }
});
