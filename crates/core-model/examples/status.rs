//! Prints the status of a treaty at a date from the bundled dataset, grouped as the report's status table.
//!
//! `cargo run -p core-model --example status -- 185 2007-11-30`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use core_model::{Dataset, TreatyNumber};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let treaty = args.first().map_or(Ok(185), |t| t.parse::<u32>());
    let as_of =
        args.get(1).map_or(Ok(chrono::NaiveDate::from_ymd_opt(2007, 11, 30).unwrap_or_default()), |d| d.parse());
    let (Ok(treaty), Ok(as_of)) = (treaty, as_of) else {
        eprintln!("usage: status [TREATY_NUMBER] [YYYY-MM-DD]   e.g. status 185 2007-11-30");
        return ExitCode::FAILURE;
    };
    let dataset = Dataset::bundled();
    let status = match dataset.treaty_status(TreatyNumber(treaty), as_of) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("Status of ETS {treaty} as at {as_of} (? = uncertain, with the reason)");
    if let Some(note) = &status.record_note {
        println!("{note}");
    }
    for group in &status.groups {
        println!("\n{} ({}, {} uncertain):", group.status.label(), group.states.len(), group.uncertain());
        for e in &group.states {
            let mark = e.reason.as_ref().map(|r| format!(" ? {r};")).unwrap_or_default();
            let signed = e.signed.map(|d| format!("  signed {d}")).unwrap_or_default();
            let consented = e.consented.map(|d| format!("  consented {d}")).unwrap_or_default();
            let eif = e.entry_into_force.map(|d| format!("  in force {d}")).unwrap_or_default();
            println!("  {}{mark}{signed}{consented}{eif}", e.name);
        }
    }
    for f in dataset.reported_figures.iter().filter(|f| f.treaty == Some(TreatyNumber(treaty))) {
        println!("\nreported: {} = {} as of {} ({})", f.label, f.value, f.as_of, f.source);
    }
    ExitCode::SUCCESS
}
