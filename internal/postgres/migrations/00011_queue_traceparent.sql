-- The W3C trace context a local queue message carries to its worker (internal/queue.Local), what
-- the application properties traceparent and Diagnostic-Id carry on Service Bus: the request that
-- sent the message, its message and the worker's log lines share one trace id (docs/operations.md).
-- NULL for a message sent without one. Only the version 00 form is ever written (internal/traceparent).

-- +goose Up
ALTER TABLE queue_messages
    ADD COLUMN traceparent text,
    ADD CONSTRAINT queue_messages_traceparent_check
        CHECK (traceparent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');

-- +goose Down
ALTER TABLE queue_messages
    DROP CONSTRAINT queue_messages_traceparent_check,
    DROP COLUMN traceparent;
