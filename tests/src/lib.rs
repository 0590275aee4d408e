//! End-to-end tests: they start the real `cybercrime` server on a free port and call it with real gRPC clients (see the gRPC issue).
