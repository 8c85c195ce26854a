package importer

import (
	"crypto/sha256"
	"encoding/hex"
)

// IdempotencyKey derives a row's Idempotency-Key from its external_reference alone, so that every retry,
// resume and re-run of the row, on any machine, asks the API the same question. The reference is hashed:
// it may hold characters a header cannot carry, and the key should not repeat customer data.
func IdempotencyKey(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return "zi1-" + hex.EncodeToString(sum[:16])
}
