package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// minimalServer is the baseline of BenchmarkColdStart: the smallest Go
// program that answers GET /, built and measured the same way as the handler.
const minimalServer = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	http.ListenAndServe("127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), nil)
}
`

// BenchmarkColdStart measures the time from exec to the first 200 on GET /
// (the Functions host's readiness probe), with PostgreSQL unreachable, for
// the real handler binary and for a minimal Go HTTP server built the same
// way. It reports both and their ratio; the target is under 100 ms
// for the handler.
//
// "PostgreSQL stopped" is an address where nothing listens (127.0.0.1:1):
// to a client that is what a stopped server looks like, and it leaves the
// machine's PostgreSQL to the other tests.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	handlerBin := filepath.Join(dir, "handler")
	baselineBin := filepath.Join(dir, "baseline")
	build(b, dir, handlerBin, ".")
	src := filepath.Join(dir, "baseline.go")
	if err := os.WriteFile(src, []byte(minimalServer), 0o644); err != nil {
		b.Fatal(err)
	}
	build(b, dir, baselineBin, src)

	env := append(os.Environ(),
		"DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable",
		"REDIS_URL=redis://127.0.0.1:6379/0",
		"AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
		"JWT_SECRET=benchmark-secret-benchmark-secret-0123",
		"DATA_ENCRYPTION_KEY=bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1rZXktMzJieXQ=",
		"FRONTEND_URL=http://localhost:3000",
		"LOG_LEVEL=warn",
	)
	var handlerTotal, baselineTotal, handlerWorst time.Duration
	for b.Loop() {
		d := timeToReady(b, handlerBin, env)
		handlerTotal += d
		handlerWorst = max(handlerWorst, d)
		baselineTotal += timeToReady(b, baselineBin, env)
	}
	n := time.Duration(b.N)
	handlerMean, baselineMean := handlerTotal/n, baselineTotal/n
	b.ReportMetric(float64(handlerMean.Microseconds())/1000, "handler-ms")
	b.ReportMetric(float64(handlerWorst.Microseconds())/1000, "handler-worst-ms")
	b.ReportMetric(float64(baselineMean.Microseconds())/1000, "baseline-ms")
	b.ReportMetric(float64(handlerMean)/float64(baselineMean), "handler/baseline")
	b.Logf("cold start to GET / = 200, PostgreSQL unreachable, mean of %d: handler %v (worst %v), minimal Go server %v, ratio %.2f",
		b.N, handlerMean, handlerWorst, baselineMean, float64(handlerMean)/float64(baselineMean))
}

// timeToReady starts bin on a free port and returns how long it took until
// GET / answered 200. The process is stopped before returning.
func timeToReady(b *testing.B, bin string, env []string) time.Duration {
	b.Helper()
	port := freePort(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(env, "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start)
			}
		}
		if ctx.Err() != nil {
			b.Fatalf("%s not ready after 10 s", bin)
		}
		time.Sleep(200 * time.Microsecond)
	}
}
