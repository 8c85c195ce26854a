package importer

import (
	"fmt"
	"slices"
	"time"
)

// DefaultMaxOutage is how long the API may give no answer before a run stops (--max-outage).
const DefaultMaxOutage = 15 * time.Minute

// Probes during an outage: the first goes at once, then they are probeFirst apart, doubling up to
// probeCap.
const (
	probeFirst = time.Second
	probeCap   = 30 * time.Second
)

// outageRows is how many different rows in a row must get no answer for the pool to be in an outage:
// the number of workers (every request in flight failed), at least 2 and at most 8.
func outageRows(workers int) int { return min(max(workers, 2), 8) }

// outage tells an outage of the API from the trouble of single rows, pauses the pool while it lasts and
// paces the probes that look for its end. The [Pacer] owns it, under its mutex; every time is given.
//
// The rule: once a request of the run has succeeded (before that, the fail-fast check decides: a run
// that never worked stops at once), an outage begins when need different rows in a row got no answer
// (zentra.RetryableError.NoAnswer: refused, reset, timed out, or a gateway's 502/503/504), with no answer
// of any kind in between. It ends with the first answer of any kind: a success, a 429, a 500, a refusal
// of a row. Counting rows rather than requests keeps one row that the API never answers (retried
// again and again) from passing for an outage.
//
// During an outage one request at a time is let through, the probe: the first at once (once the
// requests already in flight are back), then after probeFirst, doubling up to probeCap. A request that
// gets no answer during an outage is not the row's failure: it is not charged to the row's attempts, and
// neither are the failures of the run of unanswered requests that revealed the outage (see became).
// After max without any answer, every waiting worker is told to stop the run.
type outage struct {
	need int
	max  time.Duration

	armed bool      // a request has succeeded
	last  time.Time // the last answer (or the success that armed the watch)

	// The current run of unanswered requests ("streak"): its id (0 between runs), the rows it touched,
	// its requests and why they failed.
	streak  uint64
	streaks uint64 // ids given so far
	rows    map[int]bool
	silent  int // requests of the streak
	reasons map[string]int
	tripped []uint64 // streaks that turned out to be outages

	active  bool
	probing bool          // the probe is in flight
	next    time.Time     // no probe before
	backoff time.Duration // the wait after the next probe that fails
	wake    chan struct{} // closed when a request comes back (created when someone waits for one)
	stop    error         // the outage outlasted max

	stats OutageStats
}

// OutageStats counts the outages of a run, for the summary.
type OutageStats struct {
	Count    int           // outages, each ended by an answer (or by the end of the run)
	Silent   time.Duration // time without an answer over all of them (the last one up to now)
	Requests int           // requests that got no answer during them, those that revealed them included
	Probes   int           // requests sent one at a time to find their end
	Ongoing  bool          // the run ends during one
}

func newOutage(workers int, max time.Duration) outage {
	if max <= 0 {
		max = DefaultMaxOutage
	}
	return outage{need: outageRows(workers), max: max, rows: map[int]bool{}, reasons: map[string]int{}}
}

// answered notes an answer of any kind at now; ok says it was a success (which arms the watch). It
// returns how long the outage it ends lasted (from the answer before it), if it ends one.
func (o *outage) answered(now time.Time, ok bool) (ended bool, lasted time.Duration) {
	if o.active {
		lasted = now.Sub(o.last)
		o.stats.Silent += lasted
		o.active, o.probing, ended = false, false, true
	}
	o.signal()
	o.armed = o.armed || ok
	o.last = latest(o.last, now)
	if o.streak != 0 {
		o.streak, o.silent = 0, 0
		clear(o.rows)
		clear(o.reasons)
	}
	return ended, lasted
}

// verdict is what the watch makes of a request that got no answer.
type verdict struct {
	streak uint64 // the run of unanswered requests it belongs to; 0 before the watch is armed
	outage bool   // the pool is in an outage: the failure is not the row's
	began  bool   // this failure revealed the outage
}

