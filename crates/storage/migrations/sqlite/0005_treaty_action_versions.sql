-- Schema version 5: a treaty action is a resource (`treaties/{n}/actions/{STATE}-{kind}`) with an etag and its
-- times (AIP-148, AIP-154). `etag` is the audit position (`audit.seq`) of the write that made the version, so it
-- is unique over the action's whole life, across a withdrawal and a new record; `create_time` and `update_time` are
-- that audit log's times. An action recorded before this version takes the last audit entry naming it (its
-- resource was then `countries/{state}/treatyActions/{treaty}/{kind}`), else the store's latest import or first
-- load (the dataset it came with); `create_time` the first such entry's time, `update_time` its etag's entry's.
-- No time is invented: both stay NULL when the audit log has no such entry (and the etag 0).
ALTER TABLE treaty_actions ADD COLUMN etag INTEGER NOT NULL DEFAULT 0;
ALTER TABLE treaty_actions ADD COLUMN create_time TEXT;
ALTER TABLE treaty_actions ADD COLUMN update_time TEXT;
UPDATE treaty_actions SET
    etag = COALESCE(
        (SELECT MAX(a.seq) FROM audit a
          WHERE a.resource = 'countries/' || treaty_actions.state || '/treatyActions/'
                || CAST(treaty_actions.treaty AS TEXT) || '/' || treaty_actions.kind),
        (SELECT MAX(a.seq) FROM audit a WHERE a.resource = 'dataset'),
        0),
    create_time = COALESCE(
        (SELECT MIN(a.at) FROM audit a
          WHERE a.resource = 'countries/' || treaty_actions.state || '/treatyActions/'
                || CAST(treaty_actions.treaty AS TEXT) || '/' || treaty_actions.kind),
        (SELECT MAX(a.at) FROM audit a WHERE a.resource = 'dataset'));
UPDATE treaty_actions SET update_time = (SELECT a.at FROM audit a WHERE a.seq = treaty_actions.etag);
UPDATE meta SET value = '5' WHERE key = 'schema_version';
