-- 0001: the same schema as SQLite's 0001 and 0002, in PostgreSQL's types.
-- Scope 0 is the curated global base; any other scope is a Discord server (guild) id.
-- Entry ids sort bytewise (COLLATE "C"), as SQLite sorts them, whatever the server's locale.

CREATE TABLE entries (
    scope        BIGINT      NOT NULL,
    id           TEXT        COLLATE "C" NOT NULL,
    version      INTEGER     NOT NULL CHECK (version >= 1),
    data         TEXT        NOT NULL,          -- canonical JSON of the Entry (last content, even when deleted)
    content_hash TEXT        NOT NULL,          -- sha256 of `data`
    deleted      BOOLEAN     NOT NULL DEFAULT FALSE,
    origin       TEXT        NOT NULL CHECK (origin IN ('file', 'discord')),
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   BIGINT,                        -- Discord user id; NULL for the file seed
    PRIMARY KEY (scope, id)
);

CREATE INDEX entries_scope_active ON entries (scope, deleted);

CREATE TABLE entry_versions (
    scope    BIGINT      NOT NULL,
    id       TEXT        COLLATE "C" NOT NULL,
    version  INTEGER     NOT NULL,
    action   TEXT        NOT NULL CHECK (action IN ('seed', 'create', 'edit', 'remove', 'revert', 'import')),
    data     TEXT,                              -- JSON of the entry after the change; NULL when removed
    actor_id BIGINT,
    at       TIMESTAMPTZ NOT NULL,
    note     TEXT,
    PRIMARY KEY (scope, id, version),
    FOREIGN KEY (scope, id) REFERENCES entries (scope, id)
);

CREATE SEQUENCE question_log_id_seq;

CREATE TABLE question_log (
    -- Ids are snowflakes made by each process (see bot/core/questionlog.py); the sequence only
    -- serves single inserts without one, far below any snowflake.
    id            BIGINT PRIMARY KEY DEFAULT nextval('question_log_id_seq'),
    scope         BIGINT           NOT NULL,   -- 0 for direct messages
    channel_id    BIGINT,
    user_id       BIGINT,
    question      TEXT             NOT NULL,
    question_norm TEXT             COLLATE "C" NOT NULL,  -- lower case, whitespace folded
    answered      BOOLEAN          NOT NULL,
    entry_id      TEXT             COLLATE "C",
    confidence    DOUBLE PRECISION NOT NULL,
    at            TIMESTAMPTZ      NOT NULL
);

CREATE INDEX question_log_scope_answered_at ON question_log (scope, answered, at);

CREATE TABLE feedback (
    question_id BIGINT      NOT NULL REFERENCES question_log (id) ON DELETE CASCADE,
    user_id     BIGINT      NOT NULL,
    helpful     BOOLEAN     NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (question_id, user_id)
);

CREATE TABLE guild_config (
    guild_id          BIGINT PRIMARY KEY,
    moderator_role_id BIGINT,
    updated_at        TIMESTAMPTZ,
    updated_by        BIGINT
);

-- A change counter per scope, bumped in the same transaction as every entry change; its row
-- lock also serialises the writers of one scope across processes.
CREATE TABLE scope_versions (
    scope   BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
