// Command e2e is the end-to-end benchmark harness of BENCHMARKS.md: it builds zentra-import, starts its
// sandbox as a separate process, generates an input, runs the real import against it and reports rows/s,
// the share of the plan's limit used per window, and the importer's peak RSS.
//
//	go run ./bench/e2e -rows 100000                       # unthrottled throughput and peak RSS
//	go run ./bench/e2e -rows 3000 -limit 600/10s          # pacing against a plan
//	go run ./bench/e2e -rows 1000000 -resume-at 900000    # time to the first request of a resumed run
//	go run ./bench/e2e -rows 1000000 -validate            # read + map + check every row, nothing sent
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	rows := flag.Int("rows", 100000, "data rows in the generated input")
	limit := flag.String("limit", "0", "the sandbox's plan (0: none), e.g. 600/10s")
	rate := flag.String("rate", "", "the importer's --rate (default auto; 100000/s when the sandbox has no limit)")
	workers := flag.Int("workers", 16, "the importer's --workers")
	latency := flag.Duration("latency", 0, "the sandbox's added latency")
	resumeAt := flag.Int("resume-at", 0, "kill the first run after this many rows are done and time the resumed run's start")
	keep := flag.Bool("keep", false, "keep the working directory")
	validate := flag.Bool("validate", false, "time `validate` (read, map, check every row) instead of an import")
	flag.Parse()
	if err := run(*rows, *limit, *rate, *workers, *latency, *resumeAt, *keep, *validate); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

