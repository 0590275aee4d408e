//! The gRPC service of the protobuf contract in `proto/`, its server and the `cybercrime` command (see the gRPC issue).
