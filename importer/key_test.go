package importer

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIdempotencyKey(t *testing.T) {
	a := IdempotencyKey("crm-000123")
	assert.Equal(t, a, IdempotencyKey("crm-000123"), "stable")
	assert.NotEqual(t, a, IdempotencyKey("crm-000124"))
	assert.Equal(t, "zi1-", a[:4])
	assert.Len(t, a, 4+32)
	for _, ref := range []string{"crm-1", "ÄÖÜ\r\n\x00", "a b;c,d\"e", ""} {
		k := IdempotencyKey(ref)
		assert.Regexp(t, `^zi1-[0-9a-f]{32}$`, k, "only characters every header carries")
		h := http.Header{}
		h.Set("Idempotency-Key", k)
		assert.Equal(t, k, h.Get("Idempotency-Key"))
	}
}
