-- 0002: a change counter per scope, bumped in the same transaction as every entry change,
-- so a running process can tell which servers changed since it last looked.

CREATE TABLE scope_versions (
    scope   INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);

INSERT INTO scope_versions (scope, version) SELECT DISTINCT scope, 1 FROM entries;
