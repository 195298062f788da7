package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/videofn/videofn/internal/mail/mailtest"
)

// Tests of the mail outbox (issue 8, item 5) through the real path: the
// request records the mail, the local queue wakes the mail sender
// (auth.Service.DeliverMail), which sends to a real SMTP sink.

// insertUser creates an unverified account with a throwaway password.
func (h *authHarness) insertUser(email string) uuid.UUID {
	h.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("a password of no interest"), 4)
	if err != nil {
		h.t.Fatal(err)
	}
	var id uuid.UUID
	if err := h.db.QueryRow(context.Background(), `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Owner', $2) RETURNING id`,
		email, string(hash)).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// outboxRow is a mail_outbox row as a test sees it.
type outboxRow struct {
	ID        uuid.UUID
	State     string
	Attempts  int
	LastError string
}

// outboxFor returns the only outbox row for email and kind.
func (h *authHarness) outboxFor(email, kind string) outboxRow {
	h.t.Helper()
	var r outboxRow
	if err := h.db.QueryRow(context.Background(), `
		SELECT id, state, attempts, coalesce(last_error, '') FROM mail_outbox WHERE email = $1 AND kind = $2`,
		email, kind).Scan(&r.ID, &r.State, &r.Attempts, &r.LastError); err != nil {
		h.t.Fatalf("outbox row for %s %s: %v", kind, email, err)
	}
	return r
}

// waitOutbox waits until cond holds for the row of email and kind,
// re-checking after each attempt of the mail sender.
func (h *authHarness) waitOutbox(email, kind string, what string, cond func(outboxRow) bool) outboxRow {
	h.t.Helper()
	var r outboxRow
	h.waitMailSender(func() bool { r = h.outboxFor(email, kind); return cond(r) },
		func() string { return fmt.Sprintf("outbox mail %s to %s: not %s: %+v", kind, email, what, r) })
	return r
}

