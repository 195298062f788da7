package posts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ChunkUnit is the granularity of resumable upload chunks: every chunk but
// the last is a multiple of 256 KiB.
const ChunkUnit = 256 << 10

// DefaultUploadURL is YouTube's resumable upload endpoint (videos.insert).
const DefaultUploadURL = "https://www.googleapis.com/upload/youtube/v3/videos"

// YouTube publishes to YouTube with the resumable upload protocol:
//
//  1. POST UploadURL?uploadType=resumable&part=snippet,status with the
//     video resource as JSON and X-Upload-Content-Length/-Type -> 200 and
//     the session URL in Location (recorded before the first byte);
//  2. PUT chunks of ChunkSize bytes to the session with Content-Range
//     "bytes a-b/total" -> 308 Resume Incomplete with Range "bytes=0-n"
//     (what the server has), or 200/201 with the video resource at the end;
//  3. after an interrupted chunk or a 5xx, PUT an empty body with
//     Content-Range "bytes */total" -> 308 + Range (continue from there)
//     or 200/201 (it was complete): the upload resumes from the offset the
//     server reports, never from where the client thinks it was.
//
// Each chunk streams from a ranged blob read straight into the request
// body: memory use is a few buffers whatever the file size.
type YouTube struct {
	// UploadURL is the videos.insert upload endpoint; "" means
	// DefaultUploadURL (YOUTUBE_UPLOAD_URL overrides it for tests).
	UploadURL string
	// WatchURL is the prefix of a published video's page; "" means
	// https://www.youtube.com/watch?v=.
	WatchURL string
	// ChunkSize is the bytes per PUT, a multiple of ChunkUnit; 0 means
	// 8 MiB.
	ChunkSize int64
	// MaxRetries bounds the consecutive failed requests without progress
	// before Publish gives up (transiently: a redelivery resumes); 0
	// means 5.
	MaxRetries int
	// Backoff is the wait before retry n (1 for the first); nil means
	// none for the first and 500 ms doubling after.
	Backoff func(n int) time.Duration
	Client  *http.Client
}

var _ Publisher = (*YouTube)(nil)

// errSessionGone: the platform no longer knows the session (expired).
var errSessionGone = errors.New("upload session expired")

// Publish implements Publisher.
func (y *YouTube) Publish(ctx context.Context, p PublishRequest) (PublishResult, error) {
	chunk := y.ChunkSize
	if chunk <= 0 {
		chunk = 8 << 20
	}
	if chunk%ChunkUnit != 0 {
		return PublishResult{}, fmt.Errorf("youtube: chunk size %d is not a multiple of %d", chunk, ChunkUnit)
	}
	if p.Size <= 0 {
		return PublishResult{}, &PermanentError{Reason: "the file is empty"}
	}
	maxRetries := y.MaxRetries
	if maxRetries <= 0 {
		maxRetries = 5
	}
	session := p.SessionURL
	var offset int64
	if session != "" {
		off, res, err := y.status(ctx, p, session)
		switch {
		case errors.Is(err, errSessionGone):
			session = ""
		case err != nil:
			return PublishResult{}, err
		case res != nil:
			return *res, nil
		default:
			offset = off
		}
	}
	if session == "" {
		s, err := y.start(ctx, p)
		if err != nil {
			return PublishResult{}, err
		}
		if err := p.Saved(ctx, s, 0); err != nil {
			return PublishResult{}, err
		}
		session, offset = s, 0
	}
	failures := 0
	for {
		end := min(offset+chunk, p.Size)
		off, res, err := y.put(ctx, p, session, offset, end)
		if err == nil && res != nil {
			return *res, nil
		}
		if err == nil && off > offset {
			offset, failures = off, 0
			if err := p.Saved(ctx, session, offset); err != nil {
				return PublishResult{}, err
			}
			continue
		}
		if err != nil && !retryable(err) {
			return PublishResult{}, err
		}
		// Interrupted, refused with 5xx or no progress: ask the server.
		failures++
		if failures > maxRetries {
			return PublishResult{}, fmt.Errorf("youtube: upload stalled at %d of %d bytes: %w", offset, p.Size, err)
		}
		if err := y.wait(ctx, failures); err != nil {
			return PublishResult{}, err
		}
		off, res, serr := y.status(ctx, p, session)
		switch {
		case serr != nil && !retryable(serr):
			return PublishResult{}, serr
		case serr != nil:
			continue
		case res != nil:
			return *res, nil
		}
		if off != offset {
			offset = off
			if err := p.Saved(ctx, session, offset); err != nil {
				return PublishResult{}, err
			}
		}
	}
}

