-- Schema version 3: a request id belongs to the principal that sent it (the key is (principal, request_id)), and
-- is kept with a fingerprint of the request's input, so that an id sent again with another input is refused
-- instead of being answered with the earlier request's answer. An id recorded before this version keeps the
-- principal of its audit entry, or 'unknown' when none is found; it has no fingerprint (NULL), and a repeat of
-- its operation on its resource by that principal is answered as before.
CREATE TABLE requests_by_principal (
    principal   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    operation   TEXT NOT NULL,
    resource    TEXT NOT NULL,
    fingerprint TEXT,
    response    TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (principal, request_id)
);
INSERT INTO requests_by_principal (principal, request_id, operation, resource, fingerprint, response, at)
SELECT COALESCE(
           (SELECT a.principal FROM audit a
             WHERE a.request_id = r.request_id AND a.operation = r.operation AND a.resource = r.resource
             ORDER BY a.seq LIMIT 1),
           'unknown'),
       r.request_id, r.operation, r.resource, NULL, r.response, r.at
FROM requests r;
DROP TABLE requests;
ALTER TABLE requests_by_principal RENAME TO requests;
-- Request ids older than their time to live are forgotten by age.
CREATE INDEX requests_at ON requests (at);
UPDATE meta SET value = '3' WHERE key = 'schema_version';
