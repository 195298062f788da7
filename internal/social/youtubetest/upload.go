package youtubetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// UploadPath is the path of the fake's resumable upload endpoint
// (videos.insert), as on www.googleapis.com.
const UploadPath = "/upload/youtube/v3/videos"

// chunkUnit is the protocol's chunk granularity: every chunk but the last
// is a multiple of 256 KiB.
const chunkUnit = 256 << 10

// Upload is one finished upload as the fake received it.
type Upload struct {
	VideoID     string
	Title       string
	Description string
	Privacy     string
	ContentType string
	Bytes       int64
	// SHA256 is the hex digest of the bytes committed, in order.
	SHA256 string
}

// Uploads is the fake's resumable upload endpoint. It checks the protocol
// (the metadata POST, Content-Range on every PUT, chunks that start where
// the upload is and are multiples of 256 KiB but the last, status queries
// "bytes */total"), reports a violation with tb.Errorf, counts sessions and
// bytes, hashes what it commits, and can drop a chunk mid-way or answer
// 5xx once. It serves http.Handler on UploadPath and on the session URLs
// it hands out.
type Uploads struct {
	tb testing.TB
	// URL is the upload endpoint (server + UploadPath) when started with
	// StartUploads.
	URL string
	// authorized checks a request's access token.
	authorized func(*http.Request) bool

	mu       sync.Mutex
	base     string // scheme://host of the session URLs
	sessions map[string]*uploadSession
	urls     []string // the session URLs handed out, in order
	started  int
	received int64 // body bytes read by every PUT, repeats included
	dropAt   int64 // -1: none; else the next chunk covering this offset is cut
	failAt   int64 // -1: none; else the next chunk covering this offset gets 503
	finished chan Upload
	afterPut func(committed int64)
}

type uploadSession struct {
	id        string
	total     int64
	committed int64
	h         hash.Hash
	meta      Upload
	done      bool
}

// NewUploads returns the endpoint; authorized (nil: any Bearer token)
// checks each request's access token. Serve it under base (the scheme and
// host session URLs start with) with SetBase, or use StartUploads.
func NewUploads(tb testing.TB, authorized func(*http.Request) bool) *Uploads {
	if authorized == nil {
		authorized = func(r *http.Request) bool { return strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") }
	}
	return &Uploads{tb: tb, authorized: authorized, sessions: map[string]*uploadSession{},
		dropAt: -1, failAt: -1, finished: make(chan Upload, 64)}
}

// StartUploads serves a new Uploads on its own test server, closed when
// the test ends.
func StartUploads(tb testing.TB, authorized func(*http.Request) bool) *Uploads {
	u := NewUploads(tb, authorized)
	srv := httptest.NewServer(u)
	tb.Cleanup(srv.Close)
	u.SetBase(srv.URL)
	u.URL = srv.URL + UploadPath
	return u
}

// SetBase sets the scheme://host the session URLs start with.
func (u *Uploads) SetBase(base string) { u.mu.Lock(); u.base = base; u.mu.Unlock() }

// DropChunkAt makes the next chunk that covers offset commit its first
// 256 KiB (or less when shorter) and then lose its connection, once.
func (u *Uploads) DropChunkAt(offset int64) { u.mu.Lock(); u.dropAt = offset; u.mu.Unlock() }

// FailChunkAt makes the next chunk that covers offset answer 503 without
// committing anything, once.
func (u *Uploads) FailChunkAt(offset int64) { u.mu.Lock(); u.failAt = offset; u.mu.Unlock() }

// AfterPut calls f (in the handler, before the answer) with the session's
// committed bytes after each chunk.
func (u *Uploads) AfterPut(f func(committed int64)) { u.mu.Lock(); u.afterPut = f; u.mu.Unlock() }

// Sessions is the number of upload sessions started.
func (u *Uploads) Sessions() int { u.mu.Lock(); defer u.mu.Unlock(); return u.started }

// SessionURLs lists the session URLs the fake handed out (Location), in
// order: tests look for them where they must not be (a database dump, the
// logs).
func (u *Uploads) SessionURLs() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.urls...)
}

