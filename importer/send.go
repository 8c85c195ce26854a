package importer

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zentra/zentra-import/checkpoint"
	"github.com/zentra/zentra-import/zentra"
)

// send takes one row to an outcome: created, existing, rejected by the API, or failed after its retries.
// It returns only run-fatal errors. No request is sent once intake has ended; a request already sent runs
// under reqCtx. A row left without an outcome (interrupted, or the run aborted) stays in flight in the
// journal and is sent again, with the same Idempotency-Key, when the job resumes.
func (r *runner) send(intake, reqCtx context.Context, jb job) (err error) {
	key := IdempotencyKey(jb.ref)
	var res *zentra.Created
	// The row is in flight from its first request on, not while it waits for the pacer: a run stopped
	// before that counts it as never sent.
	start := func() error { return r.j.Start(jb.row, jb.offset, jb.end) }
	t := r.try(intake, reqCtx, jb.row, start, func(ctx context.Context) (err error) {
		res, err = r.client.Create(ctx, key, jb.body)
		return err
	})
	if t.stopped {
		return r.leftInFlight(t.fatal)
	}
	if t.abort != nil {
		// The answer tripped the fail-fast check: settled like any other (a verdict on the row is recorded,
		// a failure stays in flight), then the run stops.
		defer func() { err = cmp.Or(err, t.abort) }()
	}
	out := checkpoint.Outcome{Row: jb.row, Offset: jb.offset, End: jb.end, Ref: jb.ref, Attempts: t.requests}
	var rowErr *zentra.RowError
	var retry *zentra.RetryableError
	switch err := t.err; {
	case err == nil:
		out.HTTPStatus, out.CustomerID, out.Status = res.HTTPStatus, res.ID, checkpoint.StatusCreated
		switch {
		case res.Existing:
			out.Status, out.Error = checkpoint.StatusExisting, existedNote
			if res.ID == "" {
				return r.existingWithoutID(intake, reqCtx, out, "")
			}
		case res.Replayed && !r.sentBefore(jb, t.requests):
			// The API answered with what it answered an earlier request under the same key, which this job
			// never sent: another job (or an import before a --restart) created the customer.
			out.Status, out.Error = checkpoint.StatusExisting, replayedNote
		}
	case errors.As(err, &rowErr) && strings.EqualFold(rowErr.Code, codeKeyReused):
		// The key was used before with another body: an earlier request sent this reference with other
		// values (the mapping or the data changed since). Whether it created the customer depends on whether
		// the API keeps keys of refused requests too, which Zentra does not document: the row is existing
		// only when an id says so.
		out.HTTPStatus, out.Status = rowErr.HTTPStatus, checkpoint.StatusExisting
		return r.existingWithoutID(intake, reqCtx, out, keyReusedNote)
	case errors.As(err, &rowErr):
		out.HTTPStatus, out.Error = rowErr.HTTPStatus, redactValues(err.Error(), jb.body)
		out.Status = checkpoint.StatusRejected
		if rowErr.HTTPStatus < 300 {
			out.Status = checkpoint.StatusFailed // the API said yes without an id: not the data's fault
			if rowErr.Code == zentra.CodeNoCustomerID {
				out.Error += " (see --id-path)"
			}
		} else {
			r.probs.apiRejected(jb.row, jb.ref, rowErr)
		}
	default: // transient trouble that outlasted the retries
		out.Status, out.Error = checkpoint.StatusFailed, redactValues(err.Error(), jb.body)
		if errors.As(err, &retry) {
			out.HTTPStatus = retry.HTTPStatus
		}
	}
	return r.settle(out, t.err == nil)
}

// settle records an outcome, or holds it while the fail-fast check is undecided (see failFast).
func (r *runner) settle(o checkpoint.Outcome, ok bool) error {
	return r.fail.settle(o, ok, r.record)
}

// The error column of an existing row says why it was not created, and that it was not updated: the API
// answers a create, never an update, so values that changed since are not in Zentra.
const (
	existedNote     = "already in Zentra (409): created by an earlier request for this reference (perhaps this row's own, whose answer was lost) or by another system; a create does not update it"
	keyReusedIDNote = "created by an earlier request for this reference with other values (the mapping or the data changed since); not updated with this row's values"
	replayedNote    = "already in Zentra: the API replayed its answer to an earlier request for this reference, which this job did not send (another job or import sent it); a create does not update it"
)

