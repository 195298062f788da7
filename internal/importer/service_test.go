package importer_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/ratelimit"
	"github.com/videofn/videofn/internal/redisstore"
	"github.com/videofn/videofn/internal/testenv"
)

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://videos.example.com/watch?v=1", false, true},
		{"http://93.184.216.34/a.mp4", false, true},
		{"  https://example.com/a.mp4  ", false, true},
		{"ftp://example.com/a.mp4", false, false},
		{"file:///etc/passwd", false, false},
		{"javascript:alert(1)", false, false},
		{"-https://example.com", false, false},
		{"--exec=id", false, false},
		{"https://user:pw@example.com/a.mp4", false, false},
		{"https:///nohost", false, false},
		{"https://example.com/" + strings.Repeat("a", importer.MaxURLLength), false, false},
		{"https://example.com/a b", false, false},
		{"http://127.0.0.1:8080/a.mp4", false, false},
		{"http://127.0.0.1:8080/a.mp4", true, true},
		{"http://[::1]/a.mp4", false, false},
		{"http://10.0.0.5/a.mp4", false, false},
		{"http://169.254.169.254/latest/meta-data", false, false},
		{"http://169.254.169.254/latest/meta-data", true, false},
		{"http://[::ffff:127.0.0.1]/a.mp4", false, false},
		{"http://example.com:0/a.mp4", false, false},
		// IPv4 in forms netip does not parse but resolvers and browsers do:
		// refused at the edge (the proxy would refuse them anyway).
		{"http://2130706433/a.mp4", false, false},
		{"http://2130706433/a.mp4", true, false},
		{"http://0x7f.1/a.mp4", false, false},
		{"http://0X7F000001/a.mp4", false, false},
		{"http://127.1/a.mp4", false, false},
		{"http://0177.0.0.1/a.mp4", false, false},
		{"http://127.0.0.1./a.mp4", false, false},
		{"http://1.2.3.4.5/a.mp4", false, false},
		{"http://0x/a.mp4", false, false},
		{"https://0x7f.example.com/a.mp4", false, true},
		{"https://cdn2.example.com/a.mp4", false, true},
		{"https://example.com./a.mp4", false, true},
		{"", false, false},
	}
	for _, tt := range tests {
		_, err := importer.ValidateURL(tt.url, tt.allowPrivate, nil)
		var inv *importer.InvalidURLError
		if tt.ok && err != nil {
			t.Errorf("%q refused: %v", tt.url, err)
		}
		if !tt.ok && !errors.As(err, &inv) {
			t.Errorf("%q accepted (err %v)", tt.url, err)
		}
	}
}

type failingSender struct{}

func (failingSender) Send(context.Context, string, queue.Message) error {
	return errors.New("service bus unreachable")
}

type serviceEnv struct {
	*env
	svc      *importer.Service
	local    *queue.Local
	db       *postgres.DB
	progress importer.ProgressStore
	clock    atomic.Pointer[time.Time] // the service's clock when set; else time.Now
}

