package importer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a request ceiling: N requests per Per. The zero Rate means "auto": pace to the plan the API
// announces in its X-RateLimit-* headers, starting from the documented limit of the key's environment.
type Rate struct {
	N   int
	Per time.Duration
}

// Auto reports whether r is the automatic rate.
func (r Rate) Auto() bool { return r.N == 0 }

// PerSecond returns r as requests per second.
func (r Rate) PerSecond() float64 {
	if r.Auto() {
		return 0
	}
	return float64(r.N) / r.Per.Seconds()
}

func (r Rate) String() string {
	if r.Auto() {
		return "auto"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.N)
	case time.Minute:
		return fmt.Sprintf("%d/min", r.N)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.N)
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// The documented plan limits of each environment (requests per minute) used by --rate auto until the
// API's headers say otherwise.
const (
	SandboxPlanPerMinute = 100
	LivePlanPerMinute    = 1000
)

// ParseRate reads a --rate value: "auto", or N/s, N/min, N/h (also N/sec, N/m, N/hour, N/<duration>).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "auto" {
		return Rate{}, nil
	}
	num, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/s, N/min, N/h or auto", s)
	}
	n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(num), ",", ""))
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a positive whole number of requests", s, num)
	}
	var per time.Duration
	switch strings.TrimSpace(unit) {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hr", "hour":
		per = time.Hour
	default:
		d, err := time.ParseDuration(unit)
		if err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("rate %q: unknown unit %q (use s, min or h)", s, unit)
		}
		per = d
	}
	return Rate{N: n, Per: per}, nil
}
