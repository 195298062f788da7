// Package mail sends the project's emails and renders the auth templates.
//
// A Sender delivers one Message. Two implementations exist: SMTP, which
// delivers through an SMTP server with TLS (see NewSMTP), and Log, which only
// writes messages to a logger for development, when SMTP_HOST is unset (see
// NewLog). Render builds the Message for each auth email (verification,
// password reset, ...) from text/template and html/template sources, with the
// HTML body escaped.
//
// Both Senders reject a recipient that is not a valid address with an error
// that wraps ErrInvalidAddress, so a bad address is caught in development too.
package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
)

// Message is one email with a plain-text and an HTML body. To is a single
// address ("jane@example.com" or "Jane <jane@example.com>"). HTML may be
// empty, in which case only the text body is sent.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender sends messages. Implementations are safe for concurrent use.
type Sender interface {
	// Send delivers m, or returns an error saying why it did not. An invalid
	// m.To gives an error wrapping ErrInvalidAddress.
	Send(ctx context.Context, m Message) error
}

// ErrInvalidAddress is wrapped by the errors NewSMTP returns for an invalid
// From address and by the errors Send returns for an invalid recipient.
var ErrInvalidAddress = errors.New("invalid email address")

// ErrRejected is wrapped by the errors Send returns when the mail server
// refused the recipient or the message for good (a 5xx reply to RCPT TO or
// DATA): sending the same message again cannot succeed.
var ErrRejected = errors.New("refused by the mail server")

// Permanent reports whether err, returned by a Sender, means that sending
// the same message again cannot succeed: an invalid recipient address
// (ErrInvalidAddress) or a refusal by the server (ErrRejected). Every other
// error (the server unreachable, a timeout, a 4xx reply) is transient.
func Permanent(err error) bool {
	return errors.Is(err, ErrInvalidAddress) || errors.Is(err, ErrRejected)
}

// parseAddress parses one RFC 5322 address and rejects anything else (a
// list, an empty string, a bare name).
func parseAddress(s string) (*netmail.Address, error) {
	addr, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %w: %w", s, ErrInvalidAddress, err)
	}
	return addr, nil
}
