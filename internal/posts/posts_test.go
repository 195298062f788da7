package posts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/posts"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social/youtubetest"
	"github.com/videofn/videofn/internal/testenv"
	"github.com/videofn/videofn/internal/testenv/pgtest"
)

// goodToken is the only access token the fake upload endpoint accepts.
const goodToken = "ya29.good"

// tokens is the accounts' TokenSource: a fixed answer.
type tokens struct {
	mu    sync.Mutex
	token string
	err   error
}

func (s *tokens) AccessToken(context.Context, uuid.UUID, uuid.UUID) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, s.err
}

// dataKey is the key the env's worker seals upload sessions with.
var dataKey = bytes.Repeat([]byte("d"), secretbox.KeySize)

func mustBox(t *testing.T, current []byte, previous ...[]byte) *secretbox.Box {
	t.Helper()
	box, err := secretbox.FromKeys(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

type env struct {
	db      *postgres.DB
	store   postgres.PostStore
	blobs   *blob.Store
	fake    *youtubetest.Uploads
	tokens  *tokens
	worker  *posts.Worker
	service *posts.Service
	local   *queue.Local
	queue   string
	user    uuid.UUID
	account uuid.UUID
	box     *secretbox.Box
	logs    *testenv.Logs
	logger  *slog.Logger
}

// chunk is the tests' chunk size: four protocol units.
const chunk = 4 * posts.ChunkUnit

func newEnv(t *testing.T) *env {
	t.Helper()
	_, db := pgtest.Migrated(t)
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(t), Container: testenv.ContainerName()})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureContainer(t.Context()); err != nil {
		t.Fatal(err)
	}
	fake := youtubetest.StartUploads(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+goodToken })
	logs := &testenv.Logs{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	e := &env{db: db, store: postgres.PostStore{DB: db}, blobs: store, fake: fake, tokens: &tokens{token: goodToken},
		local: queue.NewLocal(db.Pool(), logger), queue: "publish", box: mustBox(t, dataKey), logs: logs, logger: logger}
	e.worker = e.newWorker(e.box)
	e.service = posts.NewService(e.store, posts.Queue{Sender: e.local, Name: e.queue}, nil, logger)
	e.user = e.newUser(t, "alice@example.com")
	e.account = e.newAccount(t, e.user)
	return e
}

// newWorker returns a worker like the env's that seals and opens upload
// sessions with box.
func (e *env) newWorker(box *secretbox.Box) *posts.Worker {
	return posts.NewWorker(posts.WorkerOptions{}, e.store, e.tokens, posts.BlobRanges{Client: e.blobs.Container()},
		map[string]posts.Publisher{"youtube": &posts.YouTube{UploadURL: e.fake.URL, ChunkSize: chunk}}, box, e.logger)
}

