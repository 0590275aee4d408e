//! The contract's generated code, from the `cybercrime-api` crate (with its `server` feature), re-exported here
//! so the server's modules keep their paths; and the echo service of the load benchmark, generated at build time.

pub use cybercrime_api::{FILE_DESCRIPTOR_SET, google};

/// `coe.cybercrime`.
pub mod coe {
    /// `coe.cybercrime`.
    pub mod cybercrime {
        pub use cybercrime_api::coe::cybercrime::v1;

        /// `coe.cybercrime.bench`.
        pub mod bench {
            /// `coe.cybercrime.bench.v1`: the echo service of the load benchmark (not served by the server).
            #[allow(missing_docs, unreachable_pub, missing_debug_implementations, clippy::all, clippy::pedantic)]
            pub mod v1 {
                tonic::include_proto!("coe.cybercrime.bench.v1");
            }
        }
    }
}
