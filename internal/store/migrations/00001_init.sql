-- The schema is shared by SQLite and PostgreSQL: both accept these types, and they compare
-- and order them alike. Times are BIGINT Unix nanoseconds in UTC, because SQLite has no
-- time type and a text time would neither keep Go's precision nor order correctly.

-- +goose Up
CREATE TABLE vendor_refs (
    customer_id        TEXT PRIMARY KEY,
    -- NULL is a ref never given; refs are only ever replaced, never cleared.
    happytalk_uuid     TEXT,
    happytalk_room_id  TEXT,
    happytalk_users_id TEXT,
    ladiflow_id        TEXT,
    engagelab_euid     BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    idem_key   TEXT PRIMARY KEY,
    -- hex SHA-256 of what the caller hashed (the request body).
    body_hash  TEXT NOT NULL,
    -- status and reply stay NULL while the first request is in flight.
    status     INTEGER,
    -- BYTEA is PostgreSQL's byte string; SQLite takes any type name and keeps a blob as is.
    reply      BYTEA,
    created_at BIGINT NOT NULL,
    -- claimed_at is when the current owner took the key: a claim older than the in-flight
    -- lease was abandoned (its process died) and may be taken over.
    claimed_at BIGINT NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE gateway_events (
    id          TEXT PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    type        TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    customer_id TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    result      TEXT NOT NULL DEFAULT '',
    applied_at  BIGINT,
    -- details is a JSON object (field names changed, vendor statuses), or NULL.
    details     TEXT
);
CREATE INDEX gateway_events_occurred_at ON gateway_events (occurred_at, id);
CREATE INDEX gateway_events_customer_id ON gateway_events (customer_id, occurred_at);

-- +goose Down
DROP TABLE gateway_events;
DROP TABLE idempotency_keys;
DROP TABLE vendor_refs;
