-- The store's schema, version 1 (SQLite). Records are kept as JSON documents (`body`) in the dataset's own
-- serde form, with the columns lists filter on projected beside them and references kept as foreign keys.
-- `seq` orders every table in insertion order, so that an export gives the records back in the order they came.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('application', 'coe-cybercrime-store'), ('schema_version', '1');

CREATE TABLE treaties (
    number INTEGER PRIMARY KEY,
    seq    INTEGER NOT NULL UNIQUE,
    body   TEXT NOT NULL
);

CREATE TABLE states (
    code TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL UNIQUE,
    body TEXT NOT NULL
);

CREATE TABLE treaty_actions (
    seq           INTEGER PRIMARY KEY,
    state         TEXT NOT NULL REFERENCES states (code),
    treaty        INTEGER NOT NULL REFERENCES treaties (number),
    kind          TEXT NOT NULL,
    -- a state consents once (ratification or accession) and takes each other step once
    once_key      TEXT NOT NULL,
    date_earliest TEXT,
    date_latest   TEXT,
    body          TEXT NOT NULL,
    UNIQUE (state, treaty, once_key)
);

CREATE TABLE records (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    etag INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, seq)
);

CREATE TABLE activities (
    id             TEXT PRIMARY KEY,
    seq            INTEGER NOT NULL UNIQUE,
    etag           INTEGER NOT NULL,
    status         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    tentative      INTEGER NOT NULL,
    start_earliest TEXT,
    start_latest   TEXT,
    end_earliest   TEXT,
    end_latest     TEXT,
    region         TEXT,
    plan_kind      TEXT NOT NULL DEFAULT 'plan' CHECK (plan_kind = 'plan'),
    plan           TEXT,
    body           TEXT NOT NULL,
    FOREIGN KEY (plan_kind, plan) REFERENCES records (kind, id)
);
CREATE INDEX activities_status ON activities (status, seq);
CREATE INDEX activities_start ON activities (start_earliest);

CREATE TABLE activity_countries (
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    country     TEXT NOT NULL REFERENCES states (code),
    PRIMARY KEY (activity_id, country)
);
CREATE INDEX activity_countries_country ON activity_countries (country, activity_id);

CREATE TABLE activity_outputs (
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    output      INTEGER NOT NULL CHECK (output BETWEEN 1 AND 3),
    PRIMARY KEY (activity_id, output)
);

CREATE TABLE activity_partners (
    activity_id  TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    org_kind     TEXT NOT NULL DEFAULT 'organisation' CHECK (org_kind = 'organisation'),
    organisation TEXT NOT NULL,
    role         TEXT NOT NULL,
    PRIMARY KEY (activity_id, organisation, role),
    FOREIGN KEY (org_kind, organisation) REFERENCES records (kind, id)
);
CREATE INDEX activity_partners_organisation ON activity_partners (organisation, activity_id);

CREATE TABLE activity_funding (
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    source_kind TEXT NOT NULL DEFAULT 'funding_source' CHECK (source_kind = 'funding_source'),
    funding     TEXT NOT NULL,
    PRIMARY KEY (activity_id, funding),
    FOREIGN KEY (source_kind, funding) REFERENCES records (kind, id)
);

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    principal  TEXT NOT NULL,
    request_id TEXT,
    operation  TEXT NOT NULL,
    resource   TEXT NOT NULL,
    before     TEXT,
    after      TEXT
);

CREATE TABLE requests (
    request_id TEXT PRIMARY KEY,
    operation  TEXT NOT NULL,
    resource   TEXT NOT NULL,
    response   TEXT NOT NULL,
    at         TEXT NOT NULL
);
