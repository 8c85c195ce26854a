// Package atomicfile writes the files of a job directory so that each appears under its name complete or
// not at all, and so that what a crash leaves behind can be told apart and removed. It imports nothing of
// this module's: the journal (package checkpoint) and the job's other files (package jobdir) both build
// on it.
//
// A [File] is written under a temporary name in the same directory (mode 0600: "." + name + [TempMark] +
// random), and [File.Commit] syncs it, renames it into place and syncs the directory, as restic's local
// backend does. [CreateTemp] gives such a temporary file to a caller that renames it itself (the journal's
// rewrites), [RemoveTemps] removes the ones a crash left, and [IsTemp] tells them by name. [EnsureDir]
// creates a job directory (0700) durably, and [SyncDir] makes a directory's entries durable.
package atomicfile
