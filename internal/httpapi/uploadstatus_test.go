package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/media/mediatest"
)

type uploadStatusJSON struct {
	VideoID        string    `json:"video_id"`
	Status         string    `json:"status"`
	Title          string    `json:"title"`
	SizeBytes      int64     `json:"size_bytes"`
	ContentType    string    `json:"content_type"`
	BlockSizeBytes int       `json:"block_size_bytes"`
	ExpiresAt      time.Time `json:"expires_at"`
	Committed      bool      `json:"committed"`
	StagedBlocks   []struct {
		ID        string `json:"id"`
		SizeBytes int64  `json:"size_bytes"`
	} `json:"staged_blocks"`
}

func (u videoUser) uploadStatus(id string) (response, uploadStatusJSON) {
	u.b.h.t.Helper()
	r := u.do(http.MethodGet, "/api/uploads/"+id, nil)
	var st uploadStatusJSON
	if r.StatusCode == http.StatusOK {
		r.json(u.b.h.t, &st)
	}
	return r, st
}

// TestUploadStatusReportsStagedBlocksForResume: after a reload the browser
// asks which blocks Blob Storage already holds (real Azurite), sends the
// others and completes; only the owner may ask.
func TestUploadStatusReportsStagedBlocksForResume(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice, bob := h.newVideoUser("resume@example.com"), h.newVideoUser("other@example.com")
	const block = 4096
	data := mediatest.MP4Like(3*block + 100)
	up := alice.startUpload("holiday.mp4", "video/mp4", len(data))

	r, st := alice.uploadStatus(up.VideoID)
	if r.StatusCode != 200 {
		t.Fatalf("status of a fresh upload: %d %s", r.StatusCode, r.body)
	}
	if st.VideoID != up.VideoID || st.Status != "pending_upload" || st.Title != "holiday.mp4" || st.SizeBytes != int64(len(data)) ||
		st.ContentType != "video/mp4" || st.BlockSizeBytes != 8<<20 || !st.ExpiresAt.Equal(up.ExpiresAt) || st.Committed || st.StagedBlocks == nil || len(st.StagedBlocks) != 0 {
		t.Errorf("fresh upload: %s (upload %+v)", r.body, up)
	}

	// Blocks 0, 3 (the short last one) and 2 staged, 1 lost with the tab.
	for _, i := range []int{0, 3, 2} {
		if status, body, err := mediatest.StageBlock(http.DefaultClient, up.UploadURL, i, data[i*block:min((i+1)*block, len(data))]); err != nil || status != http.StatusCreated {
			t.Fatalf("stage block %d: %d %v %s", i, status, err, body)
		}
	}
	r, st = alice.uploadStatus(up.VideoID)
	if r.StatusCode != 200 || st.Committed {
		t.Fatalf("after staging: %d %s", r.StatusCode, r.body)
	}
	got := map[string]int64{}
	for _, b := range st.StagedBlocks {
		got[b.ID] = b.SizeBytes
	}
	want := map[string]int64{mediatest.BlockID(0): block, mediatest.BlockID(2): block, mediatest.BlockID(3): 100}
	if len(got) != len(want) || len(st.StagedBlocks) != len(want) {
		t.Errorf("staged blocks %v, want %v", got, want)
	}
	for id, size := range want {
		if got[id] != size {
			t.Errorf("block %s: size %d, want %d (staged %v)", id, got[id], size, got)
		}
	}

	// Only the owner sees it; other ids are not found either.
	for _, r := range []response{
		bob.do(http.MethodGet, "/api/uploads/"+up.VideoID, nil),
		alice.do(http.MethodGet, "/api/uploads/6a0e4c55-8f9e-4a63-9d3c-2f5b7e1a0c9d", nil),
		alice.do(http.MethodGet, "/api/uploads/not-a-uuid", nil),
	} {
		if r.StatusCode != 404 || r.errorCode() != "not_found" {
			t.Errorf("GET %s: %d %s", r.Request.URL.Path, r.StatusCode, r.body)
		}
	}
	if r := alice.b.do(http.MethodGet, "/api/uploads/"+up.VideoID, nil, nil); r.StatusCode != 401 {
		t.Errorf("without a token: %d %s", r.StatusCode, r.body)
	}

	// Resume: send the missing block with a renewed URL, commit, complete.
	r = alice.do(http.MethodPost, "/api/uploads/"+up.VideoID+"/renew", nil)
	var renewed uploadJSON
	if r.json(t, &renewed); r.StatusCode != 200 {
		t.Fatalf("renew: %d %s", r.StatusCode, r.body)
	}
	if _, st = alice.uploadStatus(up.VideoID); !st.ExpiresAt.Equal(renewed.ExpiresAt) {
		t.Errorf("expires_at %v after renewal, want the new URL's %v", st.ExpiresAt, renewed.ExpiresAt)
	}
	for _, b := range st.StagedBlocks {
		if b.ID == mediatest.BlockID(1) {
			t.Fatalf("block 1 reported staged: %s", r.body)
		}
	}
	uploadFile(t, renewed, data, "video/mp4") // re-sends all four blocks with the same ids and commits
	r, st = alice.uploadStatus(up.VideoID)
	if r.StatusCode != 200 || !st.Committed || len(st.StagedBlocks) != 0 {
		t.Errorf("after the commit: %d %s", r.StatusCode, r.body)
	}
	if r := alice.complete(up.VideoID); r.StatusCode != 200 {
		t.Fatalf("complete: %d %s", r.StatusCode, r.body)
	}
	if r, _ := alice.uploadStatus(up.VideoID); r.StatusCode != 409 || r.errorCode() != "upload_closed" {
		t.Errorf("after completion: %d %s", r.StatusCode, r.body)
	}
}