// retryable reports whether err may pass on a retry: not a permanent
// refusal, an expired session, a cancelled context or a lost attempt.
func retryable(err error) bool {
	var perm *PermanentError
	return !errors.As(err, &perm) && !errors.Is(err, errSessionGone) && !errors.Is(err, ErrNeedsReconnect) &&
		!errors.Is(err, ErrNotCurrent) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (y *YouTube) wait(ctx context.Context, n int) error {
	var d time.Duration
	if y.Backoff != nil {
		d = y.Backoff(n)
	} else if n > 1 {
		d = min(500*time.Millisecond<<(n-2), 30*time.Second)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (y *YouTube) client() *http.Client {
	if y.Client != nil {
		return y.Client
	}
	return http.DefaultClient
}

// videoResource is the part of YouTube's video resource sent and read.
type videoResource struct {
	ID      string `json:"id,omitempty"`
	Snippet struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		CategoryID  string `json:"categoryId,omitempty"`
	} `json:"snippet"`
	Status struct {
		PrivacyStatus           string `json:"privacyStatus"`
		SelfDeclaredMadeForKids bool   `json:"selfDeclaredMadeForKids"`
	} `json:"status"`
}

// start opens an upload session and returns its URL.
func (y *YouTube) start(ctx context.Context, p PublishRequest) (string, error) {
	endpoint := y.UploadURL
	if endpoint == "" {
		endpoint = DefaultUploadURL
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("youtube: upload url: %w", err)
	}
	q := u.Query()
	q.Set("uploadType", "resumable")
	q.Set("part", "snippet,status")
	u.RawQuery = q.Encode()
	var v videoResource
	v.Snippet.Title, v.Snippet.Description, v.Snippet.CategoryID = p.Title, p.Description, "22"
	v.Status.PrivacyStatus = p.Privacy
	body, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(p.Size, 10))
	req.Header.Set("X-Upload-Content-Type", contentType(p.ContentType))
	resp, err := y.do(ctx, p, req)
	if err != nil {
		return "", fmt.Errorf("youtube: start upload: %w", err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return "", statusError("start upload", resp)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("youtube: start upload: no session url: %w", err)
	}
	return loc.String(), nil
}

// put sends bytes [from, to) of the file and returns the offset the
// server confirmed, or the result once the upload is complete.
func (y *YouTube) put(ctx context.Context, p PublishRequest, session string, from, to int64) (int64, *PublishResult, error) {
	body, err := p.Open(ctx, from, to-from)
	if err != nil {
		return from, nil, fmt.Errorf("youtube: read file at %d: %w", from, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, session, body)
	if err != nil {
		body.Close()
		return from, nil, err
	}
	req.ContentLength = to - from
	req.Header.Set("Content-Type", contentType(p.ContentType))
	req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to-1, p.Size))
	resp, err := y.do(ctx, p, req)
	if err != nil {
		return from, nil, fmt.Errorf("youtube: upload bytes %d-%d: %w", from, to-1, withoutSession(err))
	}
	defer drain(resp)
	return y.progress(resp, "upload chunk")
}

// status asks the server how much of the session it has.
func (y *YouTube) status(ctx context.Context, p PublishRequest, session string) (int64, *PublishResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, session, http.NoBody)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Range", fmt.Sprintf("bytes */%d", p.Size))
	resp, err := y.do(ctx, p, req)
	if err != nil {
		return 0, nil, fmt.Errorf("youtube: upload status: %w", withoutSession(err))
	}
	defer drain(resp)
	return y.progress(resp, "upload status")
}

// withoutSession keeps the session URL out of a request's error: the
// client's *url.Error quotes the URL it requested, the error is logged
// where the queue delivery ends, and the URL is a capability (YouTube's
// names the session by its upload_id query parameter). The query and
// fragment are dropped; the rest still says which endpoint failed.
func withoutSession(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.Fragment, u.User = "", "", nil
			ue.URL = u.String()
		} else {
			ue.URL = "(upload session)"
		}
	}
	return err
}

// progress reads a chunk's or a status query's answer.
func (y *YouTube) progress(resp *http.Response, op string) (int64, *PublishResult, error) {
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
		var v videoResource
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err != nil || v.ID == "" {
			return 0, nil, fmt.Errorf("youtube: %s: the final answer has no video id", op)
		}
		watch := y.WatchURL
		if watch == "" {
			watch = "https://www.youtube.com/watch?v="
		}
		return 0, &PublishResult{ExternalID: v.ID, URL: watch + url.QueryEscape(v.ID)}, nil
	case http.StatusPermanentRedirect: // 308 Resume Incomplete
		r := resp.Header.Get("Range")
		if r == "" {
			return 0, nil, nil
		}
		last, ok := strings.CutPrefix(r, "bytes=0-")
		n, err := strconv.ParseInt(last, 10, 64)
		if !ok || err != nil || n < 0 {
			return 0, nil, fmt.Errorf("youtube: %s: unexpected Range %q", op, r)
		}
		return n + 1, nil, nil
	case http.StatusNotFound, http.StatusGone:
		return 0, nil, errSessionGone
	}
	return 0, nil, statusError(op, resp)
}

// do sends req with the account's current token.
func (y *YouTube) do(ctx context.Context, p PublishRequest, req *http.Request) (*http.Response, error) {
	token, err := p.Token(ctx)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return y.client().Do(req)
}

// statusError turns a refusal into an error: 5xx and 429 are transient,
// other codes permanent with YouTube's message.
func statusError(op string, resp *http.Response) error {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
	msg := e.Error.Message
	if len(msg) > 300 {
		msg = msg[:300]
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("youtube: %s: %s %s", op, resp.Status, msg)
	}
	var reason string
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		reason = "YouTube refused the account's credentials; reconnect the account"
	case len(e.Error.Errors) > 0 && e.Error.Errors[0].Reason == "quotaExceeded":
		reason = "YouTube's upload quota is used up; try again tomorrow"
	default:
		reason = fmt.Sprintf("YouTube refused the upload (%d)", resp.StatusCode)
		if msg != "" {
			reason += ": " + msg
		}
	}
	return &PermanentError{Reason: reason}
}

func contentType(ct string) string {
	if ct == "" {
		return "video/mp4"
	}
	return ct
}

// drain reads what is left of a small answer (so the connection is
// reused) and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