func run(rows int, limit, rate string, workers int, latency time.Duration, resumeAt int, keep, validate bool) error {
	dir, err := os.MkdirTemp("", "zentra-import-bench")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("working directory:", dir)
	}
	bin := filepath.Join(dir, "zentra-import")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	input := filepath.Join(dir, "customers.csv")
	mappingFile := filepath.Join(dir, "mapping.yaml")
	if err := generate(input, rows); err != nil {
		return err
	}
	if err := os.WriteFile(mappingFile, []byte(benchMapping), 0o600); err != nil {
		return err
	}
	st, _ := os.Stat(input)
	fmt.Printf("machine: %d CPUs, %s, %s; input: %d rows, %.1f MiB\n", runtime.NumCPU(), cpuModel(), runtime.Version(), rows, float64(st.Size())/(1<<20))
	if validate {
		start := time.Now()
		cmd := exec.Command(bin, "validate", "--mapping", mappingFile, "--out", filepath.Join(dir, "validate"), input)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("validate: %v\n%s", err, stderr.String())
		}
		wall := time.Since(start)
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		fmt.Printf("validate: %d rows read, mapped to JSON and checked in %.2fs = %.0f rows/s; peak RSS %.1f MiB\n",
			rows, wall.Seconds(), float64(rows)/wall.Seconds(), float64(ru.Maxrss)/1024)
		return nil
	}

	sb := exec.Command(bin, "sandbox", "--addr", "127.0.0.1:0", "--key", "sk_sandbox_bench", "--limit", limit, "--latency", latency.String())
	out, err := sb.StdoutPipe()
	if err != nil {
		return err
	}
	if err := sb.Start(); err != nil {
		return err
	}
	defer func() { _ = sb.Process.Signal(syscall.SIGTERM); _ = sb.Wait() }()
	url, err := sandboxURL(out)
	if err != nil {
		return err
	}
	if rate == "" {
		rate = "auto"
		if limit == "0" {
			rate = "100000/s"
		}
	}
	args := []string{"run", "--api-url", url, "--mapping", mappingFile, "--out", filepath.Join(dir, "job"),
		"--rate", rate, "--workers", fmt.Sprint(workers), "--quiet", input}
	env := append(os.Environ(), "ZENTRA_SECRET_KEY=sk_sandbox_bench")

	if resumeAt > 0 {
		first, err := startUntil(bin, args, env, url, func(s *sandboxStats) bool { return s.Creates >= resumeAt })
		if err != nil {
			return err
		}
		_ = first.Process.Signal(syscall.SIGKILL)
		_ = first.Wait()
		before, err := stats(url)
		if err != nil {
			return err
		}
		start := time.Now()
		resumed, err := startUntil(bin, args, env, url, func(s *sandboxStats) bool { return s.Requests > before.Requests })
		if err != nil {
			return err
		}
		fmt.Printf("resume: first request %.0f ms after the resumed run started (%d rows done before)\n", time.Since(start).Seconds()*1000, resumeAt)
		_ = resumed.Process.Signal(syscall.SIGTERM)
		_ = resumed.Wait()
		return nil
	}

	start := time.Now()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil && cmd.ProcessState.ExitCode() > 1 {
		return fmt.Errorf("import: %v\n%s", err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	s, err := stats(url)
	if err != nil {
		return err
	}
	fmt.Printf("import: %d rows in %.2fs = %.0f rows/s; %d creates, %d 429s; peak RSS %.1f MiB; CPU user %.2fs sys %.2fs\n",
		rows, wall.Seconds(), float64(rows)/wall.Seconds(), s.Creates, s.RateLimited, float64(ru.Maxrss)/1024,
		time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
	if s.Limit > 0 && len(s.Windows) > 2 {
		var parts []string
		lowest := 1.0
		for _, w := range s.Windows[1 : len(s.Windows)-1] {
			f := float64(w.Allowed) / float64(s.Limit)
			lowest = min(lowest, f)
			parts = append(parts, fmt.Sprintf("%.1f%%", 100*f))
		}
		fmt.Printf("pacing: plan %d per %gs; full windows used: %s; lowest %.1f%%; 429s %d\n", s.Limit, s.WindowSeconds, strings.Join(parts, " "), 100*lowest, s.RateLimited)
	}
	return nil
}

// startUntil starts the import and returns once the sandbox's counters satisfy cond.
func startUntil(bin string, args, env []string, url string, cond func(*sandboxStats) bool) (*exec.Cmd, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for {
		s, err := stats(url)
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, err
		}
		if cond(s) {
			return cmd, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type sandboxStats struct {
	Requests, Creates, RateLimited int
	Limit                          int     `json:"limit"`
	WindowSeconds                  float64 `json:"window_seconds"`
	Windows                        []struct {
		Allowed int `json:"allowed"`
	} `json:"windows"`
}

func stats(url string) (*sandboxStats, error) {
	resp, err := http.Get(url + "/_sandbox/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var s sandboxStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

func sandboxURL(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "URL: "); ok {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			return u, nil
		}
	}
	return "", fmt.Errorf("the sandbox printed no URL")
}

const benchMapping = `fields:
  external_reference: {template: "crm-{Customer Id}"}
  first_name: {column: First Name, transform: [trim, title]}
  last_name:  {column: Last Name, transform: [trim, title]}
  email:      {column: E-mail, transform: [trim, lower], validate: email, optional: true}
  phone:      {column: Mobile, transform: [phone], region: NG, optional: true}
  country:    {column: Country, default: NG}
  metadata.legacy_id: {column: Customer Id}
require_one_of: [email, phone]
`

func generate(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "Customer Id,First Name,Last Name,E-mail,Mobile,Country")
	first := []string{"Chukwuemeka", "Oluwaseun", "Adaeze", "Babatunde", "Ngozi", "Temitope"}
	last := []string{"Okonkwo", "Adeyemi", "Nwachukwu", "Balogun", "Okafor", "Eze"}
	for i := 1; i <= n; i++ {
		fn, ln := first[i%len(first)], last[(i/7)%len(last)]
		fmt.Fprintf(w, "%07d,%s,%s,%s.%s%d@example.ng,0803 %03d %04d,NG\n", i, fn, ln, strings.ToLower(fn), strings.ToLower(ln), i, (i/10000)%1000, i%10000)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
