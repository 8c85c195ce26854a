package checkpoint

// What results_bench_test.go (package checkpoint_test, which may import jobdir) uses of this package's
// test helpers.
var (
	WriteBigJournal = writeBigJournal
	PeakHeap        = peakHeap
	CPUTime         = cpuTime
	ReportCPU       = reportCPU
	TestBinding     = testBinding
)

// ChildEnv names the child process's mode (see TestMain).
const ChildEnv = childEnv

// ChildOutcomes is the child process that BenchmarkOutcomesResults starts (set by results_bench_test.go).
var ChildOutcomes func() int
