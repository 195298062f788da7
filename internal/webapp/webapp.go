// Package webapp serves the frontend's static export (Next.js `output:
// "export"` with `trailingSlash: true`: out/<route>/index.html) and describes
// the same site to Azure Static Web Apps (staticwebapp.config.json), so both
// ways of hosting the frontend send the same Content-Security-Policy.
//
// The policy allows the app itself and the storage account the upload and
// playback URLs point at, and no inline script but the ones the export
// contains, by their SHA-256 hashes. Every page gets the same policy (the
// hashes of every HTML file of the export): Static Web Apps can only set one
// policy for the whole site, and a page that works when the function app
// serves the export then also works on Static Web Apps.
package webapp

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
)

// Site is a static export on disk, served read-only. Build it with Open.
type Site struct {
	root       *os.Root
	policy     string
	notFound   []byte // 404.html, nil when the export has none
	notFoundAt time.Time

	gzipMu    sync.Mutex
	gzipped   map[string]gzipEntry // by name in the export
	gzipBytes int                  // held in gzipped
}

// gzipEntry is a file compressed once, valid while the file keeps its size
// and modification time.
type gzipEntry struct {
	size    int64
	modTime time.Time
	data    []byte
}

// Compression bounds: smaller files gain nothing, larger ones are sent as
// they are rather than held in memory, and the cache stops growing past
// gzipCacheMax (an export's text is a few MiB).
const (
	gzipMinSize  = 1 << 10
	gzipMaxSize  = 8 << 20
	gzipCacheMax = 64 << 20
)

