-- +goose Up
-- One row per customer and vendor with a delivery waiting in the durable queue: every
-- queued update for that vendor merged, the newest value of each field winning. The row
-- is written in the same transaction as the queue's job, and removed in the same
-- transaction that completes it.
CREATE TABLE pending_deliveries (
    customer_id TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    -- fields is a JSON array of model.PendingField: path, sequence, value.
    fields      TEXT NOT NULL,
    -- request_ids is a JSON array of the ids of the requests merged into the row.
    request_ids TEXT NOT NULL,
    -- version grows with every merge: a sender removes the row only if nothing was merged
    -- while it was sending.
    version     BIGINT NOT NULL,
    queued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, vendor)
);

-- +goose Down
DROP TABLE pending_deliveries;