// Received is the body bytes every chunk PUT carried, repeats included.
func (u *Uploads) Received() int64 { u.mu.Lock(); defer u.mu.Unlock(); return u.received }

// Finished delivers each upload once it is complete (the "upload finished"
// signal tests wait on).
func (u *Uploads) Finished() <-chan Upload { return u.finished }

// Completed lists the finished uploads.
func (u *Uploads) Completed() []Upload {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []Upload
	for _, s := range u.sessions {
		if s.done {
			out = append(out, s.meta)
		}
	}
	return out
}

func newID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (u *Uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != UploadPath {
		http.NotFound(w, r)
		return
	}
	if !u.authorized(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}]}}`)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Query().Get("upload_id") == "":
		u.start(w, r)
	case r.Method == http.MethodPut && r.URL.Query().Get("upload_id") != "":
		u.put(w, r)
	default:
		u.tb.Errorf("youtubetest: unexpected %s %s", r.Method, r.URL)
		http.Error(w, "bad request", http.StatusBadRequest)
	}
}

func (u *Uploads) violation(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	u.tb.Errorf("youtubetest: protocol violation: %s", msg)
	http.Error(w, msg, http.StatusBadRequest)
}

func (u *Uploads) start(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("uploadType") != "resumable" || !strings.Contains(q.Get("part"), "snippet") || !strings.Contains(q.Get("part"), "status") {
		u.violation(w, "start: query %q wants uploadType=resumable&part=snippet,status", r.URL.RawQuery)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		u.violation(w, "start: Content-Type %q", r.Header.Get("Content-Type"))
		return
	}
	total, err := strconv.ParseInt(r.Header.Get("X-Upload-Content-Length"), 10, 64)
	if err != nil || total <= 0 {
		u.violation(w, "start: X-Upload-Content-Length %q", r.Header.Get("X-Upload-Content-Length"))
		return
	}
	var v struct {
		Snippet struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"snippet"`
		Status struct {
			PrivacyStatus string `json:"privacyStatus"`
		} `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&v); err != nil {
		u.violation(w, "start: metadata: %v", err)
		return
	}
	switch p := v.Status.PrivacyStatus; {
	case v.Snippet.Title == "" || len([]rune(v.Snippet.Title)) > 100:
		u.violation(w, "start: title %q", v.Snippet.Title)
		return
	case p != "public" && p != "unlisted" && p != "private":
		u.violation(w, "start: privacyStatus %q", p)
		return
	}
	s := &uploadSession{id: newID("up"), total: total, h: sha256.New(), meta: Upload{
		Title: v.Snippet.Title, Description: v.Snippet.Description, Privacy: v.Status.PrivacyStatus,
		ContentType: r.Header.Get("X-Upload-Content-Type"),
	}}
	u.mu.Lock()
	u.sessions[s.id] = s
	u.started++
	location := u.base + UploadPath + "?uploadType=resumable&upload_id=" + s.id
	u.urls = append(u.urls, location)
	u.mu.Unlock()
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusOK)
}

// put handles a chunk or a status query.
func (u *Uploads) put(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	s := u.sessions[r.URL.Query().Get("upload_id")]
	u.mu.Unlock()
	if s == nil {
		http.NotFound(w, r)
		return
	}
	cr := r.Header.Get("Content-Range")
	rng, totalText, ok := strings.Cut(strings.TrimPrefix(cr, "bytes "), "/")
	total, err := strconv.ParseInt(totalText, 10, 64)
	if !strings.HasPrefix(cr, "bytes ") || !ok || err != nil || total != s.total {
		u.violation(w, "put: Content-Range %q for a %d-byte upload", cr, s.total)
		return
	}
	if rng == "*" {
		if r.ContentLength != 0 {
			u.violation(w, "status query with a %d-byte body", r.ContentLength)
			return
		}
		u.answer(w, s)
		return
	}
	first, last, err := parseRange(rng)
	n := last - first + 1
	u.mu.Lock()
	committed, done := s.committed, s.done
	u.mu.Unlock()
	switch {
	case err != nil || n <= 0 || last >= s.total:
		u.violation(w, "put: Content-Range %q", cr)
		return
	case done:
		u.violation(w, "put: chunk %q after the upload completed", cr)
		return
	case first != committed:
		u.violation(w, "put: chunk starts at %d but the server has %d bytes (ask with bytes */total)", first, committed)
		return
	case r.ContentLength != n:
		u.violation(w, "put: Content-Length %d for Content-Range %q", r.ContentLength, cr)
		return
	case last+1 < s.total && n%chunkUnit != 0:
		u.violation(w, "put: a %d-byte chunk that is not the last must be a multiple of 256 KiB", n)
		return
	}
	u.mu.Lock()
	drop := u.dropAt >= first && u.dropAt <= last
	fail := !drop && u.failAt >= first && u.failAt <= last
	if drop {
		u.dropAt = -1
	}
	if fail {
		u.failAt = -1
	}
	u.mu.Unlock()
	if fail {
		k, _ := io.Copy(io.Discard, r.Body)
		u.count(k)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"code":503,"message":"Backend Error","errors":[{"reason":"backendError"}]}}`)
		return
	}
	want := n
	if drop {
		want = min(n, chunkUnit)
	}
	k, err := io.Copy(s.h, io.LimitReader(r.Body, want))
	u.count(k)
	u.mu.Lock()
	s.committed += k
	after := u.afterPut
	u.mu.Unlock()
	if err != nil {
		return // the client went away; what arrived is committed
	}
	if drop {
		hj, ok := w.(http.Hijacker)
		if !ok {
			u.tb.Errorf("youtubetest: cannot drop a connection")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if after != nil {
		after(s.committed)
	}
	u.answer(w, s)
}

func (u *Uploads) count(k int64) { u.mu.Lock(); u.received += k; u.mu.Unlock() }

// answer tells the client where the upload is: 308 + Range, or the video
// resource once complete (201 the first time, 200 after).
func (u *Uploads) answer(w http.ResponseWriter, s *uploadSession) {
	u.mu.Lock()
	status := http.StatusOK
	if s.committed == s.total && !s.done {
		s.done = true
		s.meta.VideoID = newID("v")
		s.meta.Bytes = s.total
		s.meta.SHA256 = hex.EncodeToString(s.h.Sum(nil))
		status = http.StatusCreated
		select {
		case u.finished <- s.meta:
		default:
		}
	}
	done, committed, meta := s.done, s.committed, s.meta
	u.mu.Unlock()
	if !done {
		if committed > 0 {
			w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", committed-1))
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusPermanentRedirect)
		return
	}
	var v struct {
		Kind    string `json:"kind"`
		ID      string `json:"id"`
		Snippet struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"snippet"`
		Status struct {
			UploadStatus  string `json:"uploadStatus"`
			PrivacyStatus string `json:"privacyStatus"`
		} `json:"status"`
	}
	v.Kind, v.ID = "youtube#video", meta.VideoID
	v.Snippet.Title, v.Snippet.Description = meta.Title, meta.Description
	v.Status.UploadStatus, v.Status.PrivacyStatus = "uploaded", meta.Privacy
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func parseRange(s string) (int64, int64, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("range %q", s)
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, err
	}
	last, err := strconv.ParseInt(b, 10, 64)
	return first, last, err
}

// MountUploads serves a new Uploads on s at UploadPath, accepting the
// access tokens s issued and has not revoked (s.Authorized): a token the
// fake revoked or let expire is refused with 401, as YouTube does.
func (s *Server) MountUploads(tb testing.TB) *Uploads {
	u := NewUploads(tb, s.Authorized)
	u.SetBase(s.URL)
	u.URL = s.URL + UploadPath
	s.Handle(UploadPath, u)
	return u
}
