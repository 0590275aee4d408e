-- Schema version 4: etags unique over a resource's whole life (AIP-154), and when each activity and record was
-- created and last changed (AIP-148).
--
-- A version's etag is now the audit position (`audit.seq`) of the write that made it, shown quoted (`"4711"`):
-- positions are never given twice, so no etag repeats for a resource, even across a delete and a re-create. The
-- `etag` column of every row is moved to that scheme: the position of the last create or update naming the row,
-- else of the latest import (the row came with it), else of the last audit entry at all (0 in a store without
-- one). Every etag given before this version was a bare counter (`1`, `2`), never quoted: none matches again.
--
-- `create_time` is the time of the row's last create, else of the latest import up to its version;
-- `update_time` is the time of the audit entry its etag names. Both stay NULL (unknown) when the audit log has
-- no such entry: no time is invented.
CREATE INDEX audit_resource ON audit (resource, seq);
ALTER TABLE activities ADD COLUMN create_time TEXT;
ALTER TABLE activities ADD COLUMN update_time TEXT;
ALTER TABLE records ADD COLUMN create_time TEXT;
ALTER TABLE records ADD COLUMN update_time TEXT;

UPDATE activities SET etag = COALESCE(
    (SELECT MAX(a.seq) FROM audit a
      WHERE a.resource = 'activities/' || activities.id AND a.operation IN ('create', 'update')),
    (SELECT MAX(a.seq) FROM audit a WHERE a.operation IN ('import', 'load-bundled-dataset')),
    (SELECT MAX(a.seq) FROM audit a),
    0);
UPDATE activities SET
    create_time = COALESCE(
        (SELECT a.at FROM audit a
          WHERE a.resource = 'activities/' || activities.id AND a.operation = 'create' AND a.seq <= activities.etag
          ORDER BY a.seq DESC LIMIT 1),
        (SELECT a.at FROM audit a
          WHERE a.operation IN ('import', 'load-bundled-dataset') AND a.seq <= activities.etag
          ORDER BY a.seq DESC LIMIT 1)),
    update_time = (SELECT a.at FROM audit a WHERE a.seq = activities.etag);

UPDATE records SET etag = COALESCE(
    (SELECT MAX(a.seq) FROM audit a
      WHERE a.resource = records.kind || '/' || records.id AND a.operation IN ('create', 'update')),
    (SELECT MAX(a.seq) FROM audit a WHERE a.operation IN ('import', 'load-bundled-dataset')),
    (SELECT MAX(a.seq) FROM audit a),
    0);
UPDATE records SET
    create_time = COALESCE(
        (SELECT a.at FROM audit a
          WHERE a.resource = records.kind || '/' || records.id AND a.operation = 'create' AND a.seq <= records.etag
          ORDER BY a.seq DESC LIMIT 1),
        (SELECT a.at FROM audit a
          WHERE a.operation IN ('import', 'load-bundled-dataset') AND a.seq <= records.etag
          ORDER BY a.seq DESC LIMIT 1)),
    update_time = (SELECT a.at FROM audit a WHERE a.seq = records.etag);

UPDATE meta SET value = '4' WHERE key = 'schema_version';
