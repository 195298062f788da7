package posts_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/posts"
	"github.com/videofn/videofn/internal/social/youtubetest"
	"github.com/videofn/videofn/internal/testenv"
)

// benchContainer keeps the 1 GiB blob between runs.
const benchContainer = "bench-posts"

// BenchmarkPublish1GiB publishes a 1 GiB blob (mediatest.BigMP4) from
// Azurite to the fake YouTube with the resumable-upload publisher, and in
// the same run copies it with a plain ranged-GET/PUT loop (net/http, a read
// URL, the same 8 MiB chunks, the same protocol), and reports
// plain_s/publish_s (target >= 0.9) and the process's peak RSS during the
// publish (VmHWM after clear_refs; target < 100 MiB; the fake's server is
// in the same process, so this is an upper bound).
func BenchmarkPublish1GiB(b *testing.B) {
	ctx := context.Background()
	path := mediatest.BigMP4(b, 1<<30, true)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	size := fi.Size()
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(b), Container: benchContainer})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureContainer(ctx); err != nil {
		b.Fatal(err)
	}
	const name = "source-1gib.mp4"
	props, err := store.Container().NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil || props.ContentLength == nil || *props.ContentLength != size {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		_, err = store.Container().NewBlockBlobClient(name).UploadFile(ctx, f, &blockblob.UploadFileOptions{BlockSize: 8 << 20, Concurrency: 4})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	want := fileSHA256(b, path)
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	readURL, err := signer.ReadURL(ctx, name, "", "video/mp4", time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	fake := youtubetest.StartUploads(b, nil)
	const chunkSize = 8 << 20
	pub := &posts.YouTube{UploadURL: fake.URL, ChunkSize: chunkSize}
	ranges := posts.BlobRanges{Client: store.Container()}

	var publishTime, plainTime time.Duration
	var peak int64
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := plainCopy(ctx, readURL, fake.URL, size, chunkSize); err != nil {
			b.Fatal(err)
		}
		plainTime += time.Since(start)
		if got := <-fake.Finished(); got.SHA256 != want {
			b.Fatalf("plain copy: the fake got sha256 %s, want %s", got.SHA256, want)
		}

		resetPeakRSS(b)
		start = time.Now()
		res, err := pub.Publish(ctx, posts.PublishRequest{
			Token: func(context.Context) (string, error) { return "bench", nil },
			Title: "bench", Privacy: posts.PrivacyPrivate, Size: size, ContentType: "video/mp4",
			Open: func(ctx context.Context, offset, count int64) (io.ReadCloser, error) {
				return ranges.OpenRange(ctx, name, "", offset, count)
			},
			Saved: func(context.Context, string, int64) error { return nil },
		})
		if err != nil {
			b.Fatal(err)
		}
		publishTime += time.Since(start)
		peak = max(peak, peakRSS(b))
		if got := <-fake.Finished(); got.SHA256 != want || got.VideoID != res.ExternalID {
			b.Fatalf("publish: the fake got %+v, want sha256 %s and id %s", got, want, res.ExternalID)
		}
	}
	b.StopTimer()
	mib := float64(size) / (1 << 20) * float64(b.N)
	b.ReportMetric(mib/publishTime.Seconds(), "publish_MiB/s")
	b.ReportMetric(mib/plainTime.Seconds(), "plain_MiB/s")
	b.ReportMetric(plainTime.Seconds()/publishTime.Seconds(), "plain_s/publish_s")
	b.ReportMetric(float64(peak)/(1<<20), "peak_RSS_MiB")
}

// plainCopy is the baseline: start a session, then for each chunk one
// ranged GET of the read URL streamed into one PUT, nothing else.
func plainCopy(ctx context.Context, readURL, uploadURL string, size, chunk int64) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, uploadURL+"?uploadType=resumable&part=snippet,status",
		strings.NewReader(`{"snippet":{"title":"plain"},"status":{"privacyStatus":"private"}}`))
	req.Header.Set("Authorization", "Bearer plain")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(size, 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	session := resp.Header.Get("Location")
	for off := int64(0); off < size; off += chunk {
		end := min(off+chunk, size)
		get, _ := http.NewRequestWithContext(ctx, http.MethodGet, readURL, nil)
		get.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, end-1))
		src, err := http.DefaultClient.Do(get)
		if err != nil {
			return err
		}
		put, _ := http.NewRequestWithContext(ctx, http.MethodPut, session, src.Body)
		put.ContentLength = end - off
		put.Header.Set("Authorization", "Bearer plain")
		put.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, end-1, size))
		resp, err := http.DefaultClient.Do(put)
		src.Body.Close()
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect && resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("put %d: %s", off, resp.Status)
		}
	}
	return nil
}

func fileSHA256(tb testing.TB, path string) string {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// resetPeakRSS resets the process's VmHWM (Linux: clear_refs 5).
func resetPeakRSS(tb testing.TB) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Logf("cannot reset the peak RSS (%v): it counts since the start", err)
	}
}

// peakRSS is VmHWM in bytes.
func peakRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/self/status")
	return 0
}
