-- The local durable queue (internal/queue.Local): what Service Bus does in Azure, for `make dev` and
-- tests, where no Service Bus namespace exists. One row per message; consumers claim rows with
-- SELECT ... FOR UPDATE SKIP LOCKED, so any number of consumers (in one process or several) share a
-- queue without handing the same message to two of them at once.
--
-- A message is in exactly one of these states:
--   available     completed_at IS NULL AND dead_lettered_at IS NULL AND visible_at <= now()
--   delayed       the same with visible_at > now() and claim_token IS NULL (backoff after a failure)
--   claimed       the same with visible_at > now() and claim_token set: visible_at is the lock's
--                 expiry, extended by the consumer's heartbeat while the handler runs. A consumer
--                 that dies leaves the row claimed; once visible_at passes it is available again and
--                 is redelivered with delivery_count + 1 (Service Bus' peek-lock, lock expiry).
--   completed     completed_at set: kept (without a claim) for the duplicate-detection window, then
--                 deleted by the consumer.
--   dead-lettered dead_lettered_at set, with last_error: never delivered again; kept for inspection.

-- +goose Up

CREATE TABLE queue_messages (
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    queue            text        NOT NULL,
    -- The producer's MessageId (Service Bus' name for it). A second send with the same id is ignored
    -- while the first row exists (queue_messages_queue_message_id_key), which is Service Bus'
    -- duplicate detection: completed rows are kept for its window so a late duplicate is still caught.
    message_id       text        NOT NULL,
    -- bytea rather than jsonb: the body is delivered byte for byte as it was sent, as Service Bus
    -- does, and the queue does not care what it contains.
    body             bytea       NOT NULL,
    enqueued_at      timestamptz NOT NULL DEFAULT now(),
    visible_at       timestamptz NOT NULL DEFAULT now(),
    -- Number of times the message was claimed, counting the current claim: 1 on the first delivery.
    delivery_count   integer     NOT NULL DEFAULT 0,
    -- A fresh random token per claim. Completing, failing and extending a claim all check it, so a
    -- consumer whose lock expired, and whose message another consumer claimed meanwhile, can neither
    -- delete nor release nor extend the other consumer's claim.
    claim_token      uuid,
    -- The error of the most recent failed delivery; always set on a dead-lettered row.
    last_error       text,
    completed_at     timestamptz,
    dead_lettered_at timestamptz,
    CONSTRAINT queue_messages_pkey PRIMARY KEY (id),
    CONSTRAINT queue_messages_queue_message_id_key UNIQUE (queue, message_id),
    -- Service Bus limits: queue names are at most 260 characters, message ids at most 128, and a
    -- Standard-tier message at most 256 KiB. Enforcing them here makes local runs fail where Azure would.
    CONSTRAINT queue_messages_queue_check CHECK (char_length(queue) BETWEEN 1 AND 260),
    CONSTRAINT queue_messages_message_id_check CHECK (char_length(message_id) BETWEEN 1 AND 128),
    CONSTRAINT queue_messages_body_check CHECK (octet_length(body) <= 262144),
    CONSTRAINT queue_messages_delivery_count_check CHECK (delivery_count >= 0),
    -- A settled message (completed or dead-lettered, never both) holds no claim.
    CONSTRAINT queue_messages_settled_check CHECK (
        num_nonnulls(completed_at, dead_lettered_at) = 0
        OR (num_nonnulls(completed_at, dead_lettered_at) = 1 AND claim_token IS NULL)
    ),
    CONSTRAINT queue_messages_dead_letter_error_check CHECK (dead_lettered_at IS NULL OR last_error IS NOT NULL)
);

-- The claim query: WHERE queue = $1 AND <unsettled> AND visible_at <= now() ORDER BY visible_at
-- LIMIT n FOR UPDATE SKIP LOCKED. Partial, so settled rows kept for deduplication or inspection cost
-- the claim nothing.
CREATE INDEX queue_messages_claim_idx ON queue_messages (queue, visible_at)
    WHERE completed_at IS NULL AND dead_lettered_at IS NULL;
-- Pruning completed rows once the duplicate-detection window has passed.
CREATE INDEX queue_messages_completed_at_idx ON queue_messages (completed_at) WHERE completed_at IS NOT NULL;

-- +goose Down
DROP TABLE queue_messages;