func newServiceEnv(t *testing.T, sender queue.Sender, redisURL string) *serviceEnv {
	t.Helper()
	e := newEnv(t, nil, 1<<20)
	db := e.pg
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	local := queue.NewLocal(db.Pool(), logger)
	if sender == nil {
		sender = local
	}
	url, prefix := testenv.Redis(t)
	if redisURL != "" {
		url = redisURL
	}
	rdb, err := redisstore.Open(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	s := &serviceEnv{env: e, local: local, db: db, progress: importer.ProgressStore{Client: rdb}}
	now := func() time.Time {
		if t := s.clock.Load(); t != nil {
			return *t
		}
		return time.Now()
	}
	s.svc = importer.NewService(importer.ServiceOptions{Queue: "imports", PerUserLimit: ratelimit.PerHour(5), Now: now},
		postgres.ImportService{DB: db}, importer.ContainerBlobs{Client: e.store.Container(), Name: e.store.ContainerName()}, sender, s.progress, ratelimit.New(rdb.Client, rdb.Prefix, logger), logger)
	return s
}

// db2 is the test's plain connection.
func (s *serviceEnv) db2() *pgx.Conn { return s.env.db }

func (s *serviceEnv) pending(t *testing.T) int64 {
	t.Helper()
	st, err := s.local.Stats(context.Background(), "imports")
	if err != nil {
		t.Fatal(err)
	}
	return st.Pending
}

func TestEnqueueLimitsAndCancel(t *testing.T) {
	s := newServiceEnv(t, nil, "")
	ctx := context.Background()
	var ids []uuid.UUID
	for range 3 {
		row, err := s.svc.Enqueue(ctx, s.user, "https://videos.example.com/v.mp4")
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != "queued" {
			t.Errorf("status %q", row.Status)
		}
		ids = append(ids, row.ID)
	}
	if n := s.pending(t); n != 3 {
		t.Errorf("%d messages queued, want 3", n)
	}
	if _, err := s.svc.Enqueue(ctx, s.user, "https://videos.example.com/v.mp4"); !errors.Is(err, importer.ErrTooManyImports) {
		t.Fatalf("4th concurrent import: %v", err)
	}
	// Cancelling frees a slot; cancelling twice is fine; a finished import cannot be cancelled.
	if err := s.svc.Cancel(ctx, s.user, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.svc.Cancel(ctx, s.user, ids[0]); err != nil {
		t.Errorf("second cancel: %v", err)
	}
	if _, err := s.svc.Enqueue(ctx, s.user, "https://videos.example.com/w.mp4"); err != nil {
		t.Fatalf("after a cancel: %v", err)
	}
	s.db2().Exec(ctx, `UPDATE videos SET status = 'ready' WHERE id = $1`, ids[1])
	if err := s.svc.Cancel(ctx, s.user, ids[1]); !errors.Is(err, importer.ErrFinished) {
		t.Errorf("cancel of a finished import: %v", err)
	}
	if err := s.svc.Cancel(ctx, uuid.New(), ids[2]); !errors.Is(err, importer.ErrNotFound) {
		t.Errorf("another user's import: %v", err)
	}
	// Per-user rate limit: 5 per hour here, all used (the refused 4th
	// attempt counts too).
	s.db2().Exec(ctx, `UPDATE videos SET status = 'ready' WHERE user_id = $1`, s.user)
	var rl *ratelimit.LimitError
	if _, err := s.svc.Enqueue(ctx, s.user, "https://videos.example.com/y.mp4"); !errors.As(err, &rl) {
		t.Errorf("6th import within the hour: %v", err)
	}
}

func TestEnqueueNeverStrandsAVideo(t *testing.T) {
	s := newServiceEnv(t, failingSender{}, "")
	ctx := context.Background()
	row, err := s.svc.Enqueue(ctx, s.user, "https://videos.example.com/v.mp4")
	if err != nil {
		t.Fatalf("a failed send must not fail the request once the video is recorded: %v", err)
	}
	// The sweeper, with a working sender, sends it again once it is stale.
	healed := importer.NewService(importer.ServiceOptions{Queue: "imports"}, postgres.ImportService{DB: s.db}, importer.ContainerBlobs{Client: s.store.Container(), Name: s.store.ContainerName()}, s.local, importer.ProgressStore{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := healed.Sweep(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := s.pending(t); n != 0 {
		t.Fatalf("a fresh queued import was sent again: %d", n)
	}
	summary, err := healed.Sweep(ctx, time.Now().Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n := s.pending(t); n != 1 || !strings.HasPrefix(summary, "1 imports sent again") {
		t.Fatalf("after the sweep: %d messages, %q", n, summary)
	}
	// A worker that died mid-download is queued again; one that is too old fails.
	s.db2().Exec(ctx, `UPDATE videos SET status = 'downloading', updated_at = now() - interval '10 minutes' WHERE id = $1`, row.ID)
	if _, err := healed.Sweep(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if v := s.video(row.ID); v.Status != "queued" {
		t.Errorf("stale download: %q", v.Status)
	}
	if n := s.pending(t); n != 2 {
		t.Errorf("%d messages, want 2 (the re-send has a new MessageId)", n)
	}
	s.db2().Exec(ctx, `UPDATE videos SET created_at = now() - interval '4 hours', updated_at = now() - interval '1 hour' WHERE id = $1`, row.ID)
	if _, err := healed.Sweep(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if v := s.video(row.ID); v.Status != "failed" || v.Error == "" {
		t.Errorf("old import: %+v", v)
	}
}

func TestProgressFallsBackToPostgres(t *testing.T) {
	s := newServiceEnv(t, nil, "redis://127.0.0.1:1/0")
	ctx := context.Background()
	row, err := s.svc.Enqueue(ctx, s.user, "https://videos.example.com/v.mp4")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.svc.Progress(ctx, s.user, row.ID)
	if err != nil || p.Status != "queued" || p.VideoID != row.ID {
		t.Fatalf("progress with Redis down: %+v %v", p, err)
	}
	if _, err := s.svc.Progress(ctx, uuid.New(), row.ID); !errors.Is(err, importer.ErrNotFound) {
		t.Errorf("another user's progress: %v", err)
	}
}

// TestProgressFromRedisOnlyWhileRunningAndFresh: the poll of a running
// import is answered from Redis alone (a status changed behind the
// service's back in PostgreSQL is not seen), and PostgreSQL answers as
// soon as the progress is stale, the import was cancelled or deleted, or
// the user is not the owner.
func TestProgressFromRedisOnlyWhileRunningAndFresh(t *testing.T) {
	s := newServiceEnv(t, nil, "")
	ctx := context.Background()
	row, err := s.svc.Enqueue(ctx, s.user, "https://videos.example.com/v.mp4")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	at := func(d time.Duration) { t := t0.Add(d); s.clock.Store(&t) }
	if err := s.progress.Set(ctx, importer.Progress{VideoID: row.ID, Owner: s.user, Status: "downloading", Step: "downloading", BytesUploaded: 42, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// Behind the service's back: only a read of PostgreSQL would see it.
	if _, err := s.db2().Exec(ctx, `UPDATE videos SET status = 'failed', error = 'changed in the database' WHERE id = $1`, row.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		at         time.Duration
		user       uuid.UUID
		markEnded  bool
		wantStatus string
		wantErr    error
	}{
		{"fresh progress of a running import", time.Second, s.user, false, "downloading", nil},
		{"another user", time.Second, uuid.New(), false, "", importer.ErrNotFound},
		{"stale progress", 6 * time.Second, s.user, false, "failed", nil},
		{"cancelled or deleted since", time.Second, s.user, true, "failed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at(tt.at)
			if tt.markEnded {
				s.svc.Ended(ctx, row.ID)
			}
			p, err := s.svc.Progress(ctx, tt.user, row.ID)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if p.Status != tt.wantStatus || p.BytesUploaded != 42 {
				t.Errorf("got %s with %d bytes, want %s with 42", p.Status, p.BytesUploaded, tt.wantStatus)
			}
		})
	}
	// A later write of the worker does not undo the mark.
	at(time.Second)
	if err := s.progress.Set(ctx, importer.Progress{VideoID: row.ID, Owner: s.user, Status: "downloading", UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.svc.Progress(ctx, s.user, row.ID); err != nil || p.Status != "failed" {
		t.Errorf("after the mark and a worker write: %+v %v, want failed from PostgreSQL", p, err)
	}
	// Unreadable progress in Redis is no answer, never an error.
	key := s.progress.Client.Key("import:poll:" + row.ID.String())
	s.progress.Client.HSet(ctx, key, "p", "{not json", "ended", "")
	if p, err := s.svc.Progress(ctx, s.user, row.ID); err != nil || p.Status != "failed" {
		t.Errorf("unreadable progress: %+v %v, want failed from PostgreSQL", p, err)
	}
}
