-- +goose Up
-- lease_ns is how long after claimed_at an in-flight claim holds, in nanoseconds. The
-- request that made the claim renews it while it runs by moving lease_ns on; claimed_at,
-- which names the claim, stays. A claim is free for another request to take over once
-- claimed_at + lease_ns has passed. NULL is a claim made before this migration, or by a
-- gateway that predates it and never renews: it holds for the old 5 minutes.
ALTER TABLE idempotency_keys ADD COLUMN lease_ns BIGINT;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN lease_ns;
