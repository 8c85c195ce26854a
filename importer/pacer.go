package importer

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Observation is what one API response said about the rate limit (its X-RateLimit-* headers).
// A zero Limit, a negative Remaining or a zero Reset means the header was absent.
type Observation struct {
	Limit     int
	Remaining int
	Reset     time.Time // the server's instant
	// Sent and Received bracket the answer on the client's clock; ServerDate is the server's clock when
	// it answered (its Date header, one-second resolution), zero when unknown.
	Sent, Received time.Time
	ServerDate     time.Time
}

// clockOffset bounds the offset between the server's clock and ours (server minus client). Each answer
// with a Date header narrows it: the server's clock read Date (to the second) at a moment between the
// request's sending and its answer's arrival. Reset values are the server's instants; the offset says
// when they happen on our clock. Until an answer carries a Date, the clocks are taken to agree.
type clockOffset struct {
	known  bool
	lo, hi time.Duration
}

func (c *clockOffset) observe(date, sent, received time.Time) {
	if date.IsZero() || received.IsZero() {
		return
	}
	if sent.IsZero() || sent.After(received) {
		sent = received
	}
	lo, hi := date.Sub(received), date.Add(time.Second).Sub(sent)
	if !c.known || lo > c.hi || hi < c.lo {
		// The first bounds, or bounds that contradict the earlier ones: a clock was set. Start over.
		c.known, c.lo, c.hi = true, lo, hi
		return
	}
	c.lo, c.hi = max(c.lo, lo), min(c.hi, hi)
}

// surelyAfter is the moment on our clock when the server's clock has surely reached t.
func (c *clockOffset) surelyAfter(t time.Time) time.Time {
	if !c.known {
		return t
	}
	return t.Add(-c.lo)
}

// surelyBefore is the moment on our clock until which the server's clock has surely not reached t.
func (c *clockOffset) surelyBefore(t time.Time) time.Time {
	if !c.known {
		return t
	}
	return t.Add(-c.hi)
}

// PacerConfig sets up a [Pacer].
type PacerConfig struct {
	// Ceiling is the user's --rate; the zero Rate is auto.
	Ceiling Rate
	// Plan is the limit assumed until the API announces one: the documented plan of the key's environment.
	Plan Rate
	// Clock is the source of time; nil means the wall clock.
	Clock Clock
	// Workers is the size of the pool: as many different rows in a row getting no answer (at least 2,
	// at most 8) make an outage. 0 counts as 8.
	Workers int
	// MaxOutage is how long an outage may last before Wait stops the run; 0 means DefaultMaxOutage.
	MaxOutage time.Duration
}

// Pacer spaces the requests of the whole worker pool, retries included: every request waits on it once.
//
// It combines three things. A [rate.Limiter] spaces requests; its rate is recomputed as the state changes.
// A window budget follows the API's X-RateLimit-* headers: in a fixed window the budget is the lowest
// Remaining the API reported for the window minus the requests still unanswered (a lower bound of what the
// server still accepts, however responses are reordered), spread evenly over the time until Reset; the
// window's length is learned from successive Reset values, not assumed. If the headers show a token bucket
// rather than a fixed window (Reset moving long before it is reached), the budget is the bucket's tokens,
// refilled at the announced rate. A 429 pauses every worker until the moment the API names. Last, when
// the requests of many rows in a row get no answer at all, the API is taken to be down: every worker
// pauses, and one request at a time probes for its return, at widening intervals (see [outage]).
//
// The pacer never lets requests exceed the user's ceiling nor the budget, and with --rate auto it spends
// the whole budget of every window it sees.
type Pacer struct {
	clock Clock
	lim   *rate.Limiter

	mu       sync.Mutex
	ceiling  float64 // requests/s from --rate; 0: none
	plan     Rate    // the plan limit (default, or announced by the headers)
	headers  bool    // a Limit/Remaining/Reset triple has been seen
	bucket   bool    // the headers describe a token bucket, not a fixed window
	evidence int     // observations that contradicted a fixed window

	reset       time.Time // end of the current fixed window
	confirmed   bool      // reset was announced by the API (not predicted from the window's length)
	lastReset   time.Time // the last Reset the API announced before the current window
	learned     time.Duration
	firstSeen   time.Time     // when the current window was first reported
	remaining   int           // fixed: lowest Remaining reported in this window; bucket: the latest tokens
	observed    time.Time     // bucket: when remaining was reported
	outstanding int           // requests granted and not yet answered
	rtt         time.Duration // moving average of the time from sending a request to its answer

	offset clockOffset // the server's clock against ours

	pausedUntil time.Time
	strikes     int // 429s met outside a pause since the last answer that was not a 429

	out outage // whether the API answers at all

	stats PacerStats
}

