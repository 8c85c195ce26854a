// Package checkpoint owns a job's durable state: the journal that makes "kill -9 at any instant loses no
// id and re-sends nothing known done" true, its recovery, its binding to the job's input, mapping and
// API, and the customer ids that --restart keeps. It lives in the job directory, whose other files and
// policy are package jobdir's (jobdir imports checkpoint, never the reverse); its files are written
// through package atomicfile.
//
// # Use
//
// A run first checks and locks its job directory (jobdir.CheckDir, jobdir.LockDir); with --restart,
// jobdir.Reset calls [Forget]. It opens the journal with the job's [Binding] (the input's size and
// SHA-256, which the importer computes as it binds the input, the mapping's hash, the API, the rules)
// ([Open]) and loads the ids earlier restarts kept ([PreviousIDs]). The [State] says where to
// resume: seek the input to State.ResumeOffset (row State.ResumeRow) and skip every row for which
// State.Done is true. An input that grew since the journal was written, its first bytes unchanged, is
// the same job: [JournalBinding] reads the journal's binding, [Binding.GrowsInto] compares it with the
// run's, and after Open under the old binding [Journal.Rebind] binds the journal to the longer input
// (State.LastRow, LastOffset and LastEnd let the caller check first that the new bytes do not change the
// last row it recorded). For each row sent, [Journal.Start] comes before the request and [Journal.Record]
// after it; a row rejected without being sent is only recorded. [Options.OnDurable] reports outcomes once
// they are durable; only then do they count. When the whole input has been processed, [Journal.Finish]
// records it; [Journal.Outcomes] then streams every row's latest outcome in row order, from which jobdir
// rebuilds results.csv and rejects.csv. [Journal.Err] turns non-nil on a write or fsync failure
// (a full disk), or a [*GoneError] when the journal is no longer where the job keeps it: the run must stop.
// [Journal.Durable] says what is durable, by status, even then (the job files cannot be rebuilt from a
// failed journal; the summary can still count).
//
// # What --restart keeps
//
// [Forget] (jobdir.Reset's part for the journal) forgets the job's progress but not the customer ids the
// API gave: before it removes the journal, it merges each external reference's latest id (from outcomes
// created or existing that carry one) into checkpoint.previous, which no restart removes. After a restart, the API may answer a row sent
// before with "already exists" or "idempotency key reused" without the id (the mapping changed, so the
// request did); the run finds the id with [PreviousIDs] and [IDs.Lookup]. Ids belong to one API: the
// merge keeps the journal's and those kept before if they came from the same API URL, and drops the ids
// of another (a journal without ids leaves checkpoint.previous as it was); PreviousIDs uses none that
// another API gave. A journal whose header cannot be read cannot say which API its ids came from: Forget
// keeps it as checkpoint.damaged instead of removing it. The merge is written atomically before the
// journal is removed, so a crash at any point of Forget loses no id, and a --restart run interrupted
// later still has them: call PreviousIDs on every run. The lookup holds a 96-bit digest of each reference
// and the ids packed in one block: 17 bytes plus the id per reference, about 40 MiB for a million ids of
// 24 bytes.
//
// checkpoint.previous has the journal's format (below): the prelude, a header with the binding of the
// latest journal whose ids it holds, then one outcome record per reference, its error text left out.
// PreviousIDs reads it as Open reads a journal, skipping damage; a file it cannot read gives no ids, and
// IDs.Note says why.
//
// # What survives a crash
//
// An outcome is durable, and counted, once the fsync of the group commit that carried it has returned
// (OnDurable is called after that fsync). After kill -9 or a power loss at any instant, Open finds every
// durable outcome, with every field as recorded; a row with a durable outcome is never sent again (unless
// it failed and the run asks for RetryFailed). What was queued but not yet durable is lost, and those rows
// are sent again with the same Idempotency-Key, so the API answers with the customer it already created.
// A row with an in-flight record and no outcome after it is not done, whatever it said before: its request
// may have reached the API. Start does not wait for its record to be durable, except for a row that
// already had an outcome (a RetryFailed re-send): a lost in-flight record then could leave an old failed
// outcome standing for a row whose new request reached the API. Instead, a run reserves the rows before it
// hands them out (Reserve: durable, one record for many rows) and narrows the reservation to what it
// handed out when it stops cleanly, so every row whose request may have reached the API is known to the
// journal: State.Sent counts a row without an outcome within the latest reservation as perhaps sent, which
// tells an answer the API replays to this job's own request from one to another job's.
//
// # Journal format, version 1
//
// One append-only file. Integers in records are little-endian; "uvarint" and "varint" are the encodings of
// encoding/binary (varint is zig-zag); a string is a uvarint byte length followed by the bytes.
//
//	prelude (16 bytes, once)
//	  0   6  magic "ZIJRNL"
//	  6   2  format version, big-endian uint16 (1)
//	  8   8  salt: random bytes chosen when the journal is created
//
//	record (12 + length bytes, repeated)
//	  0   4  sync marker F7 5A 4A 1E
//	  4   4  checksum: CRC-32C (Castagnoli) of salt ‖ length ‖ type ‖ payload
//	  8   4  length: bytes of type + payload, 1 to 1 MiB
//	  12  1  type
//	  13  …  payload
//
// The first record, right after the prelude, is the header, and only it has type 'H'. Payloads by type:
//
//	'H' header    uvarint input size, string input SHA-256 (hex), string mapping hash, string API URL
//	'S' in flight uvarint row, varint offset, varint end
//	'O' outcome   uvarint row, varint offset, varint end, byte status (1 created, 2 existing, 3 failed,
//	              4 rejected, 5 conflict), string external reference, uvarint HTTP status (0: never sent),
//	              uvarint attempts, string customer id, string error (at most 8 KiB)
//	'F' finish    uvarint total rows, varint exit code
//	'R' reserve   uvarint row: the rows up to it may have been sent; the latest reservation counts
//
// A reservation was added to version 1 without changing its number: a reader that does not know it takes
// it for a damaged record and skips it, which loses no outcome.
//
// A record is valid when its marker, length and checksum are right, its type is known and its payload
// decodes exactly (row numbers 1 to 2³¹-1, nothing left over). Because the checksum starts from the salt,
// bytes that merely look like a record — inside a customer's reference, or left from an older file —
// never pass for one. A row's latest outcome is its last outcome record in file order.
//
// # Recovery
//
// Open reads the records in order and keeps, per row, one nibble: the latest outcome's status and whether
// an in-flight record came after it (half a megabyte per million rows), plus the file offset where each
// block of 64 rows is first mentioned, which lets it find the resume offset by reading a few records.
// At the first record that is not valid it looks ahead for the next valid record (a marker whose record
// checks out):
//
//   - None follows: the damage is the tail that a crash or power loss cut short. The file is truncated
//     there and synced; State.Repaired says how many bytes were dropped at which offset.
//   - Valid records follow: the middle of the file is damaged (a bit flip, a bad sector). Truncating would
//     throw away durable outcomes, so the damaged stretch is skipped and the scan goes on. The damaged file
//     is copied to [DamagedFile] and the journal rewritten without the damage (see Compaction); Repaired
//     says how many bytes were skipped where. Rows whose only records were in the damaged stretch are not
//     done and are sent again, with the same Idempotency-Key.
//
// A file that does not start with the magic, has another version or has a damaged header is refused with a
// [*CorruptError] and left alone: without the header, the binding cannot be checked. A journal whose
// header names another input (size or SHA-256), mapping or API URL is refused with a [*BindingError] that
// names what changed.
//
// Rows whose latest outcome is created, existing or rejected are done; failed rows are done unless
// Options.RetryFailed; a row with an in-flight record after its latest outcome is not done. ResumeRow is
// the first row not done, ResumeOffset its start in the input (from one of its records, or the End of row
// ResumeRow-1); State.Complete is true when a finish record follows the last outcome and every row up to
// its total is done.
//
// # Group commit
//
// Start, Record and Finish encode their record into a pending buffer; one committer goroutine writes the
// buffer and fsyncs once it is Options.CommitEvery old (25 ms by default), larger than 256 KiB, or
// someone waits for it (Sync, Finish, Close, a Start that must be durable). While a batch is written the
// next one fills. Start and Record wait while 4 MiB or 16,384 outcomes are pending (backpressure). The
// first write or fsync failure is sticky: every later call returns it, and nothing after it is durable; the
// failed batch, which a full disk may have taken in part, is truncated away, so that the file holds what
// was reported durable and no more. After each fsync, before reporting the batch durable, the committer
// checks (a stat of each path, an fstat of the file) that the journal's path still holds the open file and
// the directory's path the directory the journal was opened in, by device and inode: a job directory
// removed or replaced, or a journal removed or renamed over, while the job runs fails the journal with a
// *GoneError, sticky like a write failure, at the first commit after it. The journal's own renames
// (repair, compaction) are no replacement: they change the open file too.
//
// # Outcomes in row order, in bounded memory
//
// Workers finish out of order, resumed runs append re-sent rows at the end, RetryFailed appends newer
// outcomes for old rows: the journal is only nearly sorted. Outcomes scans it once, writing each row's
// latest record offset (8 bytes a row) into a temporary index file through a write-back cache of 16 pages
// of 8,192 rows, then reads the index in row order and fetches each record through 8 read windows of
// 64 KiB (one per rising run of offsets). Memory stays at a few MiB whatever the number of rows (the
// benchmark measures 4–6 MiB of heap in use at the peak for a million rows, garbage included).
//
// # Compaction
//
// Finish rewrites the journal when it holds more than 1.5 records per row (in-flight records and superseded
// outcomes): header, then each row's latest outcome in row order (with an in-flight record after it if one
// followed it, or the in-flight record alone), then the finish record — placed before the rows if outcomes
// came after it, so that it stays superseded. The copy is written under a temporary name, synced and
// renamed over the journal, then the directory is synced: a crash leaves the old journal or the new one,
// each with the same state.
//
// # Rebinding
//
// [Journal.Rebind] is the same rewrite with another header (the grown input's size and SHA-256; the
// mapping, API and rules as they were) and without the finish record: the job is open again, every row
// keeping its latest record. A crash leaves the old journal, bound to the old bytes (the next run finds
// the input grown again and rebinds again), or the new one; both are whole. The format does not change:
// a rebound journal is a version 1 journal whose header names the longer input.
package checkpoint