// Open reads the export in dir: it hashes the inline scripts of every HTML
// file for the policy and keeps 404.html in memory. storageOrigin (an
// origin such as https://account.blob.core.windows.net, or "") is allowed
// to be fetched, shown and played. Files added to dir later are served, but
// their inline scripts are not in the policy: the export is read-only once
// deployed.
func Open(dir, storageOrigin string) (*Site, error) {
	if storageOrigin != "" {
		o, err := Origin(storageOrigin)
		if err != nil || o != storageOrigin {
			return nil, fmt.Errorf("webapp: storage origin %q is not an origin (scheme://host[:port])", storageOrigin)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("webapp: open the frontend export: %w", err)
	}
	hashes, err := inlineScriptHashes(root.FS())
	if err != nil {
		root.Close()
		return nil, err
	}
	s := &Site{root: root, policy: Policy(storageOrigin, hashes), gzipped: map[string]gzipEntry{}}
	if f, err := root.Open("404.html"); err == nil {
		st, err1 := f.Stat()
		b, err2 := io.ReadAll(f)
		f.Close()
		if err := errors.Join(err1, err2); err != nil {
			root.Close()
			return nil, fmt.Errorf("webapp: read 404.html: %w", err)
		}
		s.notFound, s.notFoundAt = b, st.ModTime()
	}
	if _, err := root.Stat("index.html"); err != nil {
		root.Close()
		return nil, fmt.Errorf("webapp: %s has no index.html; is it the export (frontend/out)? %w", dir, err)
	}
	return s, nil
}

// Close releases the export's directory.
func (s *Site) Close() error { return s.root.Close() }

// ContentSecurityPolicy returns the policy every response of the site carries.
func (s *Site) ContentSecurityPolicy() string { return s.policy }

// Policy returns the page Content-Security-Policy: the app itself, the
// storage origin (uploads, playback, images) and inline scripts only by
// hash (scriptHashes are base64 SHA-256 digests). Styles may be inline: the
// export prerenders style attributes, which cannot be hashed per element.
func Policy(storageOrigin string, scriptHashes []string) string {
	with := func(sources ...string) string {
		var out []string
		for _, s := range sources {
			if s != "" {
				out = append(out, s)
			}
		}
		return strings.Join(out, " ")
	}
	script := []string{"'self'"}
	for _, h := range scriptHashes {
		script = append(script, "'sha256-"+h+"'")
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src " + with(script...),
		"style-src 'self' 'unsafe-inline'",
		"img-src " + with("'self'", "data:", "blob:", storageOrigin),
		"media-src " + with("'self'", "blob:", storageOrigin),
		"connect-src " + with("'self'", storageOrigin),
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// Origin returns the origin (scheme://host[:port]) of an http or https URL,
// such as a blob endpoint with its account path.
func Origin(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("webapp: %q is not an http(s) URL", rawURL)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// inlineScriptHashes returns the sorted, distinct base64 SHA-256 digests of
// the inline <script> elements of every .html file in fsys.
func inlineScriptHashes(fsys fs.FS) ([]string, error) {
	seen := map[string]bool{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(name, ".html") {
			return nil
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		for _, script := range inlineScripts(b) {
			sum := sha256.Sum256([]byte(script))
			seen[base64.StdEncoding.EncodeToString(sum[:])] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webapp: hash inline scripts: %w", err)
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	slices.Sort(out)
	return out, nil
}

// inlineScripts returns the text of every <script> element without src, as
// the browser hashes it: the tokenizer keeps script text raw (no entity
// decoding) and normalises newlines as HTML parsing does.
func inlineScripts(page []byte) []string {
	var out []string
	z := html.NewTokenizer(bytes.NewReader(page))
	inScript := false
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "script" {
				continue
			}
			src := false
			for hasAttr {
				var key []byte
				key, _, hasAttr = z.TagAttr()
				if string(key) == "src" {
					src = true
				}
			}
			inScript, text = !src, strings.Builder{}
		case html.TextToken:
			if inScript {
				text.Write(z.Text())
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "script" && inScript {
				if text.Len() > 0 {
					out = append(out, text.String())
				}
				inScript = false
			}
		}
	}
}

// immutablePrefix holds the hashed, versioned build output: a file there
// never changes under its name.
const immutablePrefix = "/_next/static/"

// ServeHTTP serves GET and HEAD of the export: /x/ and /x serve
// x/index.html, plain files are served as they are (with Range and
// conditional requests), anything else is 404.html with status 404. No
// directory is ever listed and no name leaves the export (os.Root). It sets
// the page policy and caching; the other security headers come from the
// middleware around it.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.policy)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, name := s.open(r.URL.Path)
	if f == nil {
		s.serveNotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.serveNotFound(w, r)
		return
	}
	ctype := contentType(name)
	h.Set("Content-Type", ctype)
	if strings.HasPrefix(r.URL.Path, immutablePrefix) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if compressible(ctype) {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header) {
			if gz := s.gzip(name, st, f); gz != nil {
				// Ranges then apply to the compressed bytes, as HTTP
				// defines them for a content coding.
				h.Set("Content-Encoding", "gzip")
				http.ServeContent(w, r, name, st.ModTime(), bytes.NewReader(gz))
				return
			}
		}
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// compressible reports whether a type is text worth compressing (the
// export's HTML, scripts, styles, RSC payloads, JSON and SVG).
func compressible(ctype string) bool {
	mt, _, _ := strings.Cut(ctype, ";")
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "image/svg+xml" ||
		mt == "application/manifest+json" || mt == "application/xml"
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip:
// gzip listed with a q above 0, or else * with a q above 0.
func acceptsGzip(h http.Header) bool {
	star := false
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			if k, v, ok := strings.Cut(params, "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip":
				return q > 0
			case "*":
				star = q > 0
			}
		}
	}
	return star
}

// gzip returns the file compressed, from the cache or compressed now (and
// kept while the cache has room), or nil when it is not worth it or fails.
func (s *Site) gzip(name string, st fs.FileInfo, f io.Reader) []byte {
	if st.Size() < gzipMinSize || st.Size() > gzipMaxSize {
		return nil
	}
	s.gzipMu.Lock()
	e, ok := s.gzipped[name]
	s.gzipMu.Unlock()
	if ok && e.size == st.Size() && e.modTime.Equal(st.ModTime()) {
		return e.data
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := io.Copy(zw, f); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	data := buf.Bytes()
	s.gzipMu.Lock()
	defer s.gzipMu.Unlock()
	if old, ok := s.gzipped[name]; ok {
		s.gzipBytes -= len(old.data)
		delete(s.gzipped, name)
	}
	if s.gzipBytes+len(data) <= gzipCacheMax {
		s.gzipped[name] = gzipEntry{size: st.Size(), modTime: st.ModTime(), data: data}
		s.gzipBytes += len(data)
	}
	return data
}

// open returns the regular file urlPath names and its name in the export,
// or nil: /x/ is x/index.html; /x is the file x, else x/index.html, else
// x.html. Names with a segment starting with a dot are never served.
func (s *Site) open(urlPath string) (*os.File, string) {
	rel := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	var candidates []string
	switch {
	case rel == "":
		candidates = []string{"index.html"}
	case strings.HasSuffix(urlPath, "/"):
		candidates = []string{rel + "/index.html"}
	default:
		candidates = []string{rel, rel + "/index.html", rel + ".html"}
	}
	if slices.ContainsFunc(strings.Split(rel, "/"), func(seg string) bool { return strings.HasPrefix(seg, ".") }) {
		return nil, ""
	}
	for _, name := range candidates {
		f, err := s.root.Open(name)
		if err != nil {
			continue
		}
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return f, name
		}
		f.Close()
	}
	return nil, ""
}

func (s *Site) serveNotFound(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	if s.notFound == nil {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 page not found\n")
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(len(s.notFound)))
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		w.Write(s.notFound)
	}
}

// contentTypes are the types of the files a Next.js export holds, so they
// do not depend on the machine's mime tables. The RSC payloads (*.txt) must
// be text/plain: the exported client accepts them by that type.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".xml":         "application/xml",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
