package mail

import (
	"context"
	"fmt"
	"log/slog"
)

// Log is a Sender that writes messages to a logger instead of sending them.
type Log struct {
	logger *slog.Logger
}

var _ Sender = (*Log)(nil)

// NewLog returns a Sender that writes each message to logger at info level
// (attributes "to", "subject" and "text", the plain-text body) instead of
// sending it. It is used when SMTP_HOST is unset so that `make dev` works
// without a mail server: the verification and reset links in the text are
// then visible in the logs, to anyone who can read them, so this is for
// development only. A nil logger means slog.Default().
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{logger: logger}
}

// Send logs m and returns nil, or returns an error wrapping
// ErrInvalidAddress (and logs nothing) if m.To is not a valid address, just
// as the SMTP sender would.
func (l *Log) Send(ctx context.Context, m Message) error {
	if _, err := parseAddress(m.To); err != nil {
		return fmt.Errorf("log mail: to %w", err)
	}
	l.logger.LogAttrs(ctx, slog.LevelInfo, "mail not sent (no SMTP_HOST): logged for development",
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text),
	)
	return nil
}
