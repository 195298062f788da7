package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/apitest"
	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/httpapi"
)

// TestAuthProvidersSaysWhetherGoogleIsConfigured: the sign-in page asks
// which buttons to show, without a session, and may cache the answer
// briefly.
func TestAuthProvidersSaysWhetherGoogleIsConfigured(t *testing.T) {
	spec := apitest.New(t)
	for _, google := range []bool{false, true} {
		logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
		tokens, err := auth.NewTokens([]byte(testSecret), 15*time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		frontend, _ := url.Parse(testFrontend)
		// The route reads only the configuration: no store, limiter or mail.
		svc := auth.NewService(auth.Options{BcryptCost: 4, FrontendURL: frontend}, nil, nil, nil, nil, tokens, logger, nil)
		if google {
			svc.EnableGoogle(auth.GoogleOptions{
				ClientID: "client-id", ClientSecret: "client-secret", RedirectURL: "http://api.test/api/auth/oauth/callback",
				AuthURL: "http://google.test/auth", TokenURL: "http://google.test/token", UserinfoURL: "http://google.test/userinfo",
			}, []byte(testSecret))
		}
		srv := httptest.NewServer(httpapi.NewServer(httpapi.Options{
			Logger: logger, Auth: svc, FrontendURL: testFrontend,
			ImportWorker: noJobs{}, VideoProcessor: noJobs{}, Sweeper: noJobs{},
		}))
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/auth/providers", nil)
		res, body := spec.Do(t, srv.Client(), req)
		srv.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("google=%v: status %d: %s", google, res.StatusCode, body)
		}
		var got struct{ Password, Google bool }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !got.Password || got.Google != google {
			t.Errorf("google configured %v: got %+v", google, got)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=60" {
			t.Errorf("Cache-Control %q, want public, max-age=60", cc)
		}
	}
}
