-- +goose Up
-- What each vendor already has from the gateway, per customer and field leaf (address.city,
-- email, ...): the sequence of the newest update delivered to it. An older update queued
-- after a newer one was delivered leaves out the leaves the newer one set, so a late retry
-- never overwrites newer data. No values are kept here.
CREATE TABLE delivered_fields (
    customer_id TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    -- path is the leaf's path, its keys joined with a unit separator (model.PendingField).
    path        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (customer_id, vendor, path)
);

-- +goose Down
DROP TABLE delivered_fields;