// keyReusedNote explains a row in conflict: its Idempotency-Key refused, and no id confirms its customer.
const keyReusedNote = "the API refused the Idempotency-Key (idempotency_key_reused): this reference was sent before with other values " +
	"(the mapping or the data changed since), and whether that created the customer is unknown. To settle it, run the same " +
	"command with --retry-failed and --lookup (where your tenant has a lookup), or with --retry-failed --idempotency-header '' " +
	"(where the API refuses a second customer with the same external_reference: it answers 409 if the customer exists), or look " +
	"the reference up in Zentra"

// sentBefore reports whether this job sent the row's request before the one just answered: an earlier
// attempt of this run (requests counts them), or an earlier run, as the journal says (in flight, or
// failed), or a run before a --restart, which kept the row's id.
func (r *runner) sentBefore(jb job, requests int) bool {
	if requests > 1 || r.st.Sent(jb.row) {
		return true
	}
	_, ok := r.earlier(jb.ref)
	return ok
}

// existingWithoutID finishes a row the API says exists without saying its id: the id comes from --lookup,
// else from the job's own earlier runs (kept across --restart), else the row says why it has none. unsure
// is set when the API's answer does not prove the customer exists (a refused Idempotency-Key): without an
// id the row is then in conflict, with unsure as its reason (what settles it).
func (r *runner) existingWithoutID(intake, reqCtx context.Context, out checkpoint.Outcome, unsure string) error {
	found := existedNote
	if unsure != "" {
		found = keyReusedIDNote
	}
	note := "the customer exists, not updated with this row's values; the API's answer did not include its id (see --lookup)"
	if r.o.Lookup {
		var res struct {
			id    string
			found bool
		}
		t := r.try(intake, reqCtx, out.Row, nil, func(ctx context.Context) (err error) {
			res.id, res.found, err = r.client.Lookup(ctx, out.Ref)
			return err
		})
		out.Attempts += t.requests
		switch {
		case t.stopped:
			return r.leftInFlight(t.fatal) // the next run asks again
		case t.err != nil:
			// The id exists but could not be had: failed, so that --retry-failed asks again.
			out.Status = checkpoint.StatusFailed
			out.Error = "the customer exists; looking up its id failed: " + t.err.Error()
			return r.settle(out, true)
		case res.found:
			out.CustomerID, out.Error = res.id, found
			return r.settle(out, true)
		}
		note = "the customer exists, not updated with this row's values, but the lookup did not find it (an API without the lookup answers so too: then drop --lookup)"
	}
	if id, ok := r.earlier(out.Ref); ok {
		out.CustomerID, note = id, found
	}
	if unsure != "" && out.CustomerID == "" {
		out.Status, note = checkpoint.StatusConflict, unsure
	}
	out.Error = note
	return r.settle(out, true)
}

// earlier returns the id an earlier run of the job recorded for ref (before a --restart).
func (r *runner) earlier(ref string) (string, bool) {
	if r.previous == nil {
		return "", false
	}
	return r.previous(ref)
}

// leftInFlight notes a row that ends this run without an outcome (it stays in flight in the journal and
// is sent again on resume) and returns fatal, the reason the run must stop, if any.
func (r *runner) leftInFlight(fatal error) error {
	r.left.Add(1)
	return fatal
}

// tried is how a request with its retries ended.
type tried struct {
	requests int
	err      error // the last answer's error; nil on success
	stopped  bool  // no outcome: intake ended, the request was cut off, or the run must stop (fatal)
	fatal    error // why the run must stop at once, when it must
	abort    error // why the run must stop once this answer is settled (the fail-fast check tripped)
}

