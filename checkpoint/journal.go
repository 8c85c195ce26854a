package checkpoint

import (
	"fmt"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/zentra/zentra-import/atomicfile"
)

// Outcome is what became of one input row.
type Outcome struct {
	Row         int   // 1-based data record number
	Offset, End int64 // the row's byte positions in the input: its start, and the start of the next record
	Ref         string
	Status      Status
	CustomerID  string
	HTTPStatus  int // 0 when the row was never sent
	Attempts    int
	Error       string // cut to 8 KiB
}

// tuning holds the sizes that bound the journal's memory; tests shrink them to reach every path.
type tuning struct {
	flushBytes   int // a pending batch this large is committed without waiting for CommitEvery
	maxPending   int // Start and Record wait while this many bytes are queued (backpressure)
	maxOutcomes  int // ... or this many outcomes
	pageRows     int // rows per page of the row index that Outcomes builds
	cachePages   int // index pages kept in memory
	windowBytes  int // size of each read window over the journal in Outcomes
	windows      int // number of read windows
	compactRatio float64
}

var defaultTuning = tuning{
	flushBytes:   256 << 10,
	maxPending:   4 << 20,
	maxOutcomes:  16 << 10,
	pageRows:     8 << 10,
	cachePages:   16,
	windowBytes:  64 << 10,
	windows:      8,
	compactRatio: 1.5,
}

// Journal appends records to a job's journal and makes them durable in groups.
type Journal struct {
	dir, path string
	opts      Options
	prior     *State // the state at Open: rows that already had an outcome
	tune      tuning
	kick      chan struct{} // wakes the committer
	done      chan struct{} // closed when the committer has exited
	opMu      sync.Mutex    // serialises Outcomes and Finish's compaction

	mu         sync.Mutex
	cond       *sync.Cond // broadcast when a batch is taken, made durable, or fails
	f          *os.File
	dirID      os.FileInfo // the job directory when the journal was opened: checked at every commit
	salt       salt
	size       int64 // bytes durably in the file
	records    int   // records durably in the file, the header not counted
	pending    []byte
	pendingN   int // records in pending
	pendingOut []Outcome
	firstAt    time.Time // when the oldest pending record was queued
	queued     uint64    // records queued since Open
	durable    uint64    // records durable since Open (and reported to OnDurable)
	urgent     bool
	closing    bool
	closed     bool
	err        error // sticky: the first write or fsync failure

	latest rowTable           // per row, the status of its latest durable outcome (0: none)
	counts [nibStatus + 1]int // rows by that status
}

func newJournal(dir, path string, f *os.File, size int64, s salt, records int, st *State, opts Options, tune tuning) (*Journal, error) {
	dirID, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	j := &Journal{
		dir: dir, path: path, opts: opts, prior: st, tune: tune,
		kick: make(chan struct{}, 1), done: make(chan struct{}),
		f: f, dirID: dirID, salt: s, size: size, records: records,
	}
	j.latest.b = make([]byte, len(st.rows.b))
	for row := 1; row < st.rows.rows(); row++ {
		if v := st.rows.get(row) & nibStatus; v != 0 {
			j.latest.set(row, v)
			j.counts[v]++
		}
	}
	j.cond = sync.NewCond(&j.mu)
	go j.commitLoop()
	return j, nil
}

// check returns a *GoneError when the job directory's path no longer holds the directory the journal was
// opened in, or the journal's path no longer holds f, the file being written (by device and inode). The
// journal's own renames (compaction) replace f, so f is asked each time.
func (j *Journal) check(f *os.File) error {
	di, err := os.Stat(j.dir)
	if err != nil || !os.SameFile(di, j.dirID) {
		return &GoneError{Dir: j.dir, Path: j.path, DirGone: true}
	}
	fi, err := os.Stat(j.path)
	if err != nil {
		return &GoneError{Dir: j.dir, Path: j.path}
	}
	open, err := f.Stat()
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", j.path, err)
	}
	if !os.SameFile(fi, open) {
		return &GoneError{Dir: j.dir, Path: j.path}
	}
	return nil
}

// Durable is what a journal holds durably: the outcomes of every run of the job that reached the disk.
type Durable struct {
	Counts map[Status]int // rows by the status of their latest durable outcome
	Rows   int            // rows with a durable outcome: the sum of Counts
	Bytes  int64          // the journal's size
}