// unanswered notes that a request for row got no answer at now (reason names how, for messages). idle
// says no other request of the pool is in flight: the one that came back was then the probe, if one was
// out.
func (o *outage) unanswered(now time.Time, row int, reason string, idle bool) verdict {
	if !o.armed {
		return verdict{}
	}
	if o.streak == 0 {
		o.streaks++
		o.streak = o.streaks
	}
	o.rows[row] = true
	o.silent++
	o.reasons[reason]++
	o.signal()
	switch {
	case o.active:
		o.stats.Requests++
		if o.probing && idle {
			o.probing = false
			o.next = now.Add(o.backoff)
			o.backoff = min(2*o.backoff, probeCap)
		}
		return verdict{streak: o.streak, outage: true}
	case len(o.rows) >= o.need:
		o.active, o.probing = true, false
		o.next, o.backoff = now, probeFirst
		o.tripped = append(o.tripped, o.streak)
		o.stats.Count++
		o.stats.Requests += o.silent
		return verdict{streak: o.streak, outage: true, began: true}
	}
	return verdict{streak: o.streak}
}

// became says whether the run of unanswered requests streak turned out to be an outage: its failures
// are then not charged to their rows.
func (o *outage) became(streak uint64) bool { return slices.Contains(o.tripped, streak) }

// gate says when a request may go during an outage: one at a time (idle: no request of the pool is in
// flight), and not before the next probe is due. It returns a time to wait, or a channel that is closed
// when the request in flight comes back, or the error that stops the run once the API has given no answer
// for max. All zero: go ahead (while active, the request is the probe: see probe).
func (o *outage) gate(now time.Time, idle bool) (wait time.Duration, wake <-chan struct{}, err error) {
	if !o.active {
		return 0, nil, nil
	}
	deadline := o.last.Add(o.max)
	if o.stop == nil && !now.Before(deadline) {
		o.stop = &Error{Kind: KindAborted,
			Err: fmt.Errorf("the API gave no answer for %s (--max-outage): %d requests went unanswered (%s)",
				o.max, o.silent, tally(o.reasons)),
			Hint: "the job is resumable: the rows not finished are pending, not failed; run the same command again once the API answers " +
				"(check --api-url, the network or proxy, and Zentra's status); --max-outage sets how long a run waits for it"}
	}
	switch {
	case o.stop != nil:
		return 0, nil, o.stop
	case o.probing || !idle:
		return 0, o.changed(), nil
	case now.Before(o.next):
		return min(o.next.Sub(now), deadline.Sub(now)), nil, nil
	}
	return 0, nil, nil
}

// probe notes that the request the gate let through during an outage was granted: it is the probe.
func (o *outage) probe() {
	if o.active {
		o.probing = true
		o.stats.Probes++
	}
}

// unprobe notes that a granted request was given back before it was sent.
func (o *outage) unprobe() {
	if o.probing {
		o.probing = false
		o.signal()
	}
}

// settled says whether the run of unanswered requests streak is decided, and how: it became an outage
// (the failures in it are not their rows'), or an answer ended it, or nothing in flight (idle) can
// still decide it. Undecided, wait for the requests in flight to come back (changed) and ask again.
func (o *outage) settled(streak uint64, idle bool) (decided, outage bool) {
	switch {
	case o.became(streak):
		return true, true
	case o.streak != streak || idle:
		return true, false
	}
	return false, false
}

// changed returns a channel that is closed when the next request comes back.
func (o *outage) changed() <-chan struct{} {
	if o.wake == nil {
		o.wake = make(chan struct{})
	}
	return o.wake
}

// signal wakes the workers waiting for a request to come back.
func (o *outage) signal() {
	if o.wake != nil {
		close(o.wake)
		o.wake = nil
	}
}

// snapshot returns the stats, with the outage in progress counted up to now.
func (o *outage) snapshot(now time.Time) OutageStats {
	s := o.stats
	if o.active {
		s.Silent += now.Sub(o.last)
		s.Ongoing = true
	}
	return s
}
