package zentra

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var t0 = time.Unix(1_800_000_000, 0)

func TestParseReset(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  time.Time // zero: ignored
	}{
		{"unix seconds", "1800000030", t0.Add(30 * time.Second)},
		{"unix seconds in the past", "1799999990", t0.Add(-10 * time.Second)},
		{"unix seconds with fraction", "1800000030.5", t0.Add(30500 * time.Millisecond)},
		{"seconds from now", "45", t0.Add(45 * time.Second)},
		{"zero seconds from now", "0", t0},
		{"fractional seconds from now", "1.25", t0.Add(1250 * time.Millisecond)},
		{"unix milliseconds", "1800000030000", t0.Add(30 * time.Second)},
		{"surrounding space", " 1800000030 ", t0.Add(30 * time.Second)},
		{"empty", "", time.Time{}},
		{"garbage", "soon", time.Time{}},
		{"negative", "-5", time.Time{}},
		{"NaN", "NaN", time.Time{}},
		{"infinity", "Inf", time.Time{}},
		{"hex", "0x10", time.Time{}},
		{"too far ahead", "1900000000", time.Time{}},
		{"too far behind", "1700000000", time.Time{}},
		{"seconds from now beyond two days", "900000", time.Time{}},
		{"huge", "1e300", time.Time{}},
		{"http date", "Wed, 21 Oct 2015 07:28:00 GMT", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseReset(tt.value, t0)
			assert.Equal(t, !tt.want.IsZero(), ok)
			assert.True(t, tt.want.Equal(got), "got %v, want %v", got, tt.want)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  time.Duration
		ok    bool
	}{
		{"seconds", "60", 60 * time.Second, true},
		{"zero", "0", 0, true},
		{"fraction", "1.5", 1500 * time.Millisecond, true},
		{"http date", t0.Add(90 * time.Second).UTC().Format(http.TimeFormat), 90 * time.Second, true},
		{"http date in the past", t0.Add(-90 * time.Second).UTC().Format(http.TimeFormat), 0, true},
		{"empty", "", 0, false},
		{"negative", "-1", 0, false},
		{"garbage", "later", 0, false},
		{"beyond two days", "200000", 0, false},
		{"date beyond two days", t0.Add(72 * time.Hour).UTC().Format(http.TimeFormat), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.value, t0)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   RateLimit
		ok     bool
	}{
		{"documented headers", map[string]string{"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "42", "X-RateLimit-Reset": "1800000030"},
			RateLimit{Limit: 100, Remaining: 42, Reset: t0.Add(30 * time.Second), Received: t0}, true},
		{"remaining zero", map[string]string{"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"},
			RateLimit{Limit: 100, Remaining: 0, Received: t0}, true},
		{"lower-case names", map[string]string{"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999"},
			RateLimit{Limit: 5000, Remaining: 4999, Received: t0}, true},
		{"IETF draft names", map[string]string{"RateLimit-Limit": "100, 100;w=60", "RateLimit-Remaining": "7", "RateLimit-Reset": "12"},
			RateLimit{Limit: 100, Remaining: 7, Reset: t0.Add(12 * time.Second), Received: t0}, true},
		{"garbage everywhere", map[string]string{"X-RateLimit-Limit": "lots", "X-RateLimit-Remaining": "-3", "X-RateLimit-Reset": "never"},
			RateLimit{Remaining: -1, Received: t0}, false},
		{"only a reset", map[string]string{"X-RateLimit-Reset": "30"},
			RateLimit{Remaining: -1, Reset: t0.Add(30 * time.Second), Received: t0}, true},
		{"none", map[string]string{}, RateLimit{Remaining: -1, Received: t0}, false},
		{"with the server's Date", map[string]string{"X-RateLimit-Limit": "100", "Date": "Fri, 15 Jan 2027 08:00:02 GMT"},
			RateLimit{Limit: 100, Remaining: -1, Received: t0, ServerDate: time.Date(2027, 1, 15, 8, 0, 2, 0, time.UTC)}, true},
		{"unreadable Date", map[string]string{"X-RateLimit-Limit": "100", "Date": "yesterday"},
			RateLimit{Limit: 100, Remaining: -1, Received: t0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h[http.CanonicalHeaderKey(k)] = []string{v}
			}
			got, ok := parseRateLimit(h, t0)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want.Limit, got.Limit)
			assert.Equal(t, tt.want.Remaining, got.Remaining)
			assert.True(t, tt.want.Reset.Equal(got.Reset), "reset %v, want %v", got.Reset, tt.want.Reset)
			assert.True(t, tt.want.Received.Equal(got.Received))
			assert.True(t, tt.want.ServerDate.Equal(got.ServerDate), "date %v, want %v", got.ServerDate, tt.want.ServerDate)
		})
	}
}