// Durable says what the journal holds durably now. After a write failure it still says what was durable
// before it: that is what a resumed run finds.
func (j *Journal) Durable() Durable {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := Durable{Counts: map[Status]int{}, Bytes: j.size}
	for st, n := range j.counts {
		if n > 0 {
			d.Counts[Status(st)] = n
			d.Rows += n
		}
	}
	return d
}

// Start records that a row is about to be sent, before the request goes out. It is durable at the next
// group commit and does not wait for it, except for a row that already had an outcome when the journal
// was opened (a re-send under RetryFailed): then Start returns once the record is durable, so that a crash
// cannot leave the old outcome standing for a row whose new request may have reached the API. The rows a
// crash could leave sent without a durable record are covered by a reservation instead (Reserve).
func (j *Journal) Start(row int, offset, end int64) error {
	if row < 1 || row > MaxRow {
		return fmt.Errorf("checkpoint: row %d out of range", row)
	}
	seq, err := j.append(func(b []byte) []byte { return appendStartRecord(b, j.salt, row, offset, end) }, nil)
	if err != nil || !j.prior.hasOutcome(row) {
		return err
	}
	return j.waitDurable(seq)
}

// Reserve records that the rows up to row, and none after it, may be sent from now on, and returns once
// the record is durable. A run reserves ahead of the rows it hands out (one fsync for many rows, instead of
// one for each row's in-flight record) and, when it stops cleanly, reserves exactly what it handed out:
// after a crash, State.Sent counts every row up to the latest reservation as perhaps sent, so that an
// answer the API replays for it is known for this job's own. row must not be below State.Reserved at
// Open: the latest reservation is the one that counts.
func (j *Journal) Reserve(row int) error {
	if row < 1 || row > MaxRow {
		return fmt.Errorf("checkpoint: row %d out of range", row)
	}
	seq, err := j.append(func(b []byte) []byte { return appendReserveRecord(b, j.salt, row) }, nil)
	if err != nil {
		return err
	}
	return j.waitDurable(seq)
}

// Record queues a row's outcome. It counts as done once durable, which OnDurable reports. Record waits
// while too much is queued (the disk is slower than the work); it returns the journal's sticky error.
func (j *Journal) Record(o Outcome) error {
	if o.Row < 1 || o.Row > MaxRow {
		return fmt.Errorf("checkpoint: row %d out of range", o.Row)
	}
	if !o.Status.valid() {
		return fmt.Errorf("checkpoint: row %d: invalid status %d", o.Row, o.Status)
	}
	if o.HTTPStatus < 0 || o.HTTPStatus > MaxRow || o.Attempts < 0 || o.Attempts > MaxRow {
		return fmt.Errorf("checkpoint: row %d: http status %d or attempts %d out of range", o.Row, o.HTTPStatus, o.Attempts)
	}
	if len(o.Ref)+len(o.CustomerID) > maxBody/2 {
		return fmt.Errorf("checkpoint: row %d: reference and customer id too long (%d bytes)", o.Row, len(o.Ref)+len(o.CustomerID))
	}
	o.Error = clip(o.Error, maxErrorText)
	_, err := j.append(func(b []byte) []byte { return appendOutcomeRecord(b, j.salt, &o) }, &o)
	return err
}

// clip cuts s to at most n bytes at a UTF-8 boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " …(cut)"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// Sync returns once everything queued before it is durable and reported to OnDurable.
func (j *Journal) Sync() error {
	j.mu.Lock()
	seq := j.queued
	j.mu.Unlock()
	return j.waitDurable(seq)
}

// Finish records that the whole input was processed, with its number of rows and the run's exit code, and
// returns once that is durable. When superseded records (in-flight records, older outcomes) make up much
// of the journal, Finish then rewrites it with one record per row, atomically.
func (j *Journal) Finish(totalRows, exitCode int) error {
	if totalRows < 0 || totalRows > MaxRow {
		return fmt.Errorf("checkpoint: total rows %d out of range", totalRows)
	}
	seq, err := j.append(func(b []byte) []byte { return appendFinishRecord(b, j.salt, totalRows, exitCode) }, nil)
	if err == nil {
		err = j.waitDurable(seq)
	}
	if err != nil {
		return err
	}
	return j.compactIfWorth(totalRows)
}

