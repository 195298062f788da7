package httpapi

import "net/http"

// route is one entry of the HTTP surface: a Go 1.22 ServeMux pattern.
type route struct {
	pattern string
	handler http.Handler
}

// routes lists the whole surface of the handler. Patterns under /api are
// forwarded HTTP functions (each has a functions/<name>/function.json whose
// route matches, and an entry in openapi.yaml); POST /<name> patterns are
// the non-HTTP functions of the same folder name. Tests keep the three in
// step.
func (s *Server) routes() []route {
	return []route{
		{"GET /{$}", http.HandlerFunc(s.ready)},

		{"GET /api/health", s.handle(s.health)},
		{"GET /api/openapi.json", s.handle(s.openAPI)},

		{"POST /import-worker", s.trigger("import-worker", s.queueTrigger(s.importWorker))},
		{"POST /video-processor", s.trigger("video-processor", s.queueTrigger(s.videoProcessor))},
		{"POST /import-sweeper", s.trigger("import-sweeper", s.sweepTrigger(s.sweeper))},
	}
}