// PacerStats counts what the pacer did, for the summary.
type PacerStats struct {
	Pauses       int           // 429 pauses
	Paused       time.Duration // total time paused by 429s
	AnnouncedMax int           // the largest X-RateLimit-Limit seen
	Window       time.Duration // the window length in use
	Bucket       bool          // the API behaves as a token bucket
	Outage       OutageStats   // the API not answering at all
}

// NewPacer returns a pacer for one run.
func NewPacer(cfg PacerConfig) *Pacer {
	clock := cfg.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	plan := cfg.Plan
	if plan.Auto() {
		plan = Rate{N: SandboxPlanPerMinute, Per: time.Minute}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = 8
	}
	p := &Pacer{
		clock:   clock,
		ceiling: cfg.Ceiling.PerSecond(),
		plan:    plan,
		out:     newOutage(workers, cfg.MaxOutage),
	}
	p.lim = rate.NewLimiter(rate.Limit(p.steadyRate()), 1)
	return p
}

// Wait blocks until one request may be sent. Every successful Wait must be followed by exactly one
// [Pacer.Done] once the request has its answer or has failed, and then by a report of whether the API
// answered it (answered or unanswered), which is what tells an outage. During an outage it lets one
// request through at a time; after the outage has lasted MaxOutage it returns an *Error of
// [KindAborted], to every caller, that stops the run.
func (p *Pacer) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := p.clock.Now()
		d, granted, wake, err := p.admit(now)
		switch {
		case err != nil:
			return err
		case wake != nil:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-wake:
			}
			continue
		}
		if d > 0 {
			if err := p.clock.Sleep(ctx, d); err != nil {
				if granted {
					p.giveBack()
				}
				return err
			}
		}
		if granted {
			return nil
		}
	}
}

// admit is acquire behind the outage's gate: during an outage, one request at a time, when the probe is
// due. wake, when set, is to be waited on: the request in flight came back.
func (p *Pacer) admit(now time.Time) (d time.Duration, granted bool, wake <-chan struct{}, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d, wake, err = p.out.gate(now, p.outstanding == 0); err != nil || wake != nil || d > 0 {
		return d, false, wake, err
	}
	if d, granted = p.acquireLocked(now); granted {
		p.out.probe()
	}
	return d, granted, nil, nil
}

// giveBack returns a granted request that was not sent.
func (p *Pacer) giveBack() {
	p.Done(0, false)
	p.mu.Lock()
	p.out.unprobe()
	p.mu.Unlock()
}

// answered reports that a request got an answer from the API, whatever it said; ok: a success. It
// returns how long the outage it ends lasted, if it ends one.
func (p *Pacer) answered(ok bool) (ended bool, lasted time.Duration) {
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.answered(now, ok)
}

// unanswered reports that a request for row got no answer (reason says how, for the stop message).
func (p *Pacer) unanswered(row int, reason string) verdict {
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.unanswered(now, row, reason, p.outstanding == 0)
}

