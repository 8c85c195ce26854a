package zentra

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		field  string
		failed bool
		want   class
	}{
		{"201 created", 201, "", "", false, classCreated},
		{"200 created", 200, "", "", false, classCreated},
		{"204 created (id checked by the caller)", 204, "", "", false, classCreated},
		{"200 declaring failure without code", 200, "", "", true, classRow},
		{"200 declaring failure with a key code", 200, "invalid_api_key", "", true, classFatal},
		{"200 declaring a rate limit", 200, "rate_limit_exceeded", "", true, classRetry},
		{"200 with a code but not failed", 200, "invalid_api_key", "", false, classCreated},

		{"409 duplicate", 409, "conflict", "", false, classExisting},
		{"409 duplicate without code", 409, "", "", false, classExisting},
		{"409 on external_reference", 409, "conflict", "external_reference", false, classExisting},
		{"409 on a nested external_reference", 409, "conflict", "data.external_reference", false, classExisting},
		{"409 on another field", 409, "conflict", "email", false, classRow},
		{"409 idempotency key in use", 409, "idempotency_key_in_use", "", false, classRetry},
		{"409 request in progress", 409, "request_in_progress", "", false, classRetry},

		{"400", 400, "invalid_format", "", false, classRow},
		{"400 without code", 400, "", "", false, classRow},
		{"413", 413, "payload_too_large", "", false, classRow},
		{"422 missing field", 422, "missing_required_field", "email", false, classRow},
		{"422 validation", 422, "validation_error", "", false, classRow},
		{"422 idempotency key reused", 422, "idempotency_key_reused", "Idempotency-Key", false, classRow},
		{"418 unknown 4xx", 418, "", "", false, classRow},
		{"400 with a key code", 400, "invalid_api_key", "", false, classFatal},
		{"403 with a rate-limit code", 403, "rate_limit_exceeded", "", false, classRetry},

		{"401 invalid_api_key", 401, "invalid_api_key", "", false, classFatal},
		{"401 expired_api_key", 401, "expired_api_key", "", false, classFatal},
		{"401 unauthorized", 401, "unauthorized", "", false, classFatal},
		{"401 wrong_environment", 401, "wrong_environment", "", false, classFatal},
		{"401 without code", 401, "", "", false, classFatal},
		{"403 insufficient_permissions", 403, "insufficient_permissions", "", false, classFatal},
		{"403 without code", 403, "", "", false, classFatal},
		{"404 on the route", 404, "not_found", "", false, classFatal},
		{"405", 405, "method_not_allowed", "", false, classFatal},
		{"407 proxy", 407, "", "", false, classFatal},
		{"410", 410, "", "", false, classFatal},
		{"301 redirect", 301, "", "", false, classFatal},
		{"308 redirect", 308, "", "", false, classFatal},
		{"501", 501, "", "", false, classFatal},
		{"505", 505, "", "", false, classFatal},

		{"429", 429, "rate_limit_exceeded", "", false, classRetry},
		{"429 without code", 429, "", "", false, classRetry},
		{"408", 408, "", "", false, classRetry},
		{"425", 425, "", "", false, classRetry},
		{"500", 500, "internal_error", "", false, classRetry},
		{"502", 502, "", "", false, classRetry},
		{"503", 503, "service_unavailable", "", false, classRetry},
		{"504", 504, "", "", false, classRetry},
		{"520 (a CDN's origin error)", 520, "", "", false, classRetry},
		{"503 with a key code stays retryable", 503, "invalid_api_key", "", false, classRetry},

		{"status 0", 0, "", "", false, classRow},
		{"status 1xx", 103, "", "", false, classRow},
		{"status 600", 600, "", "", false, classRow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want.String(), classify(tt.status, tt.code, tt.field, tt.failed).String())
		})
	}
}

func TestNormCode(t *testing.T) {
	for in, want := range map[string]string{
		"MISSING_REQUIRED_FIELD": "missing_required_field",
		" Rate-Limit-Exceeded ":  "rate_limit_exceeded",
		"wrong.environment":      "wrong_environment",
		"":                       "",
	} {
		assert.Equal(t, want, normCode(in), in)
	}
}
