package importer

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zentra/zentra-import/checkpoint"
)

// TestProgressRecordIsTyped: a JSON progress record carries numbers a monitor can compare, not a duration
// in nanoseconds or a rate as text (QA found "eta":15000000000 and "rows_per_second":"19.6").
func TestProgressRecordIsTyped(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := &reporter{c: &counters{}, clock: clock, started: clock.Now(), base: 10}
	r.total.Store(110)
	for range 20 {
		r.c.durable[checkpoint.StatusCreated].Add(1)
	}
	clock.now = clock.now.Add(4 * time.Second)

	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("progress", r.progressAttrs()...)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &rec))
	assert.Equal(t, 110.0, rec["total"])
	assert.Equal(t, 5.0, rec["rows_per_second"], "20 rows in 4 s")
	assert.Equal(t, 16.0, rec["eta_seconds"], "80 rows left at 5 a second")
}