// settle waits until the run of unanswered requests streak is decided (see outage.settled) and says
// whether it turned out to be an outage. A row whose last attempt got no answer asks before it gives
// up: the requests still in flight may yet show that the API is down for everyone, and the row then
// waits the outage out instead of failing.
func (p *Pacer) settle(ctx context.Context, streak uint64) (bool, error) {
	for {
		p.mu.Lock()
		decided, outage := p.out.settled(streak, p.outstanding == 0)
		var wake <-chan struct{}
		if !decided {
			wake = p.out.changed()
		}
		p.mu.Unlock()
		if decided {
			return outage, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-wake:
		}
	}
}

// refund removes from streaks those that turned out to be outages and returns how many it removed: the
// failures of a row they stand for are not the row's.
func (p *Pacer) refund(streaks *[]uint64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(*streaks)
	*streaks = slices.DeleteFunc(*streaks, p.out.became)
	return n - len(*streaks)
}

// Done records that a granted request is no longer in flight, how long it took from sending to its answer
// (0 when it had none), and whether the answer was a 429. The pacer keeps the last request of a window
// that long before the window's end, so that the server counts it in the window it was meant for.
func (p *Pacer) Done(rtt time.Duration, limited bool) {
	p.mu.Lock()
	if p.outstanding > 0 {
		p.outstanding--
	}
	if rtt > 0 && !limited {
		p.strikes = 0
	}
	if rtt > 0 {
		if p.rtt == 0 {
			p.rtt = rtt
		} else {
			p.rtt += (rtt - p.rtt) / 8
		}
	}
	p.mu.Unlock()
}

// acquire either grants a request, to be sent after the returned delay, or says how long to wait before
// asking again.
func (p *Pacer) acquire(now time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acquireLocked(now)
}

// acquireLocked is acquire, with p.mu held.
func (p *Pacer) acquireLocked(now time.Time) (time.Duration, bool) {
	if now.Before(p.pausedUntil) {
		return p.pausedUntil.Sub(now), false
	}
	r := p.steadyRate()
	if p.headers {
		p.roll(now)
		avail := p.available(now)
		if avail < 1 {
			switch {
			case p.bucket:
				return max(time.Duration((1-avail)/p.plan.PerSecond()*float64(time.Second)), time.Millisecond), false
			case p.remaining > 0 && p.outstanding > 0:
				// The API may have room for more once the answers in flight tell us; look again soon.
				return max(min(p.rollAt().Sub(now), answerPoll), time.Microsecond), false
			default:
				return max(p.rollAt().Sub(now), time.Microsecond), false
			}
		}
		if !p.bucket {
			// Spread what is left of the window over the time until it resets, less one round trip: a
			// request sent later would reach the server in the next window. Spacing for one request more
			// than is left puts the last one half a step before the end rather than on it.
			end := p.offset.surelyBefore(p.reset)
			left := max((end.Sub(now) - min(p.rtt, p.plan.Per/4)).Seconds(), 0.001)
			r = (avail + 1) / left
			if p.ceiling == 0 && r < p.steadyRate() {
				// Never slower than the plan's own pace: the budget keeps us inside the window.
				r = p.steadyRate()
			}
		}
	}
	if p.ceiling > 0 && r > p.ceiling {
		r = p.ceiling
	}
	if math.Abs(float64(p.lim.Limit())-r) > r*0.001 {
		p.lim.SetLimitAt(now, rate.Limit(r))
	}
	// Book the next slot only if it is near: a slot booked far ahead at today's rate would hold a worker
	// even after an answer has changed the rate. Waiters look again at least every recheck.
	res := p.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > recheck {
		res.CancelAt(now)
		return recheck, false
	} else {
		p.outstanding++
		return d, true
	}
}

// recheck bounds how long a waiting worker goes without looking at the pacer's state again.
const recheck = 50 * time.Millisecond

// answerPoll is how long a worker waits for answers in flight when they decide whether the window has
// room for one more request.
const answerPoll = 5 * time.Millisecond

