-- +goose Up
-- The W3C traceparents of the requests merged into a waiting delivery (a JSON array,
-- oldest first, as request_ids): the span of its background attempts links to them, so a
-- queued delivery continues the traces of the requests that queued it.
ALTER TABLE pending_deliveries ADD COLUMN trace_parents TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE pending_deliveries DROP COLUMN trace_parents;