// try sends one request for row through the pacer until it has an answer worth keeping: a success, a
// refusal of the row, or a transient failure that outlasted the retry policy. 429s pause every worker and
// do not count as attempts; nor do requests that get no answer while the API is down for the whole pool
// (an outage: see [outage]), which wait it out in the pacer. A create passes start, which records the row
// in flight before its first request; its answers also feed the check that aborts a run whose first
// requests all fail. A lookup passes nil.
func (r *runner) try(intake, reqCtx context.Context, row int, start func() error, do func(context.Context) error) tried {
	var t tried
	failures := 0        // charged to the row's attempts
	var streaks []uint64 // the runs of unanswered requests some of those failures belong to
	failFast := start != nil
	for {
		if err := r.pacer.Wait(intake); err != nil {
			t.stopped = true // interrupted (or aborted) before this attempt
			var stop *Error
			if errors.As(err, &stop) {
				t.fatal = err // the API gave no answer for --max-outage
			}
			return t
		}
		if t.requests == 0 && start != nil {
			if err := start(); err != nil {
				r.pacer.giveBack() // the slot Wait gave is not used
				t.stopped, t.fatal = true, journalError(err)
				return t
			}
		}
		t.requests++
		r.c.requests.Add(1)
		if t.requests > 1 {
			r.c.retries.Add(1)
		}
		sent := r.o.Clock.Now()
		err := do(reqCtx)
		rtt := r.o.Clock.Now().Sub(sent)
		var retry *zentra.RetryableError
		var fatal *zentra.FatalError
		limited := errors.As(err, &retry) && retry.RateLimited
		if retry != nil && retry.HTTPStatus == 0 {
			rtt = 0 // no answer: a timeout says nothing of the round trip
		}
		r.pacer.Done(rtt, limited)
		t.err = err
		v := r.watch(row, err)
		switch {
		case limited:
			r.c.rateLimited.Add(1)
			until := r.pacer.RateLimited(r.o.Clock.Now(), retry.ResetAt, retry.RetryAfter)
			r.log.Debug("rate limited: all workers pause", "until", until)
			continue
		case errors.As(err, &fatal):
			t.stopped, t.fatal = true, &Error{Kind: KindAborted, Err: err, Hint: fatal.Hint}
			return t
		case err != nil && reqCtx.Err() != nil:
			t.stopped = true // cut off in flight: the outcome is unknown
			return t
		}
		if failFast {
			ok := err == nil || isKeyReused(err)
			if t.abort = r.fail.observe(ok, reasonKey(err)); t.abort != nil {
				return t
			}
		}
		if err == nil || retry == nil {
			return t // a success, or an answer about the row that retrying will not change
		}
		if v.outage {
			continue // the pool waits for the API in the pacer; the row is sent again after
		}
		if v.streak != 0 {
			streaks = append(streaks, v.streak)
		}
		failures++
		failures -= r.pacer.refund(&streaks) // failures that revealed an outage since are not the row's
		if !r.o.Retry.Retry(failures) && v.streak != 0 {
			// Out of attempts for want of an answer: the requests still in flight may yet show the API
			// down for everyone, and the row then waits the outage out with the others.
			if _, err := r.pacer.settle(intake, v.streak); err != nil {
				t.stopped = true
				return t
			}
			failures -= r.pacer.refund(&streaks)
		}
		if !r.o.Retry.Retry(failures) {
			return t
		}
		if failures == 0 {
			continue // every failure was the outage's: the pacer paces the row
		}
		var serverSays time.Duration
		if !retry.RetryAt.IsZero() {
			serverSays = retry.RetryAt.Sub(r.o.Clock.Now())
		}
		if err := r.o.Clock.Sleep(intake, r.o.Retry.Backoff(failures+1, serverSays)); err != nil {
			t.stopped = true
			return t
		}
	}
}

// watch tells the pacer whether the API answered a request for row (err is its result), and logs the
// start and the end of an outage, once each.
func (r *runner) watch(row int, err error) verdict {
	var retry *zentra.RetryableError
	if errors.As(err, &retry) && retry.NoAnswer() {
		v := r.pacer.unanswered(row, reasonKey(err))
		if v.began {
			r.c.outage.Store(true)
			r.log.Warn(fmt.Sprintf("the API is not answering: pausing all workers, probing every %s (doubling up to %s) with one request at a time; the run stops if it gives no answer for %s (--max-outage)",
				probeFirst, probeCap, r.pacer.out.max), "rows_unanswered", r.pacer.out.need, "last_error", reasonKey(err))
		}
		return v
	}
	if answeredBy(err) {
		if ended, lasted := r.pacer.answered(err == nil || isKeyReused(err)); ended {
			r.c.outage.Store(false)
			r.log.Warn(fmt.Sprintf("the API answers again after %s: back to full pace", lasted.Round(100*time.Millisecond)))
		}
	}
	return verdict{}
}

