package mediatool_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/mediatool"
	"github.com/videofn/videofn/internal/sandbox"
	"github.com/videofn/videofn/internal/testenv"
)

// probeBenchBytes is the size of the probed file.
const probeBenchBytes = 1 << 30

// BenchmarkProbe1GiB probes a 1 GiB MP4 through a read URL, sandboxed and
// through the storage proxy as in production, and reports the time per
// probe (target: under 1 s), the bytes storage sent (only the header is
// read, with range requests) and the ratio against ffprobe run directly on
// the local copy of the same file in the same run.
//
//   - faststart: the index at the start (-movflags +faststart), in Azurite,
//     read through a SAS read URL;
//   - moov-last: the index at the end (ffmpeg's default layout), so ffprobe
//     must seek there first; served from the local file by an HTTP server
//     with range support (Azurite keeps blobs in memory: one 1 GiB blob per
//     run is enough).
func BenchmarkProbe1GiB(b *testing.B) {
	// Set up once: the parent of sub-benchmarks runs once, each
	// sub-benchmark several times (as b.N grows).
	fast := mediatest.BigMP4(b, probeBenchBytes, true)
	last := mediatest.BigMP4(b, probeBenchBytes, false)
	ctx := context.Background()
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(b), Container: testenv.ContainerName()})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureContainer(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Container().Delete(context.Background(), nil) })
	f, err := os.Open(fast)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := store.Container().NewBlockBlobClient("big.mp4").UploadFile(ctx, f,
		&blockblob.UploadFileOptions{BlockSize: 8 << 20, Concurrency: 4}); err != nil {
		b.Fatal(err)
	}
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	readURL, err := signer.ReadURL(ctx, "big.mp4", "", "video/mp4", time.Now().Add(30*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, last)
	}))
	b.Cleanup(srv.Close)

	b.Run("faststart", func(b *testing.B) { benchProbe(b, store.Container().URL(), readURL, fast) })
	b.Run("moov-last", func(b *testing.B) { benchProbe(b, srv.URL, srv.URL+"/big.mp4", last) })
}

func benchProbe(b *testing.B, storage, readURL, local string) {
	b.Helper()
	r, err := mediatool.New(mediatool.Options{Storage: storage, Sandbox: sandbox.Launcher{Self: mediatest.HandlerBinary()}.Wrap})
	if err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(local)
	if err != nil {
		b.Fatal(err)
	}
	var bytesRead int64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		got, err := r.Probe(context.Background(), readURL)
		if err != nil {
			b.Fatal(err)
		}
		if got.SizeBytes != info.Size() || got.DurationSeconds <= 0 {
			b.Fatalf("probe: size %d duration %v, want %d and a duration", got.SizeBytes, got.DurationSeconds, info.Size())
		}
		bytesRead = got.BytesRead
	}
	remote := time.Since(start) / time.Duration(b.N)
	b.StopTimer()

	// Baseline: the same ffprobe command on the local copy, unconfined.
	start = time.Now()
	for range b.N {
		cmd := exec.Command("ffprobe", "-v", "error", "-hide_banner", "-print_format", "json", "-show_format", "-show_streams", "-i", local)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("ffprobe on the local file: %v\n%s", err, out)
		}
	}
	baseline := time.Since(start) / time.Duration(b.N)

	b.ReportMetric(float64(remote.Milliseconds()), "probe-ms")
	b.ReportMetric(float64(baseline.Milliseconds()), "local-ms")
	b.ReportMetric(float64(remote)/float64(baseline), "x-local")
	b.ReportMetric(float64(bytesRead), "bytes-read")
	b.ReportMetric(float64(bytesRead)/float64(info.Size())*100, "%-of-file")
	b.Logf("file %d bytes; probe through the read URL %v (target < 1s), ffprobe on the local file %v, ratio %.2f; storage sent %d bytes (%.3f%% of the file)",
		info.Size(), remote, baseline, float64(remote)/float64(baseline), bytesRead, float64(bytesRead)/float64(info.Size())*100)
	if remote >= time.Second {
		b.Errorf("probe took %v, target under 1 s", remote)
	}
}
