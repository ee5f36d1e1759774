-- +goose Up
-- The queue job that owns a waiting delivery made by an update that was not tried yet
-- (Prefer: respond-async): one job sends every such delivery of a group-committed batch,
-- instead of one job per customer and vendor. NULL: the delivery's own job (one per
-- customer and vendor, as before) sends it, which is also what a delivery the batch's job
-- could not send is handed to, with its retries.
ALTER TABLE pending_deliveries ADD COLUMN batch_job_id BIGINT;
-- A batch's job reads the deliveries it owns by it; the others are left out of the index.
CREATE INDEX pending_deliveries_batch_job ON pending_deliveries (batch_job_id) WHERE batch_job_id IS NOT NULL;

-- +goose Down
DROP INDEX pending_deliveries_batch_job;
ALTER TABLE pending_deliveries DROP COLUMN batch_job_id;
