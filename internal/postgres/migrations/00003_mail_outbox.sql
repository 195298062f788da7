-- The mail outbox (issue 8): a request that should mail someone (register, resend verification,
-- forgot password, password changed) records one row here and returns; the mail-sender worker
-- (Service Bus queue MAIL_QUEUE in Azure, the local queue otherwise) sends it with retries, and the
-- import-sweeper sends a wake-up again for rows whose message was lost. So the time a request takes
-- does not depend on whether the address has an account, nor on the SMTP server.
--
-- A row holds no secret: the worker mints the verification or reset token when it sends the mail
-- (stored hashed in auth_tokens, as before) and renders the message then, so the plain token exists
-- only in the worker's memory and in the mail itself. What a row holds (an address, the requester's IP
-- and user agent for the audit log) is deleted by the sweeper once the row is settled and old.
--
-- States: pending (to send; next_attempt_at says when, leased_until marks an attempt in progress),
-- sent, skipped (nothing to send: no such account, already verified, address changed), failed
-- (refused for good by the server, or given up after the last attempt; last_error says why).

-- +goose Up

CREATE TABLE mail_outbox (
    id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
    kind               text        NOT NULL,
    -- The address the mail goes to, normalised. For requests by address (resend, forgot) the account
    -- is looked up by it at send time; user_id is set when the request already knew the account.
    email              text        NOT NULL,
    user_id            uuid,
    request_ip         inet,
    request_user_agent text,
    state              text        NOT NULL DEFAULT 'pending',
    -- Attempts started so far; an attempt claims the row (attempts + 1, leased_until) before it
    -- sends, and settles it only if attempts still matches, so a late worker cannot undo a newer one.
    attempts           integer     NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    leased_until       timestamptz,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    CONSTRAINT mail_outbox_pkey PRIMARY KEY (id),
    CONSTRAINT mail_outbox_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT mail_outbox_kind_check CHECK (kind IN ('verify_email', 'already_registered', 'reset_password', 'password_changed')),
    CONSTRAINT mail_outbox_email_check CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT mail_outbox_user_agent_check CHECK (char_length(request_user_agent) <= 512),
    CONSTRAINT mail_outbox_state_check CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
    CONSTRAINT mail_outbox_attempts_check CHECK (attempts >= 0),
    CONSTRAINT mail_outbox_last_error_check CHECK (char_length(last_error) <= 2000),
    -- A settled row has its finishing time and no attempt in progress; a pending one neither.
    CONSTRAINT mail_outbox_finished_check CHECK (
        (state = 'pending' AND finished_at IS NULL)
        OR (state <> 'pending' AND finished_at IS NOT NULL AND leased_until IS NULL)
    )
);

-- The sweeper: pending rows whose next attempt is overdue (their wake-up message was lost).
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (next_attempt_at) WHERE state = 'pending';
-- The sweeper: settled rows past the retention period.
CREATE INDEX mail_outbox_finished_at_idx ON mail_outbox (finished_at) WHERE finished_at IS NOT NULL;
-- Deleting a user cascades here.
CREATE INDEX mail_outbox_user_id_idx ON mail_outbox (user_id) WHERE user_id IS NOT NULL;

-- +goose Down
DROP TABLE mail_outbox;
