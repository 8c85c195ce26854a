// Package jobdir owns a job directory and the files in it other than the journal: the policy that says
// which directories and files are the job's own (and so may be written, replaced or removed), the lock,
// --restart, results.csv, summary.json, and the rebuild of results.csv and rejects.csv that joins the
// journal and the input. It imports checkpoint (the journal), csvfile (the input, and the rejects writer
// in its dialect) and atomicfile; none of them imports it.
//
// The directory is created 0700 and every file in it 0600. It holds the job's files and nothing else:
// [LockFile] ("lock"), the journal's files (checkpoint.JournalFile "checkpoint", DamagedFile
// "checkpoint.damaged", PreviousFile "checkpoint.previous"), [ResultsFile], [RejectsFile], [SummaryFile],
// [InferredMappingFile] and temporary files named "." + name + ".zi-tmp-" + random (atomicfile.TempMark). [CheckDir] refuses, with a [*DirError], a
// directory that holds anything else (the job would overwrite a results.csv or rejects.csv that is not its
// own), and an input that is one of those files in the directory (by path, or the same file through a
// link). A file under a job's name counts as the job's own only if it is a regular file, and, for "lock",
// is a lock file (below), for the checkpoint files starts like a journal or is one damaged at its start
// (checkpoint.Recognize), for results.csv starts with the results header, and for summary.json is a summary this
// tool wrote. What proves a directory a job's is a lock file with the marker or a non-empty journal; the
// other job files, an earlier version's lock file (empty, or a bare pid: anyone can write that) and a
// journal damaged at its start count as the job's only beside such a proof (a user's own folder of files
// with those names, with a copied summary.json or with a file named lock, is not a job directory). A
// directory that an earlier version left with no journal (a validate's) is therefore refused; one with
// a journal is still proven by it, and its lock file is rewritten in the new format ([Proven] asks the
// same question). Nothing in this package deletes, truncates or writes a file that is not the job's own:
// [LockDir] refuses a foreign "lock", [Reset] a foreign checkpoint file, with a *DirError, changing
// nothing. This package owns that question; the journal's package only says whether a file is a journal.
//
// The lock is a kernel lock (flock) on the directory itself, taken without waiting: a second run is
// refused at once with a [*LockedError] naming the holder. The kernel drops it when its process dies,
// however it dies, so a crash never leaves a stale lock; and no file operation in the directory loosens it
// — deleting the lock file, renaming a new journal into place (creation, repair, compaction), or Reset
// removing the journal. The lock file is locked too (runs of earlier versions locked only it). Its first
// line is the marker "zentra-import lock v1"; while the lock is held a second line "pid N" names the
// holder, and a released lock file holds the marker alone. LockDir creates a missing lock file whole,
// marker included (written under a temporary name and linked into place), so that none is ever empty.
// The holder is named from the kernel's table of locks (/proc/locks) where there is one,
// which stays right when the lock file was deleted, else from the lock file. Where a file system cannot
// lock a directory (some network file systems), the lock file's lock alone guards the job, as before.
//
// The journal is the job's durable state. [ResultsFile], [RejectsFile] and [SummaryFile] are views rebuilt
// from it at the end of every run. LockDir and Reset remove the temporary files a crash left behind, so
// a file under its real name is always complete.
//
// # results.csv
//
// [ResultsWriter] writes one line per row, in row order, with fixed columns ([ResultColumns]: row,
// external_reference, status, customer_id, http_status, attempts, error) through gocsv, then the --carry
// columns; every text cell passes through [SafeCell], and with --excel the file begins with [UTF8BOM].
// [ReadResults], [ScanResults] and [ResultsHeader] read it back.
//
// # The rebuild
//
// [Rebuild] writes results.csv and rejects.csv at the end of every run from the journal's outcomes in row
// order (checkpoint.Journal.Outcomes), reading the input again alongside ([Input]) for the carried columns
// and each rejected row's values, and checks that every journal row starts where the input's row of that
// number does. rejects.csv is written by csvfile's RejectsWriter, in the input's own dialect and encoding
// with its title and footer, since it is the input's rows to be fixed and fed back: what makes it a file
// of the input's (its dialect, byte for byte copies of rows that cannot be read) is csvfile's, and which
// rows go into it and where it lives is this package's. [Count] counts the outcomes as Rebuild does
// ([Tally]) without writing a file.
//
// # summary.json
//
// [Summary] is the file's schema: this run's figures ([RunFigures]) and the job's ([JobTotals]).
// [WriteSummary] replaces it atomically and [ReadSummary] reads it; CheckDir takes a summary.json for the
// job's only when it names the command and the input's SHA-256 as this tool writes them.
package jobdir
