package importer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryPolicyBackoff(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 4, Base: 100 * time.Millisecond, Cap: time.Second}
	cases := []struct {
		name       string
		next       int
		jitter     float64
		serverSays time.Duration
		want       time.Duration
	}{
		{name: "first retry, top of the range", next: 2, jitter: 0.999999, want: 99999900 * time.Nanosecond},
		{name: "first retry, bottom", next: 2, jitter: 0, want: 0},
		{name: "doubles", next: 3, jitter: 0.5, want: 100 * time.Millisecond},
		{name: "doubles again", next: 4, jitter: 0.5, want: 200 * time.Millisecond},
		{name: "capped", next: 10, jitter: 0.5, want: 500 * time.Millisecond},
		{name: "huge attempt numbers stay capped", next: 200, jitter: 0.5, want: 500 * time.Millisecond},
		{name: "the server's Retry-After wins when longer", next: 2, jitter: 0.5, serverSays: 3 * time.Second, want: 3 * time.Second},
		{name: "up to ten times the cap", next: 2, jitter: 0.5, serverSays: 48 * time.Hour, want: 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := p
			p.Jitter = func() float64 { return tc.jitter }
			assert.Equal(t, tc.want, p.Backoff(tc.next, tc.serverSays))
		})
	}
	assert.True(t, p.Retry(3))
	assert.False(t, p.Retry(4))
	assert.True(t, RetryPolicy{}.Retry(0), "at least one attempt")
	assert.False(t, RetryPolicy{}.Retry(1))
}

func TestRetryPolicyJitterStaysInRange(t *testing.T) {
	p := DefaultRetryPolicy
	for i := 0; i < 1000; i++ {
		d := p.Backoff(3, 0)
		assert.GreaterOrEqual(t, d, time.Duration(0))
		assert.Less(t, d, 2*p.Base)
	}
}
