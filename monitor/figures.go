package monitor

import (
	"context"
	"time"
)

// Figures are what a monitor is told about a run: counts and times, never a name, a path, a value of a
// row or a secret. The importer fills them from its summary (summary.json's run and job figures); the
// metrics file publishes them, and a ping carries them as its JSON body.
type Figures struct {
	Started  time.Time `json:"started"` // when this run started
	Seconds  float64   `json:"seconds"` // how long it has run (at the end: how long it ran)
	Rows     Rows      `json:"rows"`    // the job's rows by the status of their latest outcome
	Requests Requests  `json:"requests"`
	// PausedSeconds is the time this run's workers waited on 429s (summary.json's paused_seconds).
	PausedSeconds float64 `json:"paused_seconds"`
	// PlanLimit and PlanWindowSeconds are the plan the API announced (X-RateLimit-Limit and its window);
	// zero when it announced none.
	PlanLimit         int     `json:"plan_limit,omitempty"`
	PlanWindowSeconds float64 `json:"plan_window_seconds,omitempty"`
}

// Rows are the job's rows by status: every row of the input counts in exactly one, as results.csv lists
// them (pending: no outcome yet).
type Rows struct {
	Created  int `json:"created"`
	Existing int `json:"existing"`
	Failed   int `json:"failed"`
	Rejected int `json:"rejected"`
	Conflict int `json:"conflict"`
	Pending  int `json:"pending"`
}

// statuses are the words of the status label, in the order summary.json and results.csv use.
var statuses = []string{"created", "existing", "failed", "rejected", "conflict", "pending"}

// byStatus returns the counts in the order of statuses.
func (r Rows) byStatus() []int {
	return []int{r.Created, r.Existing, r.Failed, r.Rejected, r.Conflict, r.Pending}
}

// Requests are this run's HTTP requests by the class of their answer. The classes do not overlap: a 429
// counts under RateLimited, not under ClientError, so the sum of the fields is every request sent.
type Requests struct {
	Success     int64 `json:"2xx"`
	ClientError int64 `json:"4xx"` // 4xx other than 429
	RateLimited int64 `json:"429"`
	ServerError int64 `json:"5xx"`
	NoAnswer    int64 `json:"no_answer"` // refused, reset, timed out: no HTTP answer at all
	Other       int64 `json:"other"`     // 1xx and 3xx, which the API should never send
}

// classes are the words of the class label, in the order of the fields of Requests.
var classes = []string{"2xx", "4xx", "429", "5xx", "no_answer", "other"}

// ClassOf is the class of an answer's HTTP status, 0 meaning no answer: one of classes.
func ClassOf(status int) string {
	switch {
	case status == 0:
		return "no_answer"
	case status == 429:
		return "429"
	case status >= 200 && status < 300:
		return "2xx"
	case status >= 400 && status < 500:
		return "4xx"
	case status >= 500 && status < 600:
		return "5xx"
	}
	return "other"
}

// Count counts one request whose answer had this HTTP status (0: no answer). It is not safe for
// concurrent use: a pool of workers keeps its own atomic counters and copies them into Requests.
func (r *Requests) Count(status int) {
	*r.field(ClassOf(status))++
}

// Total is the number of requests, every class.
func (r Requests) Total() int64 {
	var n int64
	for _, v := range r.byClass() {
		n += v
	}
	return n
}

func (r *Requests) field(class string) *int64 {
	switch class {
	case "2xx":
		return &r.Success
	case "4xx":
		return &r.ClientError
	case "429":
		return &r.RateLimited
	case "5xx":
		return &r.ServerError
	case "no_answer":
		return &r.NoAnswer
	}
	return &r.Other
}

// byClass returns the counts in the order of classes.
func (r Requests) byClass() []int64 {
	return []int64{r.Success, r.ClientError, r.RateLimited, r.ServerError, r.NoAnswer, r.Other}
}

// Clock is the time as this package sees it: the importer's clock (importer.Clock has these methods,
// so it serves as it is), or a fake one in tests, so that no test waits through a real backoff. Sleep
// waits for d or until ctx is done, and then returns ctx.Err().
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// clockOr is c, or the wall clock when c is nil.
func clockOr(c Clock) Clock {
	if c == nil {
		return wallClock{}
	}
	return c
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
