//! The Rust client of the Council of Europe Project on Cybercrime's system of record: the messages and tonic
//! clients generated from the contract (`proto/coe/cybercrime/v1` and the vendored `google.type`), its file
//! descriptor set, resource-name helpers ([`names`]), the gRPC service config ([`service_config`]) and a connect
//! helper applying it ([`connect`]).
//!
//! The generated code is checked in (`src/gen/`), so neither protoc nor protox is needed to build this crate. The
//! server side of the generated code (`*_server` modules) is behind the `server` feature, for the server crate.
//!
//! The status of the Budapest Convention (CETS 185) at 30 November 2007 (the same code as
//! `examples/treaty_status.rs`):
//!
//! ```no_run
//! use cybercrime_api::{
//!     coe::cybercrime::v1::{GetTreatyStatusRequest, StateStatus},
//!     connect::Connector,
//!     google::r#type::Date,
//!     names::ResourceName,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let connection = Connector::new("http://127.0.0.1:50051")?.connect_lazy()?;
//! let status = connection
//!     .treaties()
//!     .get_treaty_status(GetTreatyStatusRequest {
//!         name: ResourceName::treaty(185)?.to_string(),
//!         as_of: Some(Date { year: 2007, month: 11, day: 30 }),
//!         ..Default::default()
//!     })
//!     .await?
//!     .into_inner();
//! for group in &status.groups {
//!     println!("{:?}: {}", group.status(), group.count);
//! }
//! let parties = status.groups.iter().find(|g| g.status() == StateStatus::Party).map_or(0, |g| g.count);
//! println!("{parties} parties");
//! # Ok(()) }
//! ```

// The crates of the generated code's types, so a partner uses the same versions.
pub use prost;
pub use prost_types;
pub use tonic;

pub mod connect;
pub mod names;
pub mod service_config;

/// `google.type`, vendored in the contract.
#[allow(missing_docs, unreachable_pub, missing_debug_implementations, clippy::all, clippy::pedantic)]
pub mod google {
    /// `google.type` (`type` is a Rust keyword).
    pub mod r#type {
        include!("gen/google_type.rs");
    }
}

/// `coe.cybercrime`.
pub mod coe {
    /// `coe.cybercrime`.
    pub mod cybercrime {
        /// `coe.cybercrime.v1`: the contract (generated code, exempt from the workspace's strict lints here).
        #[allow(missing_docs, unreachable_pub, missing_debug_implementations, clippy::all, clippy::pedantic)]
        pub mod v1 {
            include!("gen/coe_cybercrime_v1.rs");
        }
    }
}

/// The encoded `FileDescriptorSet` of the contract (for server reflection, or for dynamic clients).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("gen/descriptor.bin");
