package outbox

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBackoffDoublesWithJitterUpToTheCap(t *testing.T) {
	t.Parallel()
	base, max := time.Second, time.Minute
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{7, 30 * time.Second, time.Minute}, // 64s capped
		{1000, 30 * time.Second, time.Minute},
	}
	for _, tc := range tests {
		for range 100 {
			if d := backoff(tc.attempt, base, max); d < tc.min || d > tc.max {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}

func TestErrorTextIsSafeToStore(t *testing.T) {
	t.Parallel()
	got := errorText(errors.New("post https://hook:tok3n@example.com/x: 500\x00"))
	if strings.Contains(got, "tok3n") || strings.Contains(got, "\x00") || !strings.Contains(got, "https://redacted@example.com/x") {
		t.Fatalf("errorText = %q, want credentials and NUL removed", got)
	}
	long := errorText(errors.New(strings.Repeat("é", maxErrorLen)))
	if len(long) > maxErrorLen+len("…") || !utf8.ValidString(long) {
		t.Fatalf("long error stored as %d bytes (valid UTF-8: %v)", len(long), utf8.ValidString(long))
	}
}