// TestUploadStatusReportsTheIssuedURLsExpiry: expires_at is when the URL the
// client holds stops working, exactly, even when this instance's clock and
// the database's disagree (they run on different machines; CI once saw the
// two cross a second boundary between the renewal and the status).
func TestUploadStatusReportsTheIssuedURLsExpiry(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("expiry@example.com")
	// The media service's clock is behind PostgreSQL's (the signer's own
	// clock caps a URL's expiry, so it cannot run ahead here).
	h.media.clock.set(-90 * time.Second)
	up := alice.startUpload("clip.mp4", "video/mp4", 4096)
	if _, st := alice.uploadStatus(up.VideoID); !st.ExpiresAt.Equal(up.ExpiresAt) {
		t.Errorf("expires_at %v, want the issued URL's %v", st.ExpiresAt, up.ExpiresAt)
	}
	h.media.clock.set(-3 * time.Minute)
	r := alice.do(http.MethodPost, "/api/uploads/"+up.VideoID+"/renew", nil)
	var renewed uploadJSON
	if r.json(t, &renewed); r.StatusCode != 200 {
		t.Fatalf("renew: %d %s", r.StatusCode, r.body)
	}
	if !renewed.ExpiresAt.Before(up.ExpiresAt) {
		t.Fatalf("renewed URL expires %v, not before the first one's %v: the clock did not move", renewed.ExpiresAt, up.ExpiresAt)
	}
	if _, st := alice.uploadStatus(up.VideoID); !st.ExpiresAt.Equal(renewed.ExpiresAt) {
		t.Errorf("expires_at %v after renewal, want the new URL's %v", st.ExpiresAt, renewed.ExpiresAt)
	}

	// An upload created by a binary older than migration 00013 has no
	// recorded expiry: it gets the bound it was reported with then.
	var updated time.Time
	if err := h.db.QueryRow(t.Context(), `
		UPDATE videos SET upload_expires_at = NULL WHERE id = $1 RETURNING updated_at`, up.VideoID).Scan(&updated); err != nil {
		t.Fatal(err)
	}
	want := updated.Add(15 * time.Minute).Truncate(time.Second)
	if _, st := alice.uploadStatus(up.VideoID); !st.ExpiresAt.Equal(want) {
		t.Errorf("expires_at %v without a recorded expiry, want updated_at + 15 min = %v", st.ExpiresAt, want)
	}
}
