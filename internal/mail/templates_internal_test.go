package mail

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Second, "1 minute"},
		{time.Minute, "1 minute"},
		{30 * time.Minute, "30 minutes"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "1 hour and 30 minutes"},
		{24 * time.Hour, "24 hours"},
		{47*time.Hour + 59*time.Minute, "47 hours and 59 minutes"},
		{48 * time.Hour, "2 days"},
		{50*time.Hour + 5*time.Minute, "2 days, 2 hours and 5 minutes"},
		{7 * 24 * time.Hour, "7 days"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"::1", true},
		{"foo.localhost", false},
		{"smtp.example.com", false},
		{"10.0.0.1", false},
		{"0.0.0.0", false},
	}
	for _, tt := range tests {
		if got := isLoopback(tt.host); got != tt.want {
			t.Errorf("isLoopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
