-- 0001: entries with full version history, the question log, feedback, per-server settings.
-- Scope 0 is the curated global base; any other scope is a Discord server (guild) id.
-- Timestamps are ISO-8601 UTC text with microseconds, so they sort as strings.

CREATE TABLE entries (
    scope        INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    data         TEXT    NOT NULL,              -- canonical JSON of the Entry (last content, even when deleted)
    content_hash TEXT    NOT NULL,              -- sha256 of `data`
    deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    origin       TEXT    NOT NULL CHECK (origin IN ('file', 'discord')),
    updated_at   TEXT    NOT NULL,
    updated_by   INTEGER,                       -- Discord user id; NULL for the file seed
    PRIMARY KEY (scope, id)
) WITHOUT ROWID;

CREATE INDEX entries_scope_active ON entries (scope, deleted);

CREATE TABLE entry_versions (
    scope    INTEGER NOT NULL,
    id       TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    action   TEXT    NOT NULL CHECK (action IN ('seed', 'create', 'edit', 'remove', 'revert', 'import')),
    data     TEXT,                              -- JSON of the entry after the change; NULL when removed
    actor_id INTEGER,
    at       TEXT    NOT NULL,
    note     TEXT,
    PRIMARY KEY (scope, id, version),
    FOREIGN KEY (scope, id) REFERENCES entries (scope, id)
) WITHOUT ROWID;

CREATE TABLE question_log (
    id            INTEGER PRIMARY KEY,
    scope         INTEGER NOT NULL,             -- 0 for direct messages
    channel_id    INTEGER,
    user_id       INTEGER,
    question      TEXT    NOT NULL,
    question_norm TEXT    NOT NULL,             -- lower case, whitespace folded: the grouping key
    answered      INTEGER NOT NULL CHECK (answered IN (0, 1)),
    entry_id      TEXT,
    confidence    REAL    NOT NULL,
    at            TEXT    NOT NULL
);

CREATE INDEX question_log_scope_answered_at ON question_log (scope, answered, at);

CREATE TABLE feedback (
    question_id INTEGER NOT NULL REFERENCES question_log (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    helpful     INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    at          TEXT    NOT NULL,
    PRIMARY KEY (question_id, user_id)
) WITHOUT ROWID;

CREATE TABLE guild_config (
    guild_id          INTEGER PRIMARY KEY,
    moderator_role_id INTEGER,
    updated_at        TEXT,
    updated_by        INTEGER
);
