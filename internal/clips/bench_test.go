package clips_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/clips"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/mediatool"
	"github.com/videofn/videofn/internal/testenv"
)

// benchContainer keeps the 1 GiB blob between runs (uploading it takes
// longer than the benchmark).
const benchContainer = "bench-clips"

// bigMP4 returns the shared ~1 GiB H.264/AAC MP4 (faststart) cached in the
// OS temp directory, and its duration in seconds.
func bigMP4(b *testing.B) (string, float64) {
	b.Helper()
	big := mediatest.BigMP4(b, 1<<30, true)
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", big).Output()
	if err != nil {
		b.Fatal(err)
	}
	var d float64
	fmt.Sscan(strings.TrimSpace(string(out)), &d)
	return big, d
}

// BenchmarkClipFromReadURL renders a 10 s clip from the middle of a 1 GiB
// MP4 through a read URL of Azurite (mediatool: the storage-only proxy,
// input seek with range requests) and with the same ffmpeg command on a
// local copy, and reports local/url (target >= 0.8: reading through the
// URL costs little) and the bytes the URL run read.
func BenchmarkClipFromReadURL(b *testing.B) {
	path, duration := bigMP4(b)
	ctx := context.Background()
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(b), Container: benchContainer})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureContainer(ctx); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	const name = "source-1gib.mp4"
	props, err := store.Container().NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil || props.ContentLength == nil || *props.ContentLength != fi.Size() {
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
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	readURL, err := signer.ReadURL(ctx, name, "", "video/mp4", time.Now().Add(30*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	runner, err := mediatool.New(mediatool.Options{Storage: store.Service().URL()})
	if err != nil {
		b.Fatal(err)
	}
	start := duration/2 - 5
	var urlTime, localTime time.Duration
	var read int64
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		p, err := runner.Start(ctx, clips.Args(readURL, start, 10, false, false), readURL)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, p.Stdout)
		if err := p.Wait(); err != nil || n == 0 {
			b.Fatalf("ffmpeg through the read URL: %v (%d bytes)\n%s", err, n, p.Stderr())
		}
		urlTime += time.Since(t0)
		read += p.BytesRead()

		t0 = time.Now()
		cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-hide_banner"}, clips.Args(path, start, 10, false, false)...)...)
		cmd.Stdout = io.Discard
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("ffmpeg on the local copy: %v\n%s", err, stderr.String())
		}
		localTime += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(urlTime.Seconds()/float64(b.N), "url-s/op")
	b.ReportMetric(localTime.Seconds()/float64(b.N), "local-s/op")
	b.ReportMetric(localTime.Seconds()/urlTime.Seconds(), "local/url")
	b.ReportMetric(float64(read)/float64(b.N), "url-bytes-read/op")
	b.Logf("1 GiB source (%d bytes, %.0f s); 10 s clip from %.1f s: through the read URL %v, local copy %v, ratio local/url %.2f (target >= 0.8); %d bytes read through the URL",
		fi.Size(), duration, start, urlTime/time.Duration(b.N), localTime/time.Duration(b.N), localTime.Seconds()/urlTime.Seconds(), read/int64(b.N))
}
