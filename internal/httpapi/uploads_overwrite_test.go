package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/videofn/videofn/internal/media/mediatest"
)

// attacker plays the holder of an upload URL with plain HTTP requests
// against storage, as a script would: nothing but the URL and the REST API.
type attacker struct {
	t   *testing.T
	url string // the upload URL (a create+write SAS for the blob)
}

// send sends one request to the upload URL plus query (may be ""), and
// returns the status and the response headers.
func (a attacker) send(query string, headers map[string]string, body []byte) (int, http.Header) {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodPut, a.url+query, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("x-ms-version", "2021-12-02")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// takeOver breaks whatever lease the blob has and takes an infinite lease
// of its own, whose id it returns.
func (a attacker) takeOver() string {
	a.t.Helper()
	a.send("&comp=lease", map[string]string{"x-ms-lease-action": "break", "x-ms-lease-break-period": "0"}, nil)
	const id = "0f6e2f4e-7a51-4a43-9f0c-3b8d2f1e9a11"
	status, _ := a.send("&comp=lease", map[string]string{
		"x-ms-lease-action": "acquire", "x-ms-lease-duration": "-1", "x-ms-proposed-lease-id": id,
	}, nil)
	a.t.Logf("attacker: break + acquire lease: %d", status)
	return id
}

// putBlob replaces the blob in one Put Blob under lease.
func (a attacker) putBlob(lease string, data []byte) int {
	a.t.Helper()
	status, _ := a.send("", map[string]string{"x-ms-blob-type": "BlockBlob", "x-ms-lease-id": lease, "x-ms-blob-content-type": "text/html"}, data)
	return status
}

// putBlocks replaces the blob with Put Block + Put Block List under lease.
func (a attacker) putBlocks(lease string, data []byte) int {
	a.t.Helper()
	id := base64.StdEncoding.EncodeToString([]byte("evil-000000"))
	if status, _ := a.send("&comp=block&blockid="+id, map[string]string{"x-ms-lease-id": lease}, data); status != http.StatusCreated {
		return status
	}
	list := `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>` + id + `</Latest></BlockList>`
	status, _ := a.send("&comp=blocklist", map[string]string{"x-ms-lease-id": lease, "x-ms-blob-content-type": "text/html"}, []byte(list))
	return status
}

// blobVersions lists the blob name and each of its snapshots as
// "name" and "name@snapshot", whatever is stored under prefix.
func (m *mediaHarness) blobVersions(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	pager := m.store.Container().NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix: to.Ptr(prefix), Include: container.ListBlobsInclude{Snapshots: true},
	})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			name := *it.Name
			if it.Snapshot != nil && *it.Snapshot != "" {
				name += "@" + *it.Snapshot
			}
			out = append(out, name)
		}
	}
	return out
}