func TestOutboxDeliversThroughTheQueue(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.60")
	h.insertUser("owner@example.com")

	if r := b.post("/api/auth/password/forgot", map[string]string{"email": "owner@example.com"}); r.StatusCode != 202 {
		t.Fatalf("forgot: %d %s", r.StatusCode, r.body)
	}
	if r := b.post("/api/auth/password/forgot", map[string]string{"email": "stranger@example.com"}); r.StatusCode != 202 {
		t.Fatalf("forgot: %d %s", r.StatusCode, r.body)
	}
	msg := h.mail.WaitFor(t, "owner@example.com", 30*time.Second)
	link := mailtest.Link(t, msg, testFrontend+"/auth/reset-password?token=")
	token := link[strings.Index(link, "token=")+len("token="):]
	if r := b.post("/api/auth/password/reset", map[string]string{"token": token, "password": "a brand new password"}); r.StatusCode != 204 {
		t.Fatalf("reset with the mailed token: %d %s", r.StatusCode, r.body)
	}

	h.waitMailSettled()
	if r := h.outboxFor("owner@example.com", "reset_password"); r.State != "sent" || r.Attempts != 1 {
		t.Errorf("owner's mail: %+v, want sent after 1 attempt", r)
	}
	if r := h.outboxFor("stranger@example.com", "reset_password"); r.State != "skipped" || r.LastError != "no account" {
		t.Errorf("stranger's mail: %+v, want skipped for lack of an account", r)
	}
	// The reset's own notice went out the same way.
	h.waitOutbox("owner@example.com", "password_changed", "sent", func(r outboxRow) bool { return r.State == "sent" })
	// No row holds the token, in any column.
	if n := h.count(`SELECT count(*) FROM mail_outbox m WHERE strpos(m::text, $1) > 0`, token); n != 0 {
		t.Errorf("%d outbox rows contain the token", n)
	}
	if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'password_reset_requested' AND ip = '203.0.113.60'`); n != 1 {
		t.Errorf("%d password_reset_requested events with the requester's IP, want 1", n)
	}
	if got := len(h.mail.Messages()); got != 2 {
		t.Errorf("%d mails in the sink, want 2 (reset link, password changed)", got)
	}
}

func TestOutboxRedeliveryDoesNotSendTwice(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.61")
	h.insertUser("once@example.com")
	b.post("/api/auth/resend-verification", map[string]string{"email": "once@example.com"})
	h.mail.WaitFor(t, "once@example.com", 30*time.Second)
	row := h.waitOutbox("once@example.com", "verify_email", "sent", func(r outboxRow) bool { return r.State == "sent" })

	// The same mail delivered again, through the Functions host's path (as
	// Service Bus redelivers) and straight to the worker, several at once.
	body := fmt.Sprintf(`{"mail_id":%q}`, row.ID)
	envelope := fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{"MessageId":"\"mail:%s\"","DeliveryCount":"2"}}`,
		base64.StdEncoding.EncodeToString([]byte(body)), row.ID)
	resp, err := http.Post(h.srv.URL+"/mail-sender", "application/json", strings.NewReader(envelope))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /mail-sender: %d", resp.StatusCode)
	}
	// A body that is not a mail message can never be processed: 400, and
	// Service Bus dead-letters it.
	bad := fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{}}`, base64.StdEncoding.EncodeToString([]byte(`{"video_id":"`+row.ID.String()+`"}`)))
	resp, err = http.Post(h.srv.URL+"/mail-sender", "application/json", strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("POST /mail-sender with an import message: %d, want 400", resp.StatusCode)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := h.outbox.DeliverMail(context.Background(), row.ID); err != nil {
				t.Errorf("DeliverMail again: %v", err)
			}
		})
	}
	wg.Wait()
	if got := len(h.mail.Messages()); got != 1 {
		t.Errorf("%d mails sent, want 1", got)
	}
	if r := h.outboxFor("once@example.com", "verify_email"); r.Attempts != 1 || r.State != "sent" {
		t.Errorf("after redeliveries: %+v, want sent after 1 attempt", r)
	}

	// Concurrent deliveries of a pending mail: one attempt sends it.
	b.post("/api/auth/password/forgot", map[string]string{"email": "once@example.com"})
	h.mail.WaitFor(t, "once@example.com", 30*time.Second)
	h.waitMailSettled()
	var id uuid.UUID
	if err := h.db.QueryRow(context.Background(), `
		INSERT INTO mail_outbox (kind, email) VALUES ('already_registered', 'once@example.com') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		wg.Go(func() {
			if err := h.outbox.DeliverMail(context.Background(), id); err != nil {
				t.Errorf("DeliverMail: %v", err)
			}
		})
	}
	wg.Wait()
	if got := len(h.mail.Messages()); got != 3 {
		t.Errorf("%d mails sent, want 3 (verify, reset, already registered once)", got)
	}
}

func TestOutboxRetriesUntilTheSMTPServerIsUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close() // nothing listens there until the sink starts below
	h := newAuthHarness(t, harnessOptions{
		smtpAddr: addr, mailRetry: func(int) time.Duration { return 50 * time.Millisecond },
		mailAttempts: 1 << 20, // never gives up while the test waits
	})
	b := h.browser("203.0.113.62")
	h.insertUser("patient@example.com")

	start := time.Now()
	if r := b.post("/api/auth/password/forgot", map[string]string{"email": "patient@example.com"}); r.StatusCode != 202 {
		t.Fatalf("forgot with the SMTP server down: %d %s", r.StatusCode, r.body)
	}
	t.Logf("forgot answered in %v with the SMTP server down", time.Since(start))
	h.waitOutbox("patient@example.com", "reset_password", "tried and failed", func(r outboxRow) bool {
		return r.Attempts >= 2 && r.State == "pending" && r.LastError != ""
	})

	sink := mailtest.NewSink(t, mailtest.WithAddr(addr.String()))
	msg := sink.WaitFor(t, "patient@example.com", 30*time.Second)
	mailtest.Link(t, msg, testFrontend+"/auth/reset-password?token=")
	r := h.waitOutbox("patient@example.com", "reset_password", "sent", func(r outboxRow) bool { return r.State == "sent" })
	t.Logf("sent after %d attempts", r.Attempts)
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("%d mails, want 1", n)
	}
}