// steadyRate is the plan's own pace in requests per second, capped by the ceiling. Until the API has
// announced its plan, an explicit ceiling is the pace.
func (p *Pacer) steadyRate() float64 {
	if p.ceiling > 0 && (!p.headers || p.plan.PerSecond() > p.ceiling) {
		return p.ceiling
	}
	return p.plan.PerSecond()
}

// available is the number of requests the server still accepts, as a lower bound.
func (p *Pacer) available(now time.Time) float64 {
	avail := float64(p.remaining - p.outstanding)
	if p.bucket {
		avail += now.Sub(p.observed).Seconds() * p.plan.PerSecond()
		if limit := float64(p.plan.N - p.outstanding); avail > limit {
			avail = limit
		}
	}
	return avail
}

// roll starts the next fixed window once the current one is surely over on the server's clock: its
// budget is the plan's limit (less the requests still unanswered, which may count in it) until the API
// reports on it.
func (p *Pacer) roll(now time.Time) {
	if p.bucket || now.Before(p.rollAt()) {
		return
	}
	if p.confirmed {
		p.lastReset = p.reset
	}
	for !p.offset.surelyAfter(p.reset).After(now) {
		p.reset = p.reset.Add(p.plan.Per)
	}
	p.confirmed = false
	p.remaining = p.plan.N
}

// rollAt is when, on our clock, the current window is surely over on the server's: a used-up window waits
// a guard more.
func (p *Pacer) rollAt() time.Time {
	end := p.offset.surelyAfter(p.reset)
	if p.remaining <= 0 {
		end = end.Add(p.guard())
	}
	return end
}

// guard is how long after a Reset the pacer waits before spending a new window when the last one was
// used up: Reset has one-second resolution and clocks drift, and a request the server counts in the old
// window earns a 429. It is a fortieth of the window, at most a second; until the window's length is
// learned, the part of the current window seen so far stands for it.
func (p *Pacer) guard() time.Duration {
	w := p.learned
	if w == 0 {
		w = max(p.offset.surelyAfter(p.reset).Sub(p.firstSeen), 0)
	}
	return min(w/40, time.Second)
}

// Observe takes the X-RateLimit-* headers of one response.
func (p *Pacer) Observe(o Observation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offset.observe(o.ServerDate, o.Sent, o.Received)
	if o.Limit > 0 {
		p.adoptLimit(o.Limit)
	}
	if o.Limit <= 0 || o.Remaining < 0 || o.Reset.IsZero() {
		return
	}
	o.Remaining = min(o.Remaining, o.Limit)
	now := o.Received
	switch {
	case !p.headers:
		p.headers = true
		p.setWindow(o, now)
	case p.bucket:
		if !now.Before(p.observed) {
			p.remaining, p.observed = o.Remaining, now
		}
		p.learnBucketWindow(o, now)
	case o.Reset.Equal(p.reset):
		p.confirmed = true
		p.remaining = min(p.remaining, o.Remaining)
	case o.Reset.After(p.reset):
		// A later window. In a fixed window that happens only when the current one has ended (give or
		// take the clock's drift); Reset moving long before it is reached, without a refill, is a bucket.
		early := now.Before(p.offset.surelyBefore(p.reset).Add(-time.Second))
		if p.confirmed && early && o.Remaining <= p.remaining+p.plan.N/2 {
			p.evidence++
			if p.evidence >= 2 {
				p.bucket = true
				p.stats.Bucket = true
				p.learned = 0
				p.remaining, p.observed = o.Remaining, now
				p.learnBucketWindow(o, now)
				return
			}
		}
		p.setWindow(o, now)
	case !p.confirmed && o.Reset.Equal(p.lastReset):
		// We moved on to the next window by our clock, but the server is still in the last one.
		p.reset, p.remaining, p.confirmed = o.Reset, o.Remaining, true
	case !p.confirmed && o.Reset.After(p.lastReset) && p.offset.surelyAfter(o.Reset).After(now.Add(-time.Second)):
		// The window we predicted ends later than the API says: the window is shorter than assumed.
		p.setWindow(o, now)
	default:
		// An answer from an earlier window, overtaken by newer ones: nothing to learn.
	}
}