// TestCompletedUploadCannotBeReplaced is the overwrite an outside review
// found (issue 8): after complete answered 200, the still-valid upload URL
// broke the completion lease, took its own and wrote other bytes, which
// playback then served with the size, quota and container checks bypassed.
func TestCompletedUploadCannotBeReplaced(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{uploadMaxBytes: 1 << 20, quotaBytes: 4 << 20})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "mp4")
	up := alice.startUpload("a.mp4", "video/mp4", len(mp4))
	uploadFile(t, up, mp4, "video/mp4")
	r := alice.complete(up.VideoID)
	if r.StatusCode != 200 {
		t.Fatalf("complete: %d %s", r.StatusCode, r.body)
	}
	_, before := alice.video(up.VideoID)
	oldPlayback := before.PlaybackURL

	// What must not change, whatever the upload URL does: the bytes the
	// playback URLs serve, the size on the video and its file_storage row,
	// and what counts against the quota.
	unchanged := func(step string) {
		t.Helper()
		status, v := alice.video(up.VideoID)
		if status != 200 || v.Status != "ready" || v.SizeBytes == nil || *v.SizeBytes != int64(len(mp4)) || *v.ContentType != "video/mp4" {
			t.Errorf("%s: video %d %+v", step, status, v)
		}
		for _, u := range []string{oldPlayback, v.PlaybackURL} {
			status, ctype, got, err := mediatest.Get(http.DefaultClient, u)
			if err != nil || status != 200 || ctype != "video/mp4" || !bytes.Equal(got, mp4) {
				t.Errorf("%s: playback served %d %q, %d bytes (want the %d checked ones) %v", step, status, ctype, len(got), len(mp4), err)
			}
		}
		if n := h.count(`SELECT coalesce(sum(size_bytes), 0)::int FROM file_storage WHERE video_id = $1`, up.VideoID); n != len(mp4) {
			t.Errorf("%s: file_storage counts %d bytes, want %d", step, n, len(mp4))
		}
		if n := h.count(`SELECT coalesce(sum(size_bytes), 0)::int FROM file_storage WHERE user_id = $1`, alice.id); n != len(mp4) {
			t.Errorf("%s: quota counts %d bytes, want %d", step, n, len(mp4))
		}
		if again := alice.complete(up.VideoID); again.StatusCode != 200 || string(again.body) != string(r.body) {
			t.Errorf("%s: completing again: %d %s", step, again.StatusCode, again.body)
		}
	}
	unchanged("after complete")

	evil := bytes.Repeat([]byte("<html><script>alert(1)</script></html>"), 3*len(mp4)/38)
	a := attacker{t: t, url: up.UploadURL}
	lease := a.takeOver()
	if status := a.putBlob(lease, evil); status != http.StatusCreated {
		t.Logf("attacker: Put Blob refused with %d", status)
	}
	unchanged("after break lease, acquire lease, Put Blob")

	lease = a.takeOver()
	if status := a.putBlocks(lease, evil); status != http.StatusCreated {
		t.Logf("attacker: Put Block + Put Block List refused with %d", status)
	}
	a.send("&comp=snapshot", map[string]string{"x-ms-lease-id": lease}, nil) // a snapshot of its own, to be left behind
	unchanged("after Put Block + Put Block List")

	// Once the upload URL has expired, the sweeper undoes what it wrote: the
	// base blob holds the checked bytes again, the attacker's snapshot is
	// gone, and the video still plays.
	if _, err := h.media.svc.SweepUploads(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	unchanged("after the sweep")
	name := blobNameOf(alice, up)
	versions := h.media.blobVersions(t, name)
	if len(versions) != 2 || versions[0] != name && versions[1] != name {
		t.Errorf("stored after the sweep: %v, want the blob and the one checked snapshot", versions)
	}
	base, err := h.media.store.Container().NewBlobClient(name).DownloadStream(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(base.Body)
	base.Body.Close()
	if !bytes.Equal(got.Bytes(), mp4) {
		t.Errorf("base blob after the sweep: %d bytes %q..., want the checked file", got.Len(), strings.ToValidUTF8(got.String()[:min(got.Len(), 16)], "?"))
	}
	// Settled once: nothing left to do.
	if n, err := h.media.svc.SweepUploads(context.Background(), time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v", n, err)
	}
}

// TestDeleteRemovesEverySnapshot: deleting a completed upload, while its
// upload URL is valid and after it expired, leaves neither the blob nor any
// snapshot (the checked one or one the upload URL took) behind.
func TestDeleteRemovesEverySnapshot(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "mp4")
	ctx := context.Background()

	complete := func(name string) uploadJSON {
		t.Helper()
		up := alice.startUpload(name, "video/mp4", len(mp4))
		uploadFile(t, up, mp4, "video/mp4")
		if r := alice.complete(up.VideoID); r.StatusCode != 200 {
			t.Fatalf("complete: %d %s", r.StatusCode, r.body)
		}
		a := attacker{t: t, url: up.UploadURL}
		a.send("&comp=snapshot", nil, nil)
		if len(h.media.blobVersions(t, blobNameOf(alice, up))) < 3 {
			t.Fatalf("want the blob, the checked snapshot and the attacker's: %v", h.media.blobVersions(t, blobNameOf(alice, up)))
		}
		return up
	}

	// While the URL is valid: hidden at once, everything gone after the
	// sweep, also what the URL wrote after the deletion.
	early := complete("early.mp4")
	if r := alice.do(http.MethodDelete, "/api/videos/"+early.VideoID, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	if v := h.media.blobVersions(t, blobNameOf(alice, early)); len(v) != 0 {
		t.Errorf("after delete: %v still stored", v)
	}
	a := attacker{t: t, url: early.UploadURL}
	a.putBlob("", mp4)
	a.send("&comp=snapshot", nil, nil)
	if _, err := h.media.svc.SweepUploads(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v := h.media.blobVersions(t, blobNameOf(alice, early)); len(v) != 0 {
		t.Errorf("after the sweep: %v still stored", v)
	}

	// After the URL expired: rows and every blob version go at once.
	late := complete("late.mp4")
	h.media.clock.set(time.Hour)
	if r := alice.do(http.MethodDelete, "/api/videos/"+late.VideoID, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	if v := h.media.blobVersions(t, alice.id+"/"); len(v) != 0 {
		t.Errorf("after delete: %v still stored", v)
	}
	if n := h.count(`SELECT count(*) FROM videos`) + h.count(`SELECT count(*) FROM file_storage`); n != 0 {
		t.Errorf("%d rows left", n)
	}
}
