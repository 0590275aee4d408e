//! The code generated from `proto/` at build time, and its descriptor set. Generated code is exempt from the
//! workspace's strict lints here, in this one place.

#![allow(missing_docs, unreachable_pub, missing_debug_implementations, clippy::all, clippy::pedantic)]

/// `google.type`.
pub mod google {
    /// `google.type` (`type` is a Rust keyword).
    pub mod r#type {
        tonic::include_proto!("google.r#type");
    }
}

/// `coe.cybercrime`.
pub mod coe {
    /// `coe.cybercrime`.
    pub mod cybercrime {
        /// `coe.cybercrime.v1`: the contract.
        pub mod v1 {
            tonic::include_proto!("coe.cybercrime.v1");
        }
        /// `coe.cybercrime.bench`.
        pub mod bench {
            /// `coe.cybercrime.bench.v1`: the echo service of the load benchmark (not served by the server).
            pub mod v1 {
                tonic::include_proto!("coe.cybercrime.bench.v1");
            }
        }
    }
}

/// The descriptor set of the contract, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cybercrime_descriptor");
