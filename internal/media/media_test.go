package media

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func testService() *Service {
	return NewService(Options{Container: "videos", UploadMaxBytes: 1000, QuotaBytes: 5000}, nil, nil, nil)
}

func TestValidateUpload(t *testing.T) {
	tests := []struct {
		name      string
		req       UploadRequest
		wantTitle string
		wantType  string
		problems  map[string]string // field -> part of the message
	}{
		{"valid", UploadRequest{"holiday.mp4", "video/mp4", 1000}, "holiday.mp4", "video/mp4", nil},
		{"path dropped from the title", UploadRequest{`C:\Users\me\clip.MOV`, "video/quicktime", 1}, "clip.MOV", "video/quicktime", nil},
		{"unix path", UploadRequest{" /tmp/../etc/a b.webm ", "video/webm; codecs=vp8", 10}, "a b.webm", "video/webm", nil},
		{"missing everything", UploadRequest{}, "", "", map[string]string{"filename": "required", "content_type": "must be one of", "size_bytes": "at least 1"}},
		{"only a directory", UploadRequest{"videos/", "video/mp4", 1}, "", "video/mp4", map[string]string{"filename": "required"}},
		{"control characters", UploadRequest{"a\x00b.mp4", "video/mp4", 1}, "", "video/mp4", map[string]string{"filename": "control characters"}},
		{"invalid UTF-8", UploadRequest{"a\xffb.mp4", "video/mp4", 1}, "", "video/mp4", map[string]string{"filename": "control characters"}},
		{"too long", UploadRequest{strings.Repeat("é", 256), "video/mp4", 1}, "", "video/mp4", map[string]string{"filename": "at most 255"}},
		{"not a video type", UploadRequest{"a.html", "text/html", 1}, "a.html", "", map[string]string{"content_type": "video/mp4"}},
		{"over the cap", UploadRequest{"a.mp4", "video/mp4", 1001}, "a.mp4", "video/mp4", map[string]string{"size_bytes": "at most 1000"}},
		{"negative size", UploadRequest{"a.mp4", "video/mp4", -5}, "a.mp4", "video/mp4", map[string]string{"size_bytes": "at least 1"}},
	}
	s := testService()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title, ctype, problems := s.validate(tt.req)
			if len(problems) != len(tt.problems) {
				t.Fatalf("problems %v, want %v", problems, tt.problems)
			}
			for field, want := range tt.problems {
				if !strings.Contains(problems[field], want) {
					t.Errorf("%s: %q, want it to mention %q", field, problems[field], want)
				}
			}
			if len(tt.problems) == 0 && (title != tt.wantTitle || ctype != tt.wantType) {
				t.Errorf("got %q %q, want %q %q", title, ctype, tt.wantTitle, tt.wantType)
			}
		})
	}
}

func TestBlobNameIsServerChosen(t *testing.T) {
	user, video := uuid.New(), uuid.New()
	if got, want := blobName(user, video), user.String()+"/"+video.String()+"/source"; got != want {
		t.Errorf("blobName = %q, want %q", got, want)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	p := Position{CreatedAt: time.Date(2026, 11, 25, 21, 4, 5, 123456000, time.UTC), ID: uuid.New()}
	got, ok := decodeCursor(encodeCursor(p))
	if !ok || !got.CreatedAt.Equal(p.CreatedAt) || got.ID != p.ID {
		t.Fatalf("round trip: %+v %v, want %+v", got, ok, p)
	}
	for _, bad := range []string{"x", "not base64!", encodeCursor(p) + "A", encodeCursor(Position{CreatedAt: p.CreatedAt})} {
		if _, ok := decodeCursor(bad); ok {
			t.Errorf("decodeCursor(%q) accepted garbage", bad)
		}
	}
}

func TestUploadURLLifetimeIsCapped(t *testing.T) {
	s := NewService(Options{Container: "videos", UploadMaxBytes: 1, QuotaBytes: 1, UploadURLTTL: time.Hour}, nil, nil, nil)
	if got := s.UploadURLTTL(); got != MaxUploadURLLifetime {
		t.Errorf("UploadURLTTL = %s, want %s", got, MaxUploadURLLifetime)
	}
}
