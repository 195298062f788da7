package mail

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SendTimeout bounds one Send of the SMTP sender: the connection attempt
// gives up after it, and so does every later step of the SMTP exchange that
// makes no progress for that long.
const SendTimeout = 10 * time.Second

// DefaultSMTPPort is the port NewSMTP uses when SMTPConfig.Port is 0: the
// submission port, with STARTTLS.
const DefaultSMTPPort = 587

// SMTPConfig says where and as whom the SMTP sender delivers. It maps to the
// SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD and SMTP_FROM settings.
type SMTPConfig struct {
	Host     string // host name or IPv4 address, without a port
	Port     int    // 465 = implicit TLS; anything else = STARTTLS; 0 = DefaultSMTPPort
	Username string // empty = no SMTP AUTH
	Password string // used only for SMTP AUTH; never printed (see String)
	From     string // "noreply@example.com" or "App <noreply@example.com>"
}

// String formats the config with the password redacted, so that printing
// or logging it with %v, %+v or %s does not leak the password.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("{Host:%s Port:%d Username:%s Password:%s From:%s}", c.Host, c.Port, c.Username, pw, c.From)
}

// GoString is String for %#v.
func (c SMTPConfig) GoString() string { return "mail.SMTPConfig" + c.String() }

// SMTP is a Sender that delivers through an SMTP server. It opens one
// connection per Send (function instances are short-lived, so nothing is
// pooled) and is safe for concurrent use.
type SMTP struct {
	host     string
	password string // only to scrub it from errors
	from     *netmail.Address
	domain   string // of From, for Message-IDs
	opts     []gomail.Option
}

var _ Sender = (*SMTP)(nil)

// NewSMTP returns a Sender that delivers through the SMTP server in cfg with
// github.com/wneessen/go-mail. It returns an error, and connects to nothing,
// if Host is empty or holds a port, Port is out of range, or From is not a
// valid address (that error wraps ErrInvalidAddress).
//
// Transport security:
//   - Port 465: implicit TLS (the connection is TLS from the first byte).
//   - Any other port: STARTTLS, and a server that does not offer it is
//     refused, unless Host is localhost or a loopback address; then STARTTLS
//     is used if offered and plain SMTP is accepted otherwise, so that local
//     mail sinks work.
//
// Certificates are verified against Host. SMTP AUTH is used only when
// Username is set: PLAIN if the server offers it, else LOGIN, else the
// strongest mechanism go-mail's auto-discovery finds. Credentials are sent
// only over TLS or to a loopback host. No error from NewSMTP or Send
// contains the password.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host := strings.TrimSpace(cfg.Host)
	switch {
	case host == "":
		return nil, errors.New("new smtp sender: host is empty")
	case strings.Contains(host, ":"):
		// go-mail joins host and port with a plain colon, so IPv6 literals
		// would not dial; "host:port" is a common misconfiguration.
		return nil, fmt.Errorf("new smtp sender: host %q must be a name or IPv4 address without a port", host)
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultSMTPPort
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("new smtp sender: port %d out of range", port)
	}
	from, err := parseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("new smtp sender: from %w", err)
	}

	loopback := isLoopback(host)
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(SendTimeout)}
	switch {
	case port == 465:
		opts = append(opts, gomail.WithSSL())
	case loopback:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if cfg.Username != "" {
		// go-mail's auto-discovery never picks PLAIN or LOGIN on an
		// unencrypted connection, and its PLAIN/LOGIN refuse plain-text
		// connections to hosts other than "localhost", "127.0.0.1" and "::1".
		// A non-loopback host always has TLS here (see above), so the NOENC
		// variants are only chosen where the credentials stay on this
		// machine; they let a loopback sink such as 127.0.0.2 work too.
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if loopback && port != 465 {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts,
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
			gomail.WithOpportunisticSMTPAuth(mechs...),
		)
	}

	s := &SMTP{
		host:     host,
		password: cfg.Password,
		from:     from,
		domain:   from.Address[strings.LastIndex(from.Address, "@")+1:],
		opts:     opts,
	}
	// Build one client now so that option errors show at start-up, not at
	// the first Send.
	if _, err := s.client(); err != nil {
		return nil, s.scrub(fmt.Errorf("new smtp sender: %w", err))
	}
	return s, nil
}

// Send delivers m as a multipart/alternative message (text, then HTML; text
// only if m.HTML is empty) over a new connection that it closes before
// returning. It returns an error wrapping ErrInvalidAddress, without
// connecting, if m.To is not a valid address, and gives up after
// SendTimeout without progress or when ctx ends before the connection is
// made. An error for a recipient or message the server refused with a 5xx
// reply wraps ErrRejected (see Permanent). Errors never contain the password.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := parseAddress(m.To)
	if err != nil {
		return fmt.Errorf("send mail: to %w", err)
	}
	msg := gomail.NewMsg()
	msg.SetAddrHeaderFromMailAddress(gomail.HeaderFrom, s.from)
	msg.SetAddrHeaderFromMailAddress(gomail.HeaderTo, to)
	msg.Subject(m.Subject)
	msg.SetDate()
	// go-mail would use os.Hostname (a container name); the From domain is
	// what receiving filters expect.
	msg.SetMessageIDWithValue(rand.Text() + "@" + s.domain)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	// A client per Send: go-mail's Client keeps per-dial auth state, and
	// building one costs nothing next to the connection.
	client, err := s.client()
	if err != nil {
		return s.scrub(fmt.Errorf("send mail: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if refused(err) {
			err = fmt.Errorf("%w: %w", ErrRejected, err)
		}
		return s.scrub(fmt.Errorf("send mail: %w", err))
	}
	return nil
}

// refused reports whether err is the server's permanent (5xx) refusal of
// the recipient or of the message. A 5xx at any other step (MAIL FROM,
// authentication) says the sender is misconfigured, which a later attempt
// may find fixed.
func refused(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) || se.ErrorCode() < 500 || se.ErrorCode() > 599 {
		return false
	}
	switch se.Reason {
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		return true
	}
	return false
}

func (s *SMTP) client() (*gomail.Client, error) {
	return gomail.NewClient(s.host, s.opts...)
}

// scrub guarantees that err's text does not contain the password. go-mail
// does not put credentials in errors, but a server's reply could echo them;
// in that case the chain is dropped, since an unwrapped cause would still
// carry the password.
func (s *SMTP) scrub(err error) error {
	if s.password == "" || !strings.Contains(err.Error(), s.password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), s.password, "[redacted]"))
}

// isLoopback reports whether host names this machine: "localhost" or a
// loopback IP address. Other names are not trusted to resolve locally.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