func TestOutboxRefusedRecipientEndsFailed(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{mailReject: func(rcpt string) bool { return rcpt == "gone@example.com" }})
	b := h.browser("203.0.113.63")
	h.insertUser("gone@example.com")
	b.post("/api/auth/password/forgot", map[string]string{"email": "gone@example.com"})
	h.mail.WaitRejected(t, "gone@example.com", 30*time.Second)
	r := h.waitOutbox("gone@example.com", "reset_password", "failed", func(r outboxRow) bool { return r.State == "failed" })
	if r.Attempts != 1 || !strings.Contains(r.LastError, "550") {
		t.Errorf("refused mail: %+v, want failed after 1 attempt with the 550 reply", r)
	}
	// Nothing retries it: the sweeper leaves settled mails alone.
	if _, err := h.outbox.svc.SweepMail(context.Background(), time.Now().Add(time.Hour), 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	h.waitMailSettled()
	if got := h.mail.Rejected(); len(got) != 1 {
		t.Errorf("refused %d times, want 1", len(got))
	}
}

func TestOutboxSweeperResendsLostWakeUpsAndPurges(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	uid := h.insertUser("lost@example.com")
	ctx := context.Background()
	// A mail recorded 10 minutes ago whose queue message never arrived, a
	// settled mail past the retention period, and one still inside it.
	var lost uuid.UUID
	if err := h.db.QueryRow(ctx, `
		INSERT INTO mail_outbox (kind, email, user_id, created_at, next_attempt_at)
		VALUES ('already_registered', 'lost@example.com', $1, now() - interval '10 minutes', now() - interval '10 minutes')
		RETURNING id`, uid).Scan(&lost); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Exec(ctx, `
		INSERT INTO mail_outbox (kind, email, state, created_at, finished_at) VALUES
		('reset_password', 'old@example.com', 'sent', now() - interval '9 days', now() - interval '8 days'),
		('reset_password', 'recent@example.com', 'skipped', now() - interval '2 days', now() - interval '2 days')`); err != nil {
		t.Fatal(err)
	}

	summary, err := h.outbox.svc.SweepMail(ctx, time.Now(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(summary)
	h.mail.WaitFor(t, "lost@example.com", 30*time.Second)
	h.waitOutbox("lost@example.com", "already_registered", "sent", func(r outboxRow) bool { return r.State == "sent" })
	if n := h.count(`SELECT count(*) FROM mail_outbox WHERE email = 'old@example.com'`); n != 0 {
		t.Errorf("settled mail past retention kept")
	}
	if n := h.count(`SELECT count(*) FROM mail_outbox WHERE email = 'recent@example.com'`); n != 1 {
		t.Errorf("settled mail inside retention deleted")
	}
}

// TestConcurrentMailDeliveriesLeaveOneValidToken: two forgot (or resend)
// mails of one account delivered at once, as two mail-sender workers do,
// mint two tokens; "a new one supersedes the old" must still hold: exactly
// one token of each purpose stays valid.
func TestConcurrentMailDeliveriesLeaveOneValidToken(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	const email = "twice@example.com"
	userID := h.insertUser(email)
	purposes := map[string]string{"reset_password": "password_reset", "verify_email": "email_verification"}
	for round := range 15 {
		// Rows recorded straight into the outbox, without a queue message,
		// so that only this test's two workers deliver them.
		var ids []uuid.UUID
		for kind := range purposes {
			for range 2 {
				var id uuid.UUID
				if err := h.db.QueryRow(context.Background(), `INSERT INTO mail_outbox (kind, email, user_id) VALUES ($1, $2, $3) RETURNING id`,
					kind, email, userID).Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				<-start
				if err := h.outbox.DeliverMail(context.Background(), id); err != nil {
					t.Errorf("DeliverMail: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		for kind, purpose := range purposes {
			n := h.count(`SELECT count(*) FROM auth_tokens WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL`, userID, purpose)
			if n != 1 {
				t.Fatalf("round %d: %d valid %s tokens after two %s mails delivered at once, want 1", round+1, n, purpose, kind)
			}
		}
	}
}