// setWindow adopts the window an observation describes, learning the window's length from the distance
// between consecutive Reset values (the smallest distance seen: windows skipped while idle are multiples).
func (p *Pacer) setWindow(o Observation, now time.Time) {
	prev := p.lastReset
	if p.confirmed {
		prev = p.reset
	}
	if !prev.IsZero() {
		if w := o.Reset.Sub(prev); w >= time.Second && w <= 24*time.Hour && (p.learned == 0 || w < p.learned) {
			p.learned = w
			p.plan.Per = w
		}
	}
	if p.confirmed {
		p.lastReset = p.reset
	}
	p.reset, p.remaining, p.observed, p.confirmed = o.Reset, o.Remaining, now, true
	p.firstSeen = now
}

// learnBucketWindow estimates the time a bucket takes to refill completely from how far away its Reset
// is for the tokens missing. Each answer gives an upper bound: Reset is rounded up to the second but the
// server read its clock before we received the answer (hence the margin), and Remaining is rounded down
// (hence one token fewer missing). The smallest upper bound is the estimate: it errs long, which paces
// slower, never faster, than the bucket refills.
func (p *Pacer) learnBucketWindow(o Observation, now time.Time) {
	const margin = 250 * time.Millisecond
	missing := o.Limit - o.Remaining
	if missing < 3 {
		return
	}
	w := time.Duration(float64(p.offset.surelyAfter(o.Reset).Sub(now)+margin) * float64(o.Limit) / float64(missing-1))
	if w < time.Second {
		return
	}
	if p.learned == 0 || w < p.learned {
		p.learned = w
		p.plan.Per = w
	}
}

func (p *Pacer) adoptLimit(limit int) {
	p.stats.AnnouncedMax = max(p.stats.AnnouncedMax, limit)
	p.plan.N = limit
}

// RateLimited pauses every worker after a 429 until the moment the API names: the reset time when it
// gives one (read on the server's clock), Retry-After otherwise. Three 429s met outside a pause without
// a successful answer in between mean the named reset cannot be trusted: the pause is then at least
// Retry-After. It returns the end of the pause.
func (p *Pacer) RateLimited(now, resetAt time.Time, retryAfter time.Duration) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !now.Before(p.pausedUntil) {
		p.strikes++
	}
	until := now.Add(max(retryAfter, time.Second))
	if !resetAt.IsZero() {
		until = latest(p.offset.surelyAfter(resetAt).Add(p.guard()), now.Add(minPause))
		if p.strikes >= 3 && retryAfter > 0 {
			until = latest(until, now.Add(retryAfter))
		}
	}
	if until.After(p.pausedUntil) {
		p.stats.Paused += until.Sub(latest(p.pausedUntil, now))
		p.pausedUntil = until
		p.stats.Pauses++
	}
	if !p.bucket && p.headers {
		switch {
		case resetAt.IsZero() || !resetAt.Before(p.reset):
			p.remaining = 0 // the current window is used up
		case !p.confirmed && resetAt.Equal(p.lastReset):
			// We moved on by our clock, but the server is still in the last window, used up.
			p.reset, p.remaining, p.confirmed = resetAt, 0, true
		}
	}
	return until
}

// minPause is the shortest pause after a 429 whose named reset has already passed on our clock.
const minPause = 500 * time.Millisecond

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Stats returns a snapshot of what the pacer did.
func (p *Pacer) Stats() PacerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Window = p.plan.Per
	s.Outage = p.out.snapshot(p.clock.Now())
	return s
}
