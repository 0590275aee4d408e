//! The status of a treaty at a date, e.g. the Budapest Convention (CETS 185) at 30 November 2007:
//!
//! ```sh
//! cargo run --release -p cybercrime-api --example treaty_status -- http://127.0.0.1:50051 185 2007-11-30
//! ```
//!
//! A bearer token, if the server wants one, comes from `CYBERCRIME_TOKEN`. The end-to-end tests run
//! [`treaty_status`] against the real server (`tests/tests/client_crate.rs`).

#![allow(clippy::print_stdout)]

use cybercrime_api::{
    coe::cybercrime::v1::{GetTreatyStatusRequest, StateStatus, TreatyStatus},
    connect::Connector,
    google::r#type::Date,
    names::ResourceName,
};

/// Connects to `url` and gets the status of treaty `number` at `date` (year, month, day).
pub async fn treaty_status(
    url: &str,
    token: Option<&str>,
    number: u32,
    (year, month, day): (i32, i32, i32),
) -> Result<TreatyStatus, Box<dyn std::error::Error>> {
    let mut connector = Connector::new(url)?;
    if let Some(token) = token {
        connector = connector.bearer_token(token);
    }
    let connection = connector.connect_lazy()?;
    let status = connection
        .treaties()
        .get_treaty_status(GetTreatyStatusRequest {
            name: ResourceName::treaty(number)?.to_string(),
            as_of: Some(Date { year, month, day }),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(status)
}

/// The count of one status group (0 when absent).
pub fn count(status: &TreatyStatus, which: StateStatus) -> i32 {
    status.groups.iter().find(|g| g.status() == which).map_or(0, |g| g.count)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "http://127.0.0.1:50051".to_owned());
    let number: u32 = args.next().as_deref().unwrap_or("185").parse()?;
    let date = args.next().unwrap_or_else(|| "2007-11-30".to_owned());
    let mut parts = date.splitn(3, '-').map(str::parse::<i32>);
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("the date {date:?} is not YYYY-MM-DD").into());
    };
    let token = std::env::var("CYBERCRIME_TOKEN").ok();
    let status = treaty_status(&url, token.as_deref(), number, (y, m, d)).await?;
    println!("{} at {date}", status.name);
    for group in &status.groups {
        println!("  {:?}: {} ({} certain)", group.status(), group.count, group.certain_count);
    }
    println!("parties: {}", count(&status, StateStatus::Party));
    Ok(())
}
