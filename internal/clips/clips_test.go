package clips

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/ratelimit"
)

type allowAll struct{}

func (allowAll) AllowAll(context.Context, ...ratelimit.Rule) (ratelimit.Decision, error) {
	return ratelimit.Decision{Allowed: true}, nil
}

type sent struct{ msgs []queue.Message }

func (s *sent) Send(_ context.Context, _ string, m queue.Message) error {
	s.msgs = append(s.msgs, m)
	return nil
}

// fakeStore keeps clips in a map; only what the tests use is real.
type fakeStore struct {
	Store
	clips    map[uuid.UUID]Clip
	duration float64
}

func (f *fakeStore) CreateClip(_ context.Context, c Clip, _ int, check func(float64) error) (Clip, error) {
	if err := check(f.duration); err != nil {
		return Clip{}, err
	}
	c.UpdatedAt = time.Now()
	f.clips[c.ID] = c
	return c, nil
}

func (f *fakeStore) StaleClips(context.Context, time.Time, time.Time, int) ([]Clip, error) {
	var out []Clip
	for _, c := range f.clips {
		if c.InFlight() {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeStore) Requeue(_ context.Context, c Clip) (Clip, bool, error) {
	c.Status, c.UpdatedAt = StatusQueued, c.UpdatedAt.Add(time.Second)
	f.clips[c.ID] = c
	return c, true, nil
}

func (f *fakeStore) FailStale(_ context.Context, id uuid.UUID, msg string) error {
	c := f.clips[id]
	c.Status, c.Error = StatusFailed, msg
	f.clips[id] = c
	return nil
}

func newTestService(store Store, sender queue.Sender) *Service {
	return NewService(ServiceOptions{Queue: "video-processing", MaxSeconds: 60}, store, nil, nil, sender, nil, allowAll{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestCreateValidates(t *testing.T) {
	store := &fakeStore{clips: map[uuid.UUID]Clip{}, duration: 30}
	s := newTestService(store, &sent{})
	for _, tc := range []struct {
		r     Request
		field string
	}{
		{Request{StartSeconds: 1, EndSeconds: 1, Aspect: AspectOriginal}, "end_seconds"},
		{Request{StartSeconds: 1, EndSeconds: 1.4, Aspect: AspectOriginal}, "end_seconds"},
		{Request{StartSeconds: 0, EndSeconds: 61, Aspect: AspectOriginal}, "end_seconds"},
		{Request{StartSeconds: 20, EndSeconds: 31, Aspect: AspectOriginal}, "end_seconds"},
		{Request{StartSeconds: -1, EndSeconds: 2, Aspect: AspectOriginal}, "start_seconds"},
		{Request{StartSeconds: math.NaN(), EndSeconds: 2, Aspect: AspectOriginal}, "start_seconds"},
		{Request{StartSeconds: 0, EndSeconds: math.Inf(1), Aspect: AspectOriginal}, "end_seconds"},
		{Request{StartSeconds: 0, EndSeconds: 2, Aspect: "16:9"}, "aspect"},
		{Request{StartSeconds: 0, EndSeconds: 2, Aspect: AspectVertical, Title: strings.Repeat("é", 201)}, "title"},
	} {
		_, err := s.Create(t.Context(), uuid.New(), uuid.New(), tc.r)
		var v *ValidationError
		if !errors.As(err, &v) || v.Fields[tc.field] == "" {
			t.Errorf("%+v: %v, want a problem with %s", tc.r, err, tc.field)
		}
	}
}

// TestCreateSendsTheClipMessage: the processing queue's contract.
func TestCreateSendsTheClipMessage(t *testing.T) {
	store := &fakeStore{clips: map[uuid.UUID]Clip{}, duration: 30}
	q := &sent{}
	s := newTestService(store, q)
	user, video := uuid.New(), uuid.New()
	c, err := s.Create(t.Context(), user, video, Request{Title: "  hi ", StartSeconds: 2, EndSeconds: 4, Aspect: AspectVertical})
	if err != nil {
		t.Fatal(err)
	}
	if c.Title != "hi" || c.BlobName != user.String()+"/"+video.String()+"/clips/"+c.ID.String()+".mp4" {
		t.Errorf("clip %+v", c)
	}
	if len(q.msgs) != 1 || !strings.HasPrefix(q.msgs[0].ID, "clip:"+c.ID.String()+":") {
		t.Fatalf("messages %+v", q.msgs)
	}
	var body struct {
		VideoID uuid.UUID `json:"video_id"`
		Task    string    `json:"task"`
		ClipID  uuid.UUID `json:"clip_id"`
	}
	if err := json.Unmarshal(q.msgs[0].Body, &body); err != nil || body.VideoID != video || body.Task != "clip" || body.ClipID != c.ID {
		t.Errorf("body %s: %v", q.msgs[0].Body, err)
	}
}

// TestSweepResendsThenGivesUp: a stranded clip is sent again (a new
// MessageId) until GiveUpAfter, then fails with words.
func TestSweepResendsThenGivesUp(t *testing.T) {
	now := time.Now()
	young := Clip{ID: uuid.New(), VideoID: uuid.New(), Status: StatusProcessing, CreatedAt: now.Add(-10 * time.Minute), UpdatedAt: now.Add(-5 * time.Minute)}
	old := Clip{ID: uuid.New(), VideoID: uuid.New(), Status: StatusQueued, CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-5 * time.Minute)}
	store := &fakeStore{clips: map[uuid.UUID]Clip{young.ID: young, old.ID: old}}
	q := &sent{}
	s := newTestService(store, q)
	summary, err := s.Sweep(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	if summary != "1 clips sent again, 1 failed as stale" {
		t.Errorf("summary %q", summary)
	}
	if len(q.msgs) != 1 || q.msgs[0].ID == messageID(young) || !strings.Contains(string(q.msgs[0].Body), young.ID.String()) {
		t.Errorf("messages %+v", q.msgs)
	}
	if c := store.clips[old.ID]; c.Status != StatusFailed || c.Error == "" {
		t.Errorf("old clip %+v", c)
	}
	if c := store.clips[young.ID]; c.Status != StatusQueued {
		t.Errorf("young clip %+v", c)
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Args("http://s/x", 2, 3.5, true, false), " ")
	for _, want := range []string{"-ss 2.000 -i http://s/x -t 3.500", "-vf crop=", "libx264", "frag_keyframe+empty_moov+default_base_moof", "-f mp4 pipe:1"} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
	if got := strings.Join(Args("http://s/x", 0, 3, false, true), " "); !strings.Contains(got, "-c copy") || strings.Contains(got, "libx264") {
		t.Errorf("copy args %q", got)
	}
}

type fixedProgress struct{ p Progress }

func (f fixedProgress) Get(context.Context, uuid.UUID) (Progress, bool, error) { return f.p, true, nil }

type fakeSigner struct{}

func (fakeSigner) ReadURL(_ context.Context, name, snapshot, contentType string, _ time.Time) (string, error) {
	return "https://storage/" + name + "?ct=" + contentType, nil
}

type oneClip struct {
	Store
	c Clip
}

func (o oneClip) Clip(_ context.Context, userID, id uuid.UUID) (Clip, error) {
	if userID != o.c.UserID || id != o.c.ID {
		return Clip{}, ErrNotFound
	}
	return o.c, nil
}

// TestGetShowsProgressWhileRunningAndAURLWhenReady.
func TestGetShowsProgressWhileRunningAndAURLWhenReady(t *testing.T) {
	pct := 42.0
	c := Clip{ID: uuid.New(), UserID: uuid.New(), Status: StatusProcessing, BlobName: "u/v/clips/c.mp4"}
	s := NewService(ServiceOptions{}, oneClip{c: c}, fakeSigner{}, nil, nil, fixedProgress{Progress{Percent: &pct}}, allowAll{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	v, err := s.Get(t.Context(), c.UserID, c.ID)
	if err != nil || v.Progress == nil || *v.Progress.Percent != 42 || v.Playback != nil {
		t.Fatalf("processing: %+v %v", v, err)
	}
	if _, err := s.Get(t.Context(), uuid.New(), c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another user: %v", err)
	}
	c.Status = StatusReady
	s.store = oneClip{c: c}
	v, err = s.Get(t.Context(), c.UserID, c.ID)
	if err != nil || v.Progress != nil || v.Playback == nil || v.Playback.URL != "https://storage/u/v/clips/c.mp4?ct=video/mp4" {
		t.Fatalf("ready: %+v %v", v, err)
	}
}

type denyAll struct{}

func (denyAll) AllowAll(context.Context, ...ratelimit.Rule) (ratelimit.Decision, error) {
	return ratelimit.Decision{Allowed: false, RetryAfter: time.Minute}, nil
}

// TestCreateIsRateLimited: past the per-user rate, nothing is stored or sent.
func TestCreateIsRateLimited(t *testing.T) {
	store := &fakeStore{clips: map[uuid.UUID]Clip{}, duration: 30}
	q := &sent{}
	s := NewService(ServiceOptions{}, store, nil, nil, q, nil, denyAll{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := s.Create(t.Context(), uuid.New(), uuid.New(), Request{StartSeconds: 0, EndSeconds: 2, Aspect: AspectOriginal})
	var rl *ratelimit.LimitError
	if !errors.As(err, &rl) || len(store.clips) != 0 || len(q.msgs) != 0 {
		t.Errorf("%v; %d clips, %d messages", err, len(store.clips), len(q.msgs))
	}
}
