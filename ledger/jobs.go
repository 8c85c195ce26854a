package ledger

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// PendingJob is a job whose journal may hold confirmed outcomes that are not yet in the ledger: it began
// and has not ended (it runs now, or it was killed).
type PendingJob struct {
	Job   string    // the job directory
	API   string    // the API it imports into
	Since time.Time // when it last began
}

// BeginJob records, before the job sends its first request, that its journal may come to hold outcomes
// that are not yet in the ledger: if the job is killed before it writes them, the next run of the
// job, or the next job of any input that opens the ledger, finds it among PendingJobs and writes them.
// It is durable when it returns (a power loss cannot lose it, whatever the ledger's synchronous setting:
// see the package documentation, "Durability").
func (l *Ledger) BeginJob(ctx context.Context, job, api string) error {
	if job == "" {
		return errors.New("ledger: BeginJob needs the job")
	}
	if err := checkAPI(api); err != nil {
		return err
	}
	return l.writeMaking(ctx, true, func(tx *sql.Tx, fresh *made) error {
		apiID, err := l.ensureName(ctx, tx, "apis", api, fresh)
		if err != nil {
			return err
		}
		jobID, err := l.ensureName(ctx, tx, "jobs", job, fresh)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE jobs SET pending = 1, api = ?, since = ? WHERE id = ?", apiID, l.opts.now().Unix(), jobID)
		return err
	})
}

// EndJob records that every outcome the API confirmed in the job's journal is in the ledger. A job that
// runs again begins again.
func (l *Ledger) EndJob(ctx context.Context, job string) error {
	return l.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE jobs SET pending = 0 WHERE name = ?", job)
		return err
	})
}

// PendingJobs lists the jobs that began and have not ended, oldest first. Some may be running in other
// processes (the caller tells them by their job directory's lock); the others were stopped before they
// wrote all their outcomes: their journals hold them.
func (l *Ledger) PendingJobs(ctx context.Context) ([]PendingJob, error) {
	var out []PendingJob
	err := l.read(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, func(r *sql.Rows) error {
			var p PendingJob
			var since int64
			err := r.Scan(&p.Job, &p.API, &since)
			p.Since = time.Unix(since, 0).UTC()
			out = append(out, p)
			return err
		}, "SELECT j.name, coalesce(a.identity, ''), coalesce(j.since, 0) FROM jobs j "+
			"LEFT JOIN apis a ON a.id = j.api WHERE j.pending ORDER BY j.since, j.name")
	})
	return out, err
}

// Sync makes every batch recorded so far survive a power loss (Record's batches otherwise survive a
// crash of the process at once, and a power loss once SQLite next syncs its log). ledger import calls it
// at the end: its source file may be gone by the next run.
func (l *Ledger) Sync(ctx context.Context) error {
	return l.writeSynced(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO meta(name, value) VALUES ('synced', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
			l.opts.now().Unix())
		return err
	})
}
