-- +goose Up
-- What each vendor already has from the gateway, per customer: for every field leaf
-- (address.city, email, ...), the sequence of the newest update delivered to it. An older
-- update queued after a newer one was delivered leaves out the leaves the newer one set, so
-- a late retry never overwrites newer data.
CREATE TABLE delivered_fields (
    customer_id TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    -- seqs is a JSON object: field path -> sequence of the update that delivered it.
    seqs        TEXT NOT NULL,
    PRIMARY KEY (customer_id, vendor)
);

-- +goose Down
DROP TABLE delivered_fields;
