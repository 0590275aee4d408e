//! Persistence of the domain model behind one `Store` trait: embedded SQLite by default, PostgreSQL for several replicas (see the storage issue).
