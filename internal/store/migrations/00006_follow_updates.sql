-- +goose Up
-- What GET /updates/{update_id} answers: each recorded update as the PUT answered it
-- (answer, a model.UpdateRecord in JSON, with no dry-run request views), and in
-- update_results how each of its queued deliveries ended since, which overrides the
-- vendor's line of the answer. notify is 1 for an update answered with a vendor queued: a
-- webhook is due once every such vendor has ended.
CREATE TABLE updates (
    update_id   TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    answer      TEXT NOT NULL,
    notify      INTEGER NOT NULL
);
CREATE INDEX updates_by_customer ON updates (customer_id, update_id);

CREATE TABLE update_results (
    update_id TEXT NOT NULL,
    vendor    TEXT NOT NULL,
    -- result is the vendor's model.VendorResult in JSON.
    result    TEXT NOT NULL,
    PRIMARY KEY (update_id, vendor)
);

-- A waiting delivery is named by delivery_id (a UUIDv7 given when its row is made; every
-- merge keeps it) and lists the updates merged into it. A row queued before this migration
-- is named from when it was queued (nanoseconds) and its vendor: unique in practice, and
-- the same on both engines.
ALTER TABLE pending_deliveries ADD COLUMN delivery_id TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_deliveries ADD COLUMN update_ids TEXT NOT NULL DEFAULT '[]';
UPDATE pending_deliveries SET delivery_id = 'legacy-' || CAST(queued_at AS TEXT) || '-' || vendor;
CREATE INDEX pending_deliveries_by_id ON pending_deliveries (delivery_id);

-- Deliveries that ended without success (failed, rejected, cancelled), for an operator to
-- list and send again. fields (a JSON model.PendingFields: personal data) is kept for
-- GATEWAY_DELIVERY_RETENTION after ended_at, then set to NULL; the row stays.
CREATE TABLE ended_deliveries (
    delivery_id  TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    vendor       TEXT NOT NULL,
    update_ids   TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    queued_at    BIGINT NOT NULL,
    queued_until BIGINT NOT NULL,
    ended_at     BIGINT NOT NULL,
    error        TEXT NOT NULL,
    fields       TEXT
);
CREATE INDEX ended_deliveries_by_end ON ended_deliveries (ended_at);

-- Per customer and vendor, the last update the vendor accepted and when.
CREATE TABLE customer_vendors (
    customer_id       TEXT NOT NULL,
    vendor            TEXT NOT NULL,
    last_update_id    TEXT NOT NULL,
    last_delivered_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, vendor)
);

-- +goose Down
DROP TABLE customer_vendors;
DROP TABLE ended_deliveries;
DROP INDEX pending_deliveries_by_id;
ALTER TABLE pending_deliveries DROP COLUMN update_ids;
ALTER TABLE pending_deliveries DROP COLUMN delivery_id;
DROP TABLE update_results;
DROP TABLE updates;