func (e *env) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.db.Pool().Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func (e *env) newUser(t *testing.T, email string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := e.db.Pool().QueryRow(t.Context(), `INSERT INTO users (email) VALUES ($1) RETURNING id`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newAccount inserts a connected YouTube account of user (the tokens come
// from the tokens fake, so the sealed columns hold placeholders).
func (e *env) newAccount(t *testing.T, user uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	placeholder := make([]byte, 32)
	if err := e.db.Pool().QueryRow(t.Context(), `
		INSERT INTO social_accounts (user_id, platform, handle, external_id, access_token_ciphertext, token_key_id)
		VALUES ($1, 'youtube', $2, $2, $3, 'k1') RETURNING id`, user, "chan-"+uuid.NewString()[:8], placeholder).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newVideo stores data as a ready video of user and returns its id and
// the data's SHA-256.
func (e *env) newVideo(t *testing.T, user uuid.UUID, data []byte) (uuid.UUID, string) {
	t.Helper()
	var id uuid.UUID
	if err := e.db.Pool().QueryRow(t.Context(), `
		INSERT INTO videos (user_id, title, source, source_url, status, content_type, size_bytes, width, height)
		VALUES ($1, 'v', 'url', 'https://example.com/v', 'ready', 'video/mp4', $2, 1920, 1080) RETURNING id`,
		user, len(data)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	name := user.String() + "/" + id.String() + "/source.mp4"
	if _, err := e.blobs.Container().NewBlockBlobClient(name).UploadBuffer(t.Context(), data, &blockblob.UploadBufferOptions{}); err != nil {
		t.Fatal(err)
	}
	e.exec(t, `INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
		VALUES ($1, $2, 'source', $3, $4, 'video/mp4', $5)`, user, id, e.blobs.ContainerName(), name, len(data))
	sum := sha256.Sum256(data)
	return id, hex.EncodeToString(sum[:])
}

// newVerticalClip stores data as a ready 9:16 clip of a video of user.
func (e *env) newVerticalClip(t *testing.T, user uuid.UUID, data []byte) uuid.UUID {
	t.Helper()
	video, _ := e.newVideo(t, user, data[:1])
	var id uuid.UUID
	name := user.String() + "/" + video.String() + "/clips/c.mp4"
	if err := e.db.Pool().QueryRow(t.Context(), `
		INSERT INTO clips (video_id, user_id, title, start_seconds, end_seconds, status, aspect, width, height, size_bytes, blob_name)
		VALUES ($1, $2, 'c', 1, 3, 'ready', '9:16', 1080, 1920, $3, $4) RETURNING id`, video, user, len(data), name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.blobs.Container().NewBlockBlobClient(name).UploadBuffer(t.Context(), data, &blockblob.UploadBufferOptions{}); err != nil {
		t.Fatal(err)
	}
	e.exec(t, `INSERT INTO file_storage (user_id, clip_id, kind, container, blob_name, content_type, size_bytes)
		VALUES ($1, $2, 'clip', $3, $4, 'video/mp4', $5)`, user, id, e.blobs.ContainerName(), name, len(data))
	return id
}

// consume runs the local publish queue's consumer until the test ends.
func (e *env) consume(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.local.Consume(ctx, e.queue, func(ctx context.Context, d queue.Delivery) error {
			var m posts.Message
			if err := json.Unmarshal(d.Body, &m); err != nil {
				return err
			}
			return e.worker.Publish(ctx, m.PostID)
		}, queue.ConsumerOptions{Poll: 50 * time.Millisecond, DrainTimeout: time.Second})
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// waitStatus waits (bounded) until the post leaves the publishing states.
func (e *env) waitSettled(t *testing.T, id uuid.UUID) posts.Post {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		p, err := e.service.Get(t.Context(), e.user, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != posts.StatusScheduled && p.Status != posts.StatusPublishing {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("post still %s after 30 s", p.Status)
		}
		<-tick.C
	}
}

// size is not a multiple of the chunk: the last chunk is short.
const size = 5*chunk + 12345

func (e *env) create(t *testing.T, video uuid.UUID, at *time.Time) posts.Post {
	t.Helper()
	p, err := e.service.Create(t.Context(), e.user, posts.Request{VideoID: &video, AccountID: e.account,
		Title: "My trip", Caption: "A caption", Privacy: posts.PrivacyUnlisted, ScheduledAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkPublished(t *testing.T, p posts.Post, got youtubetest.Upload, sum string) {
	t.Helper()
	if got.SHA256 != sum || got.Bytes != size {
		t.Errorf("the fake received %d bytes with sha256 %s, want %d bytes %s", got.Bytes, got.SHA256, size, sum)
	}
	if p.Status != posts.StatusPublished || p.ExternalID != got.VideoID || !strings.HasSuffix(p.ExternalURL, "v="+got.VideoID) || p.PublishedAt == nil {
		t.Errorf("post %+v, want published as %s", p, got.VideoID)
	}
}

func waitUpload(t *testing.T, fake *youtubetest.Uploads) youtubetest.Upload {
	t.Helper()
	select {
	case u := <-fake.Finished():
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("no upload finished within 30 s")
	}
	return youtubetest.Upload{}
}

// TestScheduledPostIsPublishedAtItsTime: the message waits in the local
// queue until scheduled_at (NotBefore), then the fake receives exactly the
// blob's bytes and the post records its video id.
func TestScheduledPostIsPublishedAtItsTime(t *testing.T) {
	e := newEnv(t)
	video, sum := e.newVideo(t, e.user, mediatest.MP4Like(size))
	e.consume(t)
	at := time.Now().Add(2 * time.Second)
	p := e.create(t, video, &at)
	if p.Status != posts.StatusScheduled {
		t.Fatalf("new post %+v", p)
	}
	got := waitUpload(t, e.fake)
	p = e.waitSettled(t, p.ID)
	checkPublished(t, p, got, sum)
	if lag := p.PublishedAt.Sub(p.ScheduledAt); lag < 0 || lag > 5*time.Second {
		t.Errorf("published %v after its time, want within [0, 5s]", lag)
	}
	if got.Title != "My trip" || got.Description != "A caption" || got.Privacy != "unlisted" {
		t.Errorf("metadata %+v", got)
	}
	if n := e.fake.Sessions(); n != 1 {
		t.Errorf("%d upload sessions, want 1", n)
	}
}

// TestInterruptedUploadResumes: after a chunk cut mid-way or a 503 the
// publisher asks the server and continues from the offset it reports.
func TestInterruptedUploadResumes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(*youtubetest.Uploads)
		resent int64 // bytes sent twice
	}{
		// The fake keeps the first 256 KiB of the chunk at 1 chunk: the
		// upload resumes at 1 chunk + 256 KiB, not at a chunk boundary.
		{"dropped chunk", func(f *youtubetest.Uploads) { f.DropChunkAt(chunk + 1) }, 0},
		{"503", func(f *youtubetest.Uploads) { f.FailChunkAt(2*chunk + 1) }, chunk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			video, sum := e.newVideo(t, e.user, mediatest.MP4Like(size))
			tc.setup(e.fake)
			p := e.create(t, video, nil)
			if err := e.worker.Publish(t.Context(), p.ID); err != nil {
				t.Fatal(err)
			}
			got := waitUpload(t, e.fake)
			p, _ = e.service.Get(t.Context(), e.user, p.ID)
			checkPublished(t, p, got, sum)
			if n := e.fake.Sessions(); n != 1 {
				t.Errorf("%d sessions, want 1", n)
			}
			if r := e.fake.Received(); r != size+tc.resent {
				t.Errorf("the fake read %d bytes, want %d", r, size+tc.resent)
			}
		})
	}
}

// TestRedeliveryNeverPublishesTwice: a second delivery of a published
// post, and concurrent deliveries, upload once.
func TestRedeliveryNeverPublishesTwice(t *testing.T) {
	e := newEnv(t)
	video, sum := e.newVideo(t, e.user, mediatest.MP4Like(size))
	p := e.create(t, video, nil)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := e.worker.Publish(context.Background(), p.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := e.worker.Publish(t.Context(), p.ID); err != nil { // a redelivery afterwards
		t.Fatal(err)
	}
	got := waitUpload(t, e.fake)
	p, _ = e.service.Get(t.Context(), e.user, p.ID)
	checkPublished(t, p, got, sum)
	if n, c := e.fake.Sessions(), len(e.fake.Completed()); n != 1 || c != 1 {
		t.Errorf("%d sessions and %d uploads, want 1 and 1", n, c)
	}
}

// TestCrashResumesTheSameSession: an attempt that dies mid-upload leaves
// its session; a delivery while its lease lives does nothing, and the next
// one after the lease resumes the session instead of starting another.
func TestCrashResumesTheSameSession(t *testing.T) {
	e := newEnv(t)
	video, sum := e.newVideo(t, e.user, mediatest.MP4Like(size))
	p := e.create(t, video, nil)
	e.crashAt(t, e.worker, p.ID, 2*chunk)
	// The session is stored sealed under the current key and bound to the post.
	session := e.storedSession(t, p.ID)
	urls := e.fake.SessionURLs()
	if len(urls) != 1 || session.KeyID != e.box.Primary() || bytes.Contains(session.Ciphertext, []byte(urls[0])) {
		t.Fatalf("stored session %+v for %q, want sealed under %s", session, urls, e.box.Primary())
	}
	if got, err := e.box.Open(session.KeyID, session.Ciphertext, posts.SessionAdditionalData(p.ID)); err != nil || string(got) != urls[0] {
		t.Fatalf("the stored session opens to %q, %v; want %q", got, err, urls[0])
	}
	// A crash leaves the lease running: nobody takes the post meanwhile.
	e.exec(t, `UPDATE posts SET lease_until = now() + interval '1 hour' WHERE id = $1`, p.ID)
	if err := e.worker.Publish(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if c := len(e.fake.Completed()); c != 0 {
		t.Fatalf("a delivery under a live lease uploaded")
	}
	e.republish(t, e.worker, p.ID, sum)
	if n := e.fake.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1: the re-run must resume the session", n)
	}
	if r := e.fake.Received(); r >= 2*size {
		t.Errorf("the fake read %d bytes for a %d-byte file: the re-run started over", r, size)
	}
}

// crashAt runs w on post id and makes it die (its context cancelled) once
// the fake has committed at least `at` bytes of the upload.
func (e *env) crashAt(t *testing.T, w *posts.Worker, id uuid.UUID, at int64) {
	t.Helper()
	ctx, crash := context.WithCancel(t.Context())
	defer crash()
	e.fake.AfterPut(func(committed int64) {
		if committed >= at {
			crash()
		}
	})
	defer e.fake.AfterPut(nil)
	err := w.Publish(ctx, id)
	if err == nil {
		t.Fatal("the crashed attempt returned nil")
	}
	// The error is logged where the delivery ends: it must not carry the
	// session URL (the client's error quotes the URL it requested).
	for _, u := range e.fake.SessionURLs() {
		if _, uploadID, _ := strings.Cut(u, "upload_id="); strings.Contains(err.Error(), uploadID) {
			t.Errorf("the attempt's error holds the session URL: %v", err)
		}
	}
}

// storedSession reads the sealed upload session of post id.
func (e *env) storedSession(t *testing.T, id uuid.UUID) posts.SealedSession {
	t.Helper()
	var s posts.SealedSession
	var keyID *string
	if err := e.db.Pool().QueryRow(t.Context(), `SELECT upload_url_key_id, upload_url_ciphertext FROM posts WHERE id = $1`, id).
		Scan(&keyID, &s.Ciphertext); err != nil {
		t.Fatal(err)
	}
	if keyID != nil {
		s.KeyID = *keyID
	}
	return s
}

// expireLease lets the next delivery take post id over.
func (e *env) expireLease(t *testing.T, id uuid.UUID) {
	t.Helper()
	e.exec(t, `UPDATE posts SET lease_until = now() - interval '1 second' WHERE id = $1`, id)
}

// republish lets worker w take post id over once its lease has run out,
// and checks that it publishes the file whose SHA-256 is sum.
func (e *env) republish(t *testing.T, w *posts.Worker, id uuid.UUID, sum string) {
	t.Helper()
	e.expireLease(t, id)
	if err := w.Publish(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	got := waitUpload(t, e.fake)
	p, _ := e.service.Get(t.Context(), e.user, id)
	checkPublished(t, p, got, sum)
}

// TestSessionThatDoesNotOpenStartsANewOne: a stored session that does not
// open (one copied from another post: the additional data binds it to its
// post; a damaged one; one under a key the worker does not hold) counts as
// no session: the attempt starts a new one and publishes, and the warning
// it logs does not hold the session URL.
func TestSessionThatDoesNotOpenStartsANewOne(t *testing.T) {
	for _, tc := range []struct {
		name string
		// spoil makes the session of crashed unusable for post target
		// (crashed itself, or another post) and returns the worker to run.
		spoil func(t *testing.T, e *env, crashed uuid.UUID) (target uuid.UUID, w *posts.Worker)
	}{
		{"another post's session", func(t *testing.T, e *env, crashed uuid.UUID) (uuid.UUID, *posts.Worker) {
			video, _ := e.newVideo(t, e.user, mediatest.MP4Like(size))
			other := e.create(t, video, nil)
			e.exec(t, `UPDATE posts o SET upload_url_key_id = c.upload_url_key_id, upload_url_ciphertext = c.upload_url_ciphertext
				FROM posts c WHERE o.id = $1 AND c.id = $2`, other.ID, crashed)
			return other.ID, e.worker
		}},
		{"damaged", func(t *testing.T, e *env, crashed uuid.UUID) (uuid.UUID, *posts.Worker) {
			e.exec(t, `UPDATE posts SET upload_url_ciphertext = set_byte(upload_url_ciphertext, 20, get_byte(upload_url_ciphertext, 20) # 1)
				WHERE id = $1`, crashed)
			e.expireLease(t, crashed)
			return crashed, e.worker
		}},
		{"key not configured", func(t *testing.T, e *env, crashed uuid.UUID) (uuid.UUID, *posts.Worker) {
			e.expireLease(t, crashed)
			return crashed, e.newWorker(mustBox(t, bytes.Repeat([]byte("x"), secretbox.KeySize)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			video, _ := e.newVideo(t, e.user, mediatest.MP4Like(size))
			p := e.create(t, video, nil)
			e.crashAt(t, e.worker, p.ID, 2*chunk)
			target, w := tc.spoil(t, e, p.ID)
			if err := w.Publish(t.Context(), target); err != nil {
				t.Fatal(err)
			}
			got := waitUpload(t, e.fake)
			if got.Bytes != size {
				t.Errorf("the new session received %d bytes, want %d", got.Bytes, size)
			}
			if q, _ := e.service.Get(t.Context(), e.user, target); q.Status != posts.StatusPublished || q.ExternalID != got.VideoID {
				t.Errorf("post %s %q, want published as %s", q.Status, q.ExternalID, got.VideoID)
			}
			if n := e.fake.Sessions(); n != 2 {
				t.Errorf("%d sessions, want 2: the spoiled session must not be resumed", n)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, "stored upload session does not open") {
				t.Errorf("no warning logged:\n%s", logs)
			}
			for _, u := range e.fake.SessionURLs() {
				if i := strings.Index(u, "upload_id="); strings.Contains(logs, u[i:]) {
					t.Errorf("the logs hold a session URL")
				}
			}
		})
	}
}

// TestResumedSessionMovesToTheCurrentKey: during a key rotation a session
// sealed under the previous key resumes, and its next save seals it under
// the current key, so the previous key can go.
func TestResumedSessionMovesToTheCurrentKey(t *testing.T) {
	e := newEnv(t)
	video, sum := e.newVideo(t, e.user, mediatest.MP4Like(size))
	p := e.create(t, video, nil)
	e.crashAt(t, e.worker, p.ID, chunk) // sealed under dataKey
	newKey := bytes.Repeat([]byte("n"), secretbox.KeySize)
	rotating := mustBox(t, newKey, dataKey)
	e.expireLease(t, p.ID)
	e.crashAt(t, e.newWorker(rotating), p.ID, 3*chunk)
	if got := e.storedSession(t, p.ID).KeyID; got != rotating.Primary() {
		t.Fatalf("session under key %s after a save, want the current key %s", got, rotating.Primary())
	}
	e.republish(t, e.newWorker(mustBox(t, newKey)), p.ID, sum)
	if n := e.fake.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1: every attempt resumes the same session", n)
	}
	if s := e.storedSession(t, p.ID); s.Ciphertext != nil || s.KeyID != "" {
		t.Errorf("a published post keeps its session: %+v", s)
	}
}

// TestCancelBeforeTheTimeSendsNothing: a cancelled post's message finds
// nothing to do; a post can be cancelled only while scheduled.
func TestCancelBeforeTheTimeSendsNothing(t *testing.T) {
	e := newEnv(t)
	video, _ := e.newVideo(t, e.user, mediatest.MP4Like(size))
	at := time.Now().Add(time.Hour)
	p := e.create(t, video, &at)
	c, err := e.service.Cancel(t.Context(), e.user, p.ID)
	if err != nil || c.Status != posts.StatusCancelled {
		t.Fatalf("cancel: %+v, %v", c, err)
	}
	e.exec(t, `UPDATE posts SET scheduled_at = now() - interval '1 second' WHERE id = $1`, p.ID)
	if err := e.worker.Publish(t.Context(), p.ID); err != nil { // the message arrives at the time
		t.Fatal(err)
	}
	if n := e.fake.Sessions(); n != 0 {
		t.Errorf("%d upload sessions for a cancelled post", n)
	}
	if _, err := e.service.Cancel(t.Context(), e.user, p.ID); !errors.Is(err, posts.ErrNotCancellable) {
		t.Errorf("second cancel: %v, want ErrNotCancellable", err)
	}
	// Published posts cannot be cancelled either.
	q := e.create(t, video, nil)
	if err := e.worker.Publish(t.Context(), q.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.service.Cancel(t.Context(), e.user, q.ID); !errors.Is(err, posts.ErrNotCancellable) {
		t.Errorf("cancel of a published post: %v, want ErrNotCancellable", err)
	}
}

// TestRefusedTokenFailsWithAReason: a revoked grant (the refresh refused)
// and a token the platform refuses both end the post failed, with a
// reason.
func TestRefusedTokenFailsWithAReason(t *testing.T) {
	for _, tc := range []struct {
		name     string
		token    string
		err      error
		reason   string
		sessions int
	}{
		{"refresh refused", "", posts.ErrNeedsReconnect, "reconnected", 0},
		{"token refused", "ya29.revoked", nil, "reconnect the account", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			video, _ := e.newVideo(t, e.user, mediatest.MP4Like(size))
			e.tokens.token, e.tokens.err = tc.token, tc.err
			p := e.create(t, video, nil)
			if err := e.worker.Publish(t.Context(), p.ID); err != nil {
				t.Fatal(err)
			}
			p, _ = e.service.Get(t.Context(), e.user, p.ID)
			if p.Status != posts.StatusFailed || !strings.Contains(p.Error, tc.reason) {
				t.Errorf("post %s %q, want failed with %q", p.Status, p.Error, tc.reason)
			}
			if n := e.fake.Sessions(); n != tc.sessions {
				t.Errorf("%d sessions", n)
			}
		})
	}
}

// TestOtherUsersPostsAreNotFound: another user can neither see nor
// cancel a post, nor post someone else's video or account.
func TestOtherUsersPostsAreNotFound(t *testing.T) {
	e := newEnv(t)
	video, _ := e.newVideo(t, e.user, mediatest.MP4Like(1000))
	at := time.Now().Add(time.Hour)
	p := e.create(t, video, &at)
	mallory := e.newUser(t, "mallory@example.com")
	if _, err := e.service.Get(t.Context(), mallory, p.ID); !errors.Is(err, posts.ErrNotFound) {
		t.Errorf("get: %v", err)
	}
	if _, err := e.service.Cancel(t.Context(), mallory, p.ID); !errors.Is(err, posts.ErrNotFound) {
		t.Errorf("cancel: %v", err)
	}
	page, err := e.service.List(t.Context(), mallory, "", 0, "")
	if err != nil || len(page.Items) != 0 {
		t.Errorf("list: %+v %v", page, err)
	}
	malloryAccount := e.newAccount(t, mallory)
	if _, err := e.service.Create(t.Context(), mallory, posts.Request{VideoID: &video, AccountID: malloryAccount, Title: "x"}); !errors.Is(err, posts.ErrVideoNotFound) {
		t.Errorf("post another user's video: %v", err)
	}
	if _, err := e.service.Create(t.Context(), e.user, posts.Request{VideoID: &video, AccountID: malloryAccount, Title: "x"}); !errors.Is(err, posts.ErrAccountNotFound) {
		t.Errorf("post to another user's account: %v", err)
	}
	if got, _ := e.service.Get(t.Context(), e.user, p.ID); got.Status != posts.StatusScheduled {
		t.Errorf("post %s after the attempts", got.Status)
	}
}

// TestVerticalClipIsAShort: a 9:16 clip gets #Shorts.
func TestVerticalClipIsAShort(t *testing.T) {
	e := newEnv(t)
	clip := e.newVerticalClip(t, e.user, mediatest.MP4Like(size))
	p, err := e.service.Create(t.Context(), e.user, posts.Request{ClipID: &clip, AccountID: e.account, Title: "Short one", Privacy: posts.PrivacyPublic})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.worker.Publish(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	got := waitUpload(t, e.fake)
	if got.Title != "Short one #Shorts" || got.Privacy != "public" || got.Bytes != size {
		t.Errorf("upload %+v", got)
	}
}

// TestSweeperSendsALostMessage: a due post whose message never arrived is
// published after the sweeper's pass; list pages and filters by status.
func TestSweeperSendsALostMessage(t *testing.T) {
	e := newEnv(t)
	video, sum := e.newVideo(t, e.user, mediatest.MP4Like(size))
	p := e.create(t, video, nil)
	e.exec(t, `DELETE FROM queue_messages WHERE queue = $1`, e.queue) // the message is lost
	e.consume(t)
	sw := &posts.Sweeper{Store: e.store, Queue: posts.Queue{Sender: e.local, Name: e.queue}}
	summary, err := sw.Sweep(t.Context(), time.Now().Add(2*time.Minute))
	if err != nil || !strings.HasPrefix(summary, "1 publish messages sent again") {
		t.Fatalf("sweep: %q, %v", summary, err)
	}
	got := waitUpload(t, e.fake)
	p = e.waitSettled(t, p.ID)
	checkPublished(t, p, got, sum)

	at := time.Now().Add(time.Hour)
	for range 2 {
		e.create(t, video, &at)
	}
	page, err := e.service.List(t.Context(), e.user, posts.StatusScheduled, 1, "")
	if err != nil || len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("first page %+v %v", page, err)
	}
	next, err := e.service.List(t.Context(), e.user, posts.StatusScheduled, 1, page.NextCursor)
	if err != nil || len(next.Items) != 1 || next.Items[0].ID == page.Items[0].ID || next.NextCursor != "" {
		t.Fatalf("second page %+v %v", next, err)
	}
}

// TestTakenOverAttemptStops: an attempt whose lease another attempt took
// over stops at its next confirmed chunk, and the new attempt finishes the
// same session.
func TestTakenOverAttemptStops(t *testing.T) {
	e := newEnv(t)
	video, sum := e.newVideo(t, e.user, mediatest.MP4Like(size))
	p := e.create(t, video, nil)
	e.fake.AfterPut(func(committed int64) {
		if committed == chunk { // a slow worker: another took the post over meanwhile
			e.exec(t, `UPDATE posts SET attempt = attempt + 1 WHERE id = $1`, p.ID)
		}
	})
	if err := e.worker.Publish(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	e.fake.AfterPut(nil)
	if c := len(e.fake.Completed()); c != 0 {
		t.Fatal("the attempt that lost its lease went on uploading")
	}
	e.republish(t, e.worker, p.ID, sum)
	if n := e.fake.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// TestMissingFileFailsWithAReason: a post whose file is gone fails
// without contacting the platform.
func TestMissingFileFailsWithAReason(t *testing.T) {
	e := newEnv(t)
	video, _ := e.newVideo(t, e.user, mediatest.MP4Like(1000))
	p := e.create(t, video, nil)
	e.exec(t, `DELETE FROM file_storage WHERE video_id = $1`, video)
	if err := e.worker.Publish(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	p, _ = e.service.Get(t.Context(), e.user, p.ID)
	if p.Status != posts.StatusFailed || !strings.Contains(p.Error, "no longer available") || e.fake.Sessions() != 0 {
		t.Errorf("post %s %q, %d sessions", p.Status, p.Error, e.fake.Sessions())
	}
}
