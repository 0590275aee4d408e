//! The subcommands of `cybercrime`, beside `main.rs` (which parses the command line and dispatches): serving,
//! the store and dataset folders, reports, tokens.

pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod store;
pub(crate) mod token;