// answeredBy says whether a request's result (nil: a success) came with an answer from the API.
func answeredBy(err error) bool {
	var (
		rowErr *zentra.RowError
		retry  *zentra.RetryableError
		fatal  *zentra.FatalError
	)
	switch {
	case err == nil, errors.As(err, &rowErr):
		return true
	case errors.As(err, &retry):
		return !retry.NoAnswer()
	case errors.As(err, &fatal):
		return fatal.HTTPStatus != 0
	}
	return false // cut off by the caller's context
}

// codeKeyReused is the error code of an idempotency key sent again with another body.
const codeKeyReused = "idempotency_key_reused"

func isKeyReused(err error) bool {
	var rowErr *zentra.RowError
	return errors.As(err, &rowErr) && strings.EqualFold(rowErr.Code, codeKeyReused)
}

// record makes an outcome durable, and logs a failed row as it is recorded (not before: while the
// fail-fast check holds a failure, the row is not failed, and an aborted run leaves it to be sent again).
func (r *runner) record(o checkpoint.Outcome) error {
	if err := r.j.Record(o); err != nil {
		return journalError(err)
	}
	if o.Status == checkpoint.StatusFailed {
		r.probs.failed(o.Row, o.Ref, o.HTTPStatus, o.Attempts)
	}
	return nil
}

// reasonKey names a failure for the fail-fast message: status and code, or the client's own code for a
// failure without an answer (timeout, connection_refused…).
func reasonKey(err error) string {
	var status int
	var code string
	var rowErr *zentra.RowError
	var retry *zentra.RetryableError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &rowErr):
		status, code = rowErr.HTTPStatus, rowErr.Code
	case errors.As(err, &retry):
		status, code = retry.HTTPStatus, retry.Code
	}
	switch {
	case status == 0 && code == "":
		return "no answer"
	case status == 0:
		return code
	case code == "":
		return fmt.Sprint(status)
	}
	return fmt.Sprintf("%d %s", status, code)
}

// redactValues removes the row's own values from an API message before it is kept: an API may repeat
// what it refuses ("email ada@example.com is invalid"), and the message goes to results.csv, which the
// finance team reads, and to the journal. The values themselves are in rejects.csv. Matching ignores case
// and runs of spaces (the client collapses them in messages), covers numbers as well as text, and finds a
// phone number the API wrote in another format by its digits.
func redactValues(msg string, body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return msg
	}
	var values []string
	var ref string
	phones := map[string]bool{} // the last 7 digits of every value holding 7 or more
	var walk func(any)
	walk = func(v any) {
		var s string
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k != "external_reference" { // the row's name in logs and results, not personal data
					walk(x)
				} else if r, ok := x.(string); ok {
					ref = r
				}
			}
			return
		case []any:
			for _, x := range v {
				walk(x)
			}
			return
		case string:
			s = strings.Join(strings.Fields(v), " ")
		case json.Number:
			s = string(v)
		default:
			return
		}
		if len(s) >= 3 {
			values = append(values, s)
		}
		if d := digitsOf(s); len(d) >= 7 {
			phones[d[len(d)-7:]] = true
		}
	}
	walk(v)
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	redact := func(msg string) string {
		for _, val := range values {
			if len(val) <= len(msg) {
				msg = replaceFold(msg, val)
			}
		}
		if len(phones) > 0 {
			msg = phoneLike.ReplaceAllStringFunc(msg, func(run string) string {
				if d := digitsOf(run); len(d) >= 7 && phones[d[len(d)-7:]] {
					return redacted
				}
				return run
			})
		}
		return msg
	}
	if ref == "" {
		return redact(msg)
	}
	// The reference stays whole even where another value (a legacy id it was built from) is part of it.
	parts := strings.Split(msg, ref)
	for i := range parts {
		parts[i] = redact(parts[i])
	}
	return strings.Join(parts, ref)
}

// redacted stands for a value taken out of a message.
const redacted = "…"

// phoneLike matches a run of digits with the separators phone numbers are written with.
var phoneLike = regexp.MustCompile(`\+?\(?[0-9][0-9 ()./-]*[0-9]`)

// replaceFold replaces every occurrence of val in msg, ignoring case, with redacted.
func replaceFold(msg, val string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		if len(msg)-i >= len(val) && strings.EqualFold(msg[i:i+len(val)], val) {
			b.WriteString(redacted)
			i += len(val)
			continue
		}
		_, size := utf8.DecodeRuneInString(msg[i:])
		b.WriteString(msg[i : i+size])
		i += size
	}
	return b.String()
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