// Err returns the journal's sticky error: the first write or fsync failure (a full disk, say). Nothing
// after it is durable; the run should stop.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Close makes everything queued durable, stops the committer and closes the file. It returns the sticky
// error if there is one.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		<-j.done
		return nil
	}
	j.closing = true
	j.mu.Unlock()
	j.wake()
	<-j.done
	j.mu.Lock()
	j.closed = true
	err := j.err
	j.cond.Broadcast()
	j.mu.Unlock()
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close checkpoint: %w", cerr)
	}
	return err
}

func (j *Journal) wake() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// append encodes one record into the pending batch, waiting while the batch is full.
func (j *Journal) append(enc func([]byte) []byte, o *Outcome) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.err == nil && !j.closing && (len(j.pending) >= j.tune.maxPending || len(j.pendingOut) >= j.tune.maxOutcomes) {
		j.cond.Wait()
	}
	if j.err != nil {
		return 0, j.err
	}
	if j.closing {
		return 0, ErrClosed
	}
	wasEmpty := len(j.pending) == 0
	if wasEmpty {
		j.firstAt = time.Now()
	}
	j.pending = enc(j.pending)
	j.pendingN++
	if o != nil {
		j.pendingOut = append(j.pendingOut, *o)
	}
	j.queued++
	if wasEmpty || len(j.pending) >= j.tune.flushBytes {
		j.wake()
	}
	return j.queued, nil
}

// waitDurable waits until record seq is durable, hurrying the committer.
func (j *Journal) waitDurable(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.durable < seq && j.err == nil {
		j.urgent = true
		j.wake()
	}
	for j.durable < seq && j.err == nil && !j.closed {
		j.cond.Wait()
	}
	if j.err != nil {
		return j.err
	}
	if j.durable < seq {
		return ErrClosed
	}
	return nil
}

// commitLoop is the committer: it takes the pending batch once it is CommitEvery old (or large, or
// someone waits for it), writes it, fsyncs, and reports it. One batch is written while the next fills.
func (j *Journal) commitLoop() {
	defer close(j.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var spare []byte
	for {
		j.mu.Lock()
		for len(j.pending) == 0 && !j.closing {
			j.mu.Unlock()
			<-j.kick
			j.mu.Lock()
		}
		if len(j.pending) == 0 || j.err != nil {
			j.mu.Unlock()
			return
		}
		for !j.urgent && !j.closing && len(j.pending) < j.tune.flushBytes {
			wait := time.Until(j.firstAt.Add(j.opts.CommitEvery))
			if wait <= 0 {
				break
			}
			j.mu.Unlock()
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-j.kick:
				timer.Stop()
			}
			j.mu.Lock()
		}
		batch, n, outs := j.pending, j.pendingN, j.pendingOut
		j.pending, j.pendingN, j.pendingOut = spare[:0], 0, nil
		j.urgent = false
		seq := j.queued
		f, off := j.f, j.size
		j.cond.Broadcast()
		j.mu.Unlock()

		err := writeAtSync(f, batch, off)
		if err != nil {
			// A full disk takes part of a batch: cut it off, so that the journal holds what was reported
			// durable and nothing more, as the next run will read it (its rows are sent again, the same
			// keys answering with the customers already created).
			_ = f.Truncate(off)
			j.fail(fmt.Errorf("write checkpoint %s: %w", j.path, atomicfile.StripPath(err)))
			return
		}
		// Durable in the file, but is the file still the job's journal? A job directory removed, or a
		// journal renamed over, while the job runs takes every later outcome with it: stop at once.
		if err := j.check(f); err != nil {
			j.fail(err)
			return
		}
		if j.opts.OnDurable != nil && len(outs) > 0 {
			j.opts.OnDurable(outs)
		}
		j.mu.Lock()
		for _, o := range outs {
			if old := j.latest.get(o.Row); old != 0 {
				j.counts[old]--
			}
			j.latest.set(o.Row, uint8(o.Status))
			j.counts[o.Status]++
		}
		j.size += int64(len(batch))
		j.records += n
		j.durable = seq
		j.cond.Broadcast()
		j.mu.Unlock()
		spare = batch
	}
}

func writeAtSync(f *os.File, b []byte, off int64) error {
	if _, err := f.WriteAt(b, off); err != nil {
		return err
	}
	return f.Sync()
}

// fail makes err sticky and wakes everyone waiting.
func (j *Journal) fail(err error) {
	j.mu.Lock()
	if j.err == nil {
		j.err = err
	}
	j.pending, j.pendingOut = nil, nil
	j.cond.Broadcast()
	j.mu.Unlock()
}
