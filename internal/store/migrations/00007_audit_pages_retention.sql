-- +goose Up
-- A page of GET /audit-history is read in SQL: the filters, ORDER BY occurred_at, id and a
-- keyset after the cursor, LIMIT n+1. Without a filter gateway_events_occurred_at serves it;
-- with customer_id or kind these do, ordered as the page is, so a page reads about n rows
-- of the index whatever the range holds. The customer index gains id in place of
-- 00001's (customer_id, occurred_at).
DROP INDEX gateway_events_customer_id;
CREATE INDEX gateway_events_by_customer ON gateway_events (customer_id, occurred_at, id);
CREATE INDEX gateway_events_by_kind ON gateway_events (kind, occurred_at, id);

-- The retention purge (GATEWAY_EVENT_RETENTION) deletes by age: each table's age column
-- indexed, so a purge reads only what it deletes. delivered_fields' seq is the update's
-- receipt in Unix nanoseconds. A delivered-field record is kept while a delivery of the
-- customer and vendor may still be sent (waiting, or ended with its fields kept for a
-- retry): ended_deliveries by customer and vendor answers that.
CREATE INDEX delivered_fields_by_seq ON delivered_fields (seq);
CREATE INDEX updates_by_received ON updates (received_at);
CREATE INDEX customer_vendors_by_delivery ON customer_vendors (last_delivered_at);
CREATE INDEX ended_deliveries_by_customer ON ended_deliveries (customer_id, vendor);

-- +goose Down
DROP INDEX ended_deliveries_by_customer;
DROP INDEX customer_vendors_by_delivery;
DROP INDEX updates_by_received;
DROP INDEX delivered_fields_by_seq;
DROP INDEX gateway_events_by_kind;
DROP INDEX gateway_events_by_customer;
CREATE INDEX gateway_events_customer_id ON gateway_events (customer_id, occurred_at);
