package httpapi

import (
	"net/http"

	"github.com/google/uuid"
)

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

		{"GET /api/auth/providers", s.handle(s.authProviders)},
		{"POST /api/auth/register", s.handle(s.register)},
		{"POST /api/auth/verify-email", s.handle(s.verifyEmail)},
		{"POST /api/auth/resend-verification", s.handle(s.resendVerification)},
		{"POST /api/auth/login", s.handle(s.login)},
		{"POST /api/auth/refresh", s.handle(s.refresh)},
		{"POST /api/auth/logout", s.handle(s.logout)},
		{"POST /api/auth/logout-all", s.authed(s.logoutAll)},
		{"POST /api/auth/password/forgot", s.handle(s.forgotPassword)},
		{"POST /api/auth/password/reset", s.handle(s.resetPassword)},
		{"POST /api/auth/password/change", s.authed(s.changePassword)},
		{"GET /api/auth/oauth/google/start", s.handle(s.googleStart)},
		{"GET /api/auth/oauth/callback", s.handle(s.googleCallback)},
		{"POST /api/auth/setup-session", s.handle(s.setupSession)},
		{"GET /api/users/me", s.authed(s.getMe)},
		{"PATCH /api/users/me", s.authed(s.patchMe)},

		{"POST /api/uploads", s.authed(s.createUpload)},
		{"GET /api/uploads/{video_id}", s.authed(s.getUpload)},
		{"POST /api/uploads/{video_id}/renew", s.authed(s.renewUpload)},
		{"POST /api/uploads/{video_id}/complete", s.authed(s.completeUpload)},
		{"GET /api/videos", s.authed(s.listVideos)},
		{"GET /api/videos/{id}", s.authed(s.getVideo)},
		{"DELETE /api/videos/{id}", s.authed(s.deleteVideo)},
		{"POST /api/videos/{id}/clips", s.authed(s.createClip)},
		{"GET /api/videos/{id}/clips", s.authed(s.listClips)},
		{"GET /api/clips/{id}", s.authed(s.getClip)},
		{"DELETE /api/clips/{id}", s.authed(s.deleteClip)},

		{"POST /api/posts", s.authed(s.createPost)},
		{"GET /api/posts", s.authed(s.listPosts)},
		{"GET /api/posts/{id}", s.authed(s.getPost)},
		{"POST /api/posts/{id}/cancel", s.authed(s.cancelPost)},
		{"GET /api/social-accounts/platforms", s.authed(s.socialPlatforms)},
		{"POST /api/social-accounts/{platform}/connect", s.authed(s.connectSocial)},
		{"GET /api/social-accounts/{platform}/callback", s.handle(s.socialCallback)},
		{"GET /api/social-accounts", s.authed(s.listSocial)},
		{"DELETE /api/social-accounts/{id}", s.authed(s.deleteSocial)},

		{"POST /api/imports", s.authed(s.createImport)},
		{"GET /api/imports/{video_id}", s.handle(s.getImport)}, // authenticated in getImport, with its reads
		{"POST /api/imports/{video_id}/cancel", s.authed(s.cancelImport)},

		{"POST /import-worker", s.trigger("import-worker", s.queueTrigger(s.importWorker))},
		{"POST /video-processor", s.trigger("video-processor", s.queueTrigger(s.videoProcessor))},
		{"POST /publish-worker", s.trigger("publish-worker", s.queueTrigger(s.publishWorker))},
		{"POST /import-sweeper", s.trigger("import-sweeper", s.sweepTrigger(s.sweeper))},
		{"POST /mail-sender", s.trigger("mail-sender", s.mailTrigger())},
	}
}

// parseID returns the path value name as a UUID, and false unless it is in
// canonical form: 36 characters, lower-case hex, hyphenated 8-4-4-4-12.
// uuid.Parse alone also accepts upper case, braces, a urn:uuid: prefix and
// no hyphens; one resource must have one URL (caches, logs, audit and
// rate-limit keys see the same id), so every {id} route answers those
// forms 404 not_found, like an id that names nothing.
func parseID(r *http.Request, name string) (uuid.UUID, bool) {
	s := r.PathValue(name)
	id, err := uuid.Parse(s)
	if err != nil || id.String() != s {
		return uuid.Nil, false
	}
	return id, true
}
