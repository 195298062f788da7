package posts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestShorts(t *testing.T) {
	full := strings.Repeat("t", MaxTitleLength-3)
	for _, tc := range []struct {
		name, title, description, wantTitle, wantDescription string
	}{
		{"in the title", "Trip", "d", "Trip #Shorts", "d"},
		{"title full: in the description", full, "d", full, "d\n\n#Shorts"},
		{"title full, no description", full, "", full, "#Shorts"},
		{"already tagged", "Trip #shorts", "d", "Trip #shorts", "d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotTitle, gotDescription := shorts(tc.title, tc.description)
			if gotTitle != tc.wantTitle || gotDescription != tc.wantDescription {
				t.Errorf("shorts(%q, %q) = %q, %q; want %q, %q", tc.title, tc.description, gotTitle, gotDescription, tc.wantTitle, tc.wantDescription)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	p := Position{CreatedAt: time.Date(2026, 11, 30, 8, 0, 0, 123456000, time.UTC), ID: uuid.New()}
	got, ok := decodeCursor(encodeCursor(p))
	if !ok || !got.CreatedAt.Equal(p.CreatedAt) || got.ID != p.ID {
		t.Errorf("round trip: %+v %v, want %+v", got, ok, p)
	}
	for _, bad := range []string{"x", "bm90IGEgY3Vyc29y", encodeCursor(p) + "!"} {
		if _, ok := decodeCursor(bad); ok {
			t.Errorf("decodeCursor(%q) accepted", bad)
		}
	}
}

// noStore fails every call: validation must reject before any.
type noStore struct{ Store }

func TestCreateValidates(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	s := NewService(noStore{}, Queue{}, func() time.Time { return now }, nil)
	id := uuid.New()
	past, far := now.Add(-2*time.Minute), now.Add(400*24*time.Hour)
	for _, tc := range []struct {
		name  string
		r     Request
		field string
	}{
		{"neither video nor clip", Request{AccountID: id, Title: "t"}, "video_id"},
		{"both video and clip", Request{VideoID: &id, ClipID: &id, AccountID: id, Title: "t"}, "video_id"},
		{"no account", Request{VideoID: &id, Title: "t"}, "social_account_id"},
		{"no title", Request{VideoID: &id, AccountID: id, Title: "  "}, "title"},
		{"long title", Request{VideoID: &id, AccountID: id, Title: strings.Repeat("é", 101)}, "title"},
		{"angle brackets", Request{VideoID: &id, AccountID: id, Title: "a<b"}, "title"},
		{"long caption", Request{VideoID: &id, AccountID: id, Title: "t", Caption: strings.Repeat("x", 5001)}, "caption"},
		{"privacy", Request{VideoID: &id, AccountID: id, Title: "t", Privacy: "friends"}, "privacy"},
		{"in the past", Request{VideoID: &id, AccountID: id, Title: "t", ScheduledAt: &past}, "scheduled_at"},
		{"too far ahead", Request{VideoID: &id, AccountID: id, Title: "t", ScheduledAt: &far}, "scheduled_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Create(context.Background(), uuid.New(), tc.r)
			var v *ValidationError
			if !errors.As(err, &v) || v.Fields[tc.field] == "" {
				t.Errorf("%v, want a problem with %s", err, tc.field)
			}
		})
	}
}
