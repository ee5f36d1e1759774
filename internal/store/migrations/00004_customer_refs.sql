-- +goose Up
-- Refs are kept per customer, vendor and key, so that a new vendor needs no migration: the
-- store knows no vendor and no key, only names. value is the ref's JSON literal as the
-- caller sent it (a string or an integer), so the contract's shape comes back unchanged.
-- customers has one row per customer the gateway has kept anything for; a merge takes its
-- row lock first, so concurrent merges for one customer queue instead of losing a ref.
CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE customer_refs (
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    vendor      TEXT NOT NULL,
    ref_key     TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (customer_id, vendor, ref_key)
);

INSERT INTO customers (customer_id, created_at, updated_at)
    SELECT customer_id, created_at, updated_at FROM vendor_refs;
-- The three vendors' columns of 00001, as JSON literals: strings quoted with their
-- backslashes and quotes escaped (the ids hold no control characters), the euid a number.
INSERT INTO customer_refs (customer_id, vendor, ref_key, value, updated_at)
    SELECT customer_id, 'happytalk', 'uuid', '"' || replace(replace(happytalk_uuid, '\', '\\'), '"', '\"') || '"', updated_at FROM vendor_refs WHERE happytalk_uuid IS NOT NULL
    UNION ALL
    SELECT customer_id, 'happytalk', 'room_id', '"' || replace(replace(happytalk_room_id, '\', '\\'), '"', '\"') || '"', updated_at FROM vendor_refs WHERE happytalk_room_id IS NOT NULL
    UNION ALL
    SELECT customer_id, 'happytalk', 'users_id', '"' || replace(replace(happytalk_users_id, '\', '\\'), '"', '\"') || '"', updated_at FROM vendor_refs WHERE happytalk_users_id IS NOT NULL
    UNION ALL
    SELECT customer_id, 'ladiflow', 'id', '"' || replace(replace(ladiflow_id, '\', '\\'), '"', '\"') || '"', updated_at FROM vendor_refs WHERE ladiflow_id IS NOT NULL
    UNION ALL
    SELECT customer_id, 'engagelab', 'euid', CAST(engagelab_euid AS TEXT), updated_at FROM vendor_refs WHERE engagelab_euid IS NOT NULL;

DROP TABLE vendor_refs;

-- +goose Down
CREATE TABLE vendor_refs (
    customer_id        TEXT PRIMARY KEY,
    happytalk_uuid     TEXT,
    happytalk_room_id  TEXT,
    happytalk_users_id TEXT,
    ladiflow_id        TEXT,
    engagelab_euid     BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
DROP TABLE customer_refs;
DROP TABLE customers;
