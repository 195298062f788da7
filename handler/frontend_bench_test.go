package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
)

const browserUploadBytes = 256 << 20

// BenchmarkBrowserUpload256MiB uploads a 256 MiB file to Azurite through
// the app's own uploader in headless Chromium (frontend/e2e/bench: sign in,
// choose the file on /upload, wait for "Uploaded"; the wall time includes
// creating the upload and completing it; the storage part alone is
// reported too), and, in the same run, the same file with azblob's
// UploadStream (8 MiB blocks, 4 in flight). It reports the throughputs,
// their ratio (target >= 0.8) and the tab's peak memory:
// the JavaScript heap (CDP Performance.getMetrics) and the renderer
// process's resident set (/proc).
func BenchmarkBrowserUpload256MiB(b *testing.B) {
	ctx := context.Background()
	s := startFrontendStack(b)

	const email, password = "bench@example.com", "benchmark password"
	conn, err := pgx.Connect(ctx, s.env["DATABASE_URL"])
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), 4)
	if _, err := conn.Exec(ctx, `INSERT INTO users (email, name, password_hash, email_verified_at) VALUES ($1, 'Bench', $2, now())`, email, string(hash)); err != nil {
		b.Fatal(err)
	}

	dir := b.TempDir()
	file := filepath.Join(dir, "bench-256MiB.mp4")
	writePaddedMP4(b, file, browserUploadBytes)
	store, err := blob.New(blob.Options{ConnectionString: s.env["AZURE_STORAGE_CONNECTION_STRING"], Container: s.env["BLOB_CONTAINER"]})
	if err != nil {
		b.Fatal(err)
	}

	var browserTotal, transferTotal, baselineTotal time.Duration
	var peakHeap, peakRSS, startRSS float64
	b.ResetTimer()
	for i := range b.N {
		// Browser: the app's uploader, timed by the page script.
		resultFile := filepath.Join(dir, fmt.Sprintf("result-%d.json", i))
		s.runE2E(b, 30*time.Minute, "E2E_SUITE=bench", "E2E_EMAIL="+email, "E2E_PASSWORD="+password,
			"E2E_UPLOAD_FILE="+file, "E2E_RESULT_FILE="+resultFile)
		raw, err := os.ReadFile(resultFile)
		if err != nil {
			b.Fatal(err)
		}
		var r struct {
			Seconds            float64 `json:"seconds"`
			TransferSeconds    float64 `json:"transferSeconds"`
			PeakJSHeapMiB      float64 `json:"peakJSHeapMiB"`
			PeakRendererRSSMiB float64 `json:"peakRendererRSSMiB"`
			RSSAtStartMiB      float64 `json:"rendererRSSAtStartMiB"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			b.Fatalf("%s: %v", raw, err)
		}
		browserTotal += time.Duration(r.Seconds * float64(time.Second))
		transferTotal += time.Duration(r.TransferSeconds * float64(time.Second))
		peakHeap, peakRSS, startRSS = max(peakHeap, r.PeakJSHeapMiB), max(peakRSS, r.PeakRendererRSSMiB), max(startRSS, r.RSSAtStartMiB)
		var status string
		var size int64
		if err := conn.QueryRow(ctx, `SELECT status, coalesce(size_bytes, 0) FROM videos ORDER BY created_at DESC LIMIT 1`).Scan(&status, &size); err != nil {
			b.Fatal(err)
		}
		if status != "ready" || size != browserUploadBytes {
			b.Fatalf("after the browser upload: video %s with %d bytes, want ready with %d", status, size, browserUploadBytes)
		}

		// Baseline: UploadStream from the same file, 8 MiB x 4.
		f, err := os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		bb := store.Container().NewBlockBlobClient(fmt.Sprintf("baseline-%d", i))
		start := time.Now()
		_, err = bb.UploadStream(ctx, f, &blockblob.UploadStreamOptions{BlockSize: 8 << 20, Concurrency: 4})
		baselineTotal += time.Since(start)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		bb.Delete(ctx, nil)
	}
	b.StopTimer()
	mibps := func(d time.Duration) float64 { return float64(b.N) * browserUploadBytes / (1 << 20) / d.Seconds() }
	browser, transfer, baseline := mibps(browserTotal), mibps(transferTotal), mibps(baselineTotal)
	b.ReportMetric(browser, "browser-MiB/s")
	b.ReportMetric(transfer, "browser-storage-MiB/s")
	b.ReportMetric(baseline, "baseline-MiB/s")
	b.ReportMetric(browser/baseline, "browser/baseline")
	b.ReportMetric(peakHeap, "tab-peak-JS-heap-MiB")
	b.ReportMetric(peakRSS, "tab-peak-RSS-MiB")
	b.Logf("256 MiB upload x%d: browser (the app's uploader in Chromium, file chosen to \"Uploaded\") %.1f MiB/s, of which storage alone (first Put Block to Put Block List) %.1f MiB/s; baseline azblob UploadStream 8 MiB x 4 %.1f MiB/s",
		b.N, browser, transfer, baseline)
	b.Logf("ratio browser/baseline %.3f (target >= 0.8); storage part alone %.3f; tab peak JS heap %.1f MiB, renderer peak RSS %.1f MiB (%.1f MiB before the upload)",
		browser/baseline, transfer/baseline, peakHeap, peakRSS, startRSS)
}

// writePaddedMP4 writes a real, playable MP4 of n bytes to path: the
// two-second test pattern (moov first) followed by a `free` box of
// pseudo-random bytes, which players and ffprobe skip and which do not
// compress. Uploads of it complete, are probed and play like any video.
func writePaddedMP4(tb testing.TB, path string, n int) {
	tb.Helper()
	clip := mediatest.Video(tb, "mp4")
	pad := n - len(clip)
	if pad < 8 || pad > math.MaxUint32 {
		tb.Fatalf("writePaddedMP4: %d bytes cannot hold the %d-byte clip and a free box", n, len(clip))
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(clip)
	w.Write(binary.BigEndian.AppendUint32(nil, uint32(pad)))
	w.WriteString("free")
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	for left := pad - 8; left > 0; left -= len(buf) {
		rng.Read(buf)
		w.Write(buf[:min(left, len(buf))])
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}
