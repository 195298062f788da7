package blob_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/testenv"
)

// fakeKeyServer answers Get User Delegation Key like Blob Storage does, for
// a bearer token, and counts the keys it hands out.
type fakeKeyServer struct {
	srv   *httptest.Server
	keys  atomic.Int32
	fail  atomic.Bool
	mu    sync.Mutex
	asked []service.KeyInfo
}

const (
	fakeOID = "4b1a0c6e-2f3d-4e5f-8a9b-0c1d2e3f4a5b"
	fakeTID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

func newFakeKeyServer(t *testing.T) *fakeKeyServer {
	f := &fakeKeyServer{}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodPost || q.Get("restype") != "service" || q.Get("comp") != "userdelegationkey" {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer fake-token" {
			http.Error(w, "no bearer token", http.StatusUnauthorized)
			return
		}
		if f.fail.Load() {
			http.Error(w, "<Error><Code>AuthorizationPermissionMismatch</Code></Error>", http.StatusForbidden)
			return
		}
		var info struct {
			Start  string `xml:"Start"`
			Expiry string `xml:"Expiry"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := xml.Unmarshal(body, &info); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.asked = append(f.asked, service.KeyInfo{Start: &info.Start, Expiry: &info.Expiry})
		f.mu.Unlock()
		n := f.keys.Add(1)
		key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune('a'+n)), 32)))
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><UserDelegationKey>`+
			`<SignedOid>`+fakeOID+`</SignedOid><SignedTid>`+fakeTID+`</SignedTid>`+
			`<SignedStart>`+info.Start+`</SignedStart><SignedExpiry>`+info.Expiry+`</SignedExpiry>`+
			`<SignedService>b</SignedService><SignedVersion>2025-11-05</SignedVersion>`+
			`<Value>`+key+`</Value></UserDelegationKey>`)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a service client for https://devstoreaccount1.example.com,
// which the test server's client routes to the fake.
func (f *fakeKeyServer) client(t *testing.T) *service.Client {
	t.Helper()
	c, err := service.NewClient("https://devstoreaccount1.example.com/", fakeToken{}, &service.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: f.srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type fakeToken struct{}

func (fakeToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "fake-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func parseSAS(t *testing.T, raw string) (*url.URL, url.Values) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u, u.Query()
}

func TestUserDelegationSASFields(t *testing.T) {
	keys := newFakeKeyServer(t)
	now := &clock{t: time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)}
	s, err := blob.NewDelegationSigner(keys.client(t), "https://devstoreaccount1.example.com/videos", blob.SignerOptions{Now: now.Now})
	if err != nil {
		t.Fatal(err)
	}
	expiry := now.Now().Add(15 * time.Minute)
	raw, err := s.UploadURL(context.Background(), "user-1/video-1/source", expiry)
	if err != nil {
		t.Fatal(err)
	}
	u, q := parseSAS(t, raw)
	if u.Scheme != "https" || u.Host != "devstoreaccount1.example.com" || u.Path != "/videos/user-1/video-1/source" {
		t.Errorf("URL %s: want https://devstoreaccount1.example.com/videos/user-1/video-1/source", raw)
	}
	want := map[string]string{
		"sp":    "cw",                   // create + write, nothing else
		"sr":    "b",                    // one blob
		"spr":   "https",                // never over plain http
		"st":    "2026-11-25T20:55:00Z", // backdated for clock skew
		"se":    "2026-11-25T21:15:00Z", // the expiry asked for
		"skoid": fakeOID,                // the signed key fields of the delegation key
		"sktid": fakeTID,
		"skt":   "2026-11-25T20:54:00Z",
		"ske":   "2026-11-25T23:00:00Z", // DefaultKeyLifetime
		"sks":   "b",
		"skv":   "2025-11-05",
		"sv":    sas.Version,
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(q.Get("sig"))
	if err != nil || len(sig) != 32 {
		t.Errorf("sig %q is not a base64 HMAC-SHA256: %v", q.Get("sig"), err)
	}
	for _, k := range []string{"sk", "rsct", "sip", "si"} {
		if q.Has(k) {
			t.Errorf("unexpected parameter %s=%q", k, q.Get(k))
		}
	}
	if got := keys.asked[0]; *got.Start != "2026-11-25T20:54:00Z" || *got.Expiry != "2026-11-25T23:00:00Z" {
		t.Errorf("key requested for %s..%s", *got.Start, *got.Expiry)
	}

	raw, err = s.ReadURL(context.Background(), "user-1/video-1/source", "", "video/mp4", now.Now().Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_, q = parseSAS(t, raw)
	if q.Get("sp") != "r" || q.Get("sr") != "b" || q.Get("rsct") != "video/mp4" || q.Get("skoid") != fakeOID || q.Has("snapshot") {
		t.Errorf("read SAS: %s", raw)
	}
	// A completed upload is read from its snapshot: the SAS grants that
	// snapshot only (sr=bs), never the base blob the upload URL can write.
	const snap = "2026-11-25T21:00:00.1234567Z"
	raw, err = s.ReadURL(context.Background(), "user-1/video-1/source", snap, "video/mp4", now.Now().Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_, q = parseSAS(t, raw)
	if q.Get("sp") != "r" || q.Get("sr") != "bs" || q.Get("snapshot") != snap || q.Get("skoid") != fakeOID {
		t.Errorf("snapshot read SAS: %s", raw)
	}
	if _, err := s.ReadURL(context.Background(), "user-1/video-1/source", "yesterday", "video/mp4", now.Now().Add(30*time.Minute)); err == nil {
		t.Error("a read SAS was signed for a snapshot id that is not one")
	}
	if n := keys.keys.Load(); n != 1 {
		t.Errorf("%d delegation keys fetched, want 1 (cached)", n)
	}
}

func TestSignerRefusesLongLifetimes(t *testing.T) {
	s, err := blob.NewDelegationSigner(newFakeKeyServer(t).client(t), "https://acct.blob.core.windows.net/videos", blob.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.UploadURL(ctx, "a/b/source", time.Now().Add(16*time.Minute)); err == nil {
		t.Error("an upload SAS for 16 minutes was signed")
	}
	if _, err := s.ReadURL(ctx, "a/b/source", "", "video/mp4", time.Now().Add(2*time.Hour)); err == nil {
		t.Error("a read SAS for 2 hours was signed")
	}
}

func TestDelegationKeyIsCachedAndRenewed(t *testing.T) {
	keys := newFakeKeyServer(t)
	now := &clock{t: time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)}
	s, err := blob.NewDelegationSigner(keys.client(t), "https://devstoreaccount1.example.com/videos", blob.SignerOptions{Now: now.Now, KeyLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sign := func() url.Values {
		t.Helper()
		raw, err := s.UploadURL(ctx, "a/b/source", now.Now().Add(15*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		_, q := parseSAS(t, raw)
		return q
	}

	// Concurrent signers share one fetch.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { sign() })
	}
	wg.Wait()
	if n := keys.keys.Load(); n != 1 {
		t.Fatalf("%d keys fetched by 50 concurrent signers, want 1", n)
	}

	// 40 minutes later a 15-minute SAS still ends 5 minutes before the key.
	now.Add(40 * time.Minute)
	first := sign().Get("ske")
	if n := keys.keys.Load(); n != 1 {
		t.Fatalf("key renewed too early: %d fetches", n)
	}
	// One more minute and it would not: the key is renewed first.
	now.Add(time.Minute)
	q := sign()
	if n := keys.keys.Load(); n != 2 {
		t.Fatalf("%d keys fetched, want a renewal", n)
	}
	if q.Get("ske") == first || q.Get("ske") != "2026-11-25T22:41:00Z" {
		t.Errorf("renewed key expires %s (old %s)", q.Get("ske"), first)
	}

	// A failed fetch is an error and is retried by the next signer.
	now.Add(2 * time.Hour)
	keys.fail.Store(true)
	if _, err := s.UploadURL(ctx, "a/b/source", now.Now().Add(time.Minute)); err == nil {
		t.Fatal("signed without a key")
	}
	keys.fail.Store(false)
	sign()
	if n := keys.keys.Load(); n != 3 {
		t.Errorf("%d keys fetched, want 3", n)
	}
}

func TestDelegationSignerNeedsAHostStyleAccountURL(t *testing.T) {
	keys := newFakeKeyServer(t).client(t)
	for _, u := range []string{
		"http://127.0.0.1:10000/devstoreaccount1/videos", // Azurite: the SDK would sign for account "127"
		"http://localhost:10000/devstoreaccount1/videos",
		"https://[::1]:10000/devstoreaccount1/videos",
		"https://storage/videos",
	} {
		if _, err := blob.NewDelegationSigner(keys, u, blob.SignerOptions{}); err == nil || !strings.Contains(err.Error(), "connection string") {
			t.Errorf("%s: got %v, want a refusal that points to the connection string", u, err)
		}
	}
	if _, err := blob.NewDelegationSigner(keys, "https://acct.blob.core.windows.net/", blob.SignerOptions{}); err == nil {
		t.Error("an account URL without a container was accepted")
	}
}

// azuriteStore returns a store on a fresh container of Azurite.
func azuriteStore(t *testing.T) *blob.Store {
	t.Helper()
	s, err := blob.New(blob.Options{ConnectionString: testenv.Storage(t), Container: testenv.ContainerName()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureContainer(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Container().Delete(context.Background(), nil) })
	return s
}

func TestSharedKeySASAgainstAzurite(t *testing.T) {
	ctx := context.Background()
	store := azuriteStore(t)
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := mediatest.Video(t, "mp4")
	const name = "user-1/video-1/source"
	upload, err := signer.UploadURL(ctx, name, time.Now().Add(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, q := parseSAS(t, upload); q.Get("sp") != "cw" || q.Get("spr") != "https,http" {
		t.Errorf("Azurite is plain http, so the SAS must allow it: %s", upload)
	}
	c := http.DefaultClient
	if status, body, err := mediatest.Upload(c, upload, video, 4096, "video/mp4"); err != nil || status != 201 {
		t.Fatalf("block upload: %d %v %s", status, err, body)
	}

	// The upload URL can do nothing but write that one blob.
	other := strings.Replace(upload, "/video-1/", "/video-2/", 1)
	container, _, _ := strings.Cut(upload, "/user-1/")
	_, sasQuery, _ := strings.Cut(upload, "?")
	refusals := []struct {
		name   string
		method string
		url    string
	}{
		{"read", http.MethodGet, upload},
		{"read properties", http.MethodHead, upload},
		{"list the container", http.MethodGet, container + "?restype=container&comp=list&" + sasQuery},
		{"write another blob", http.MethodPut, other},
		{"delete", http.MethodDelete, upload},
	}
	for _, r := range refusals {
		req, _ := http.NewRequest(r.method, r.url, strings.NewReader("x"))
		req.Header.Set("x-ms-blob-type", "BlockBlob")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with the upload URL: %d, want 403", r.name, resp.StatusCode)
		}
	}

	// An expired upload URL is refused.
	expired, err := signer.UploadURL(ctx, "user-1/video-3/source", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := mediatest.PutBlob(c, expired, video); status != http.StatusForbidden {
		t.Errorf("expired upload URL: %d, want 403", status)
	}

	// The read URL serves the bytes with the type it names, whatever the
	// uploader set, and cannot write.
	read, err := signer.ReadURL(ctx, name, "", "video/webm", time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	status, ctype, got, err := mediatest.Get(c, read)
	if err != nil || status != 200 || ctype != "video/webm" || string(got) != string(video) {
		t.Errorf("read URL: %d %q, %d bytes (want %d) %v", status, ctype, len(got), len(video), err)
	}
	if status, _, _ := mediatest.PutBlob(c, read, []byte("overwrite")); status != http.StatusForbidden {
		t.Errorf("write with the read URL: %d, want 403", status)
	}
}

func TestSnapshotInspectSettleAndDeleteAgainstAzurite(t *testing.T) {
	ctx := context.Background()
	store := azuriteStore(t)
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const name = "u/v/source"
	if _, err := store.Snapshot(ctx, name); !errors.Is(err, media.ErrBlobNotFound) {
		t.Fatalf("Snapshot of a missing blob: %v", err)
	}
	if _, _, err := store.Inspect(ctx, name, "", 16); !errors.Is(err, media.ErrBlobNotFound) {
		t.Fatalf("Inspect of a missing blob: %v", err)
	}
	upload, _ := signer.UploadURL(ctx, name, time.Now().Add(time.Minute))
	checked := []byte("0123456789abcdef-and-more")
	if status, body, _ := mediatest.PutBlob(http.DefaultClient, upload, checked); status != 201 {
		t.Fatalf("put: %d %s", status, body)
	}
	snap, err := store.Snapshot(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	// The upload URL rewrites the base blob and snapshots it; the snapshot
	// taken first keeps the bytes it had, and only it is readable with its URL.
	if status, _, _ := mediatest.PutBlob(http.DefaultClient, upload, []byte("replaced")); status != 201 {
		t.Fatalf("rewrite: %d", status)
	}
	if status, _, _ := put(t, upload+"&comp=snapshot"); status != 201 {
		t.Fatalf("snapshot with the upload URL: %d", status)
	}
	if status, _, _ := put(t, upload+"&snapshot="+url.QueryEscape(snap)); status != http.StatusForbidden && status != http.StatusBadRequest {
		t.Errorf("write to the snapshot with the upload URL: %d, want a refusal", status)
	}
	size, head, err := store.Inspect(ctx, name, snap, 16)
	if err != nil || size != int64(len(checked)) || string(head) != "0123456789abcdef" {
		t.Fatalf("Inspect(snapshot) = %d %q %v", size, head, err)
	}
	if size, _, err := store.Inspect(ctx, name, "", 16); err != nil || size != int64(len("replaced")) {
		t.Fatalf("Inspect(base) = %d %v", size, err)
	}
	read, err := signer.ReadURL(ctx, name, snap, "video/mp4", time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, got, err := mediatest.Get(http.DefaultClient, read); err != nil || status != 200 || string(got) != string(checked) {
		t.Errorf("snapshot read URL: %d %q %v", status, got, err)
	}
	if base := strings.Replace(read, "snapshot="+url.QueryEscape(snap)+"&", "", 1); base == read {
		t.Fatalf("no snapshot parameter in %s", read)
	} else if status, _, _, _ := mediatest.Get(http.DefaultClient, base); status != http.StatusForbidden {
		t.Errorf("snapshot read URL used on the base blob: %d, want 403", status)
	}

	// Settle restores the base blob from the snapshot, deletes the other
	// snapshot and breaks a lease the URL's holder left.
	lc, _ := lease.NewBlobClient(store.Container().NewBlobClient(name), nil)
	if _, err := lc.AcquireLease(ctx, -1, nil); err != nil {
		t.Fatal(err)
	}
	if err := store.Settle(ctx, name, snap); err != nil {
		t.Fatal(err)
	}
	if size, head, err := store.Inspect(ctx, name, "", 16); err != nil || size != int64(len(checked)) || string(head) != "0123456789abcdef" {
		t.Errorf("base after Settle = %d %q %v", size, head, err)
	}
	if n := countVersions(t, store, name); n != 2 {
		t.Errorf("%d versions after Settle, want the blob and its snapshot", n)
	}
	if err := store.Settle(ctx, name, "2020-01-01T00:00:00.0000000Z"); !errors.Is(err, media.ErrBlobNotFound) {
		t.Errorf("Settle with a missing snapshot: %v", err)
	}

	// DeleteSnapshot deletes that one; Delete deletes the blob with every
	// snapshot; deleting again is fine.
	other, err := store.Snapshot(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := store.DeleteSnapshot(ctx, name, other); err != nil {
			t.Fatal(err)
		}
	}
	if n := countVersions(t, store, name); n != 2 {
		t.Errorf("%d versions after DeleteSnapshot, want 2", n)
	}
	for i := range 2 {
		if err := store.Delete(ctx, name); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if n := countVersions(t, store, name); n != 0 {
		t.Errorf("%d versions after Delete", n)
	}
}

// put sends an empty PUT to u, as a REST client would.
func put(t *testing.T, u string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader(""))
	req.Header.Set("x-ms-version", "2021-12-02")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	return resp.StatusCode, "", nil
}

// countVersions counts the blob and its snapshots.
func countVersions(t *testing.T, store *blob.Store, name string) int {
	t.Helper()
	n := 0
	pager := store.Container().NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix: to.Ptr(name), Include: container.ListBlobsInclude{Snapshots: true},
	})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Segment.BlobItems)
	}
	return n
}
