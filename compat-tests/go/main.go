// Command peer is the Go peer of the que-java cross-language compat suite.
//
// It drives the real github.com/bgentry/que-go library (pgx v3) so that jobs
// enqueued or worked by que-java can be checked against que-go's behaviour on
// the same classic (schema version 3) que_jobs table. See README.md for the
// command-line contract; it is shared with the Java and Ruby peers.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	que "github.com/bgentry/que-go"
	"github.com/jackc/pgx"
)

// schemaSQLBase64 is que-go's own schema.sql, read from the que-go module
// directory by the peer script at build time and injected with
// -ldflags "-X main.schemaSQLBase64=...". It is never committed.
var schemaSQLBase64 string

const usageText = `usage:
  peer migrate --url URL
  peer enqueue --url URL --class C (--args JSON | --args-file PATH) [--queue Q]
               [--priority P] [--run-at ISO8601] [--count N]
  peer work    --url URL [--queue Q] [--workers N] [--until-empty | --seconds S]
               [--interval-ms MS] [--name NAME]
  peer bench-enqueue --url URL [--threads T] [--seconds S] [--class C] [--queue Q]
  peer bench-work    --url URL [--queue Q] [--workers N] [--interval-ms MS]
                     (--until-empty [--poll-ms MS] | --expect N [--expect-class C] | --seconds S)
                     [--max-seconds S]
`

// usageError marks bad command lines (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	// que-go logs through the standard logger; keep all of it on stderr.
	log.SetOutput(os.Stderr)

	if err := run(os.Args[1:]); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			if ue.msg != "" {
				fmt.Fprintf(os.Stderr, "peer: %s\n", ue.msg)
			}
			fmt.Fprint(os.Stderr, usageText)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "peer: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return usageError{"missing subcommand"}
	}
	switch args[0] {
	case "migrate":
		return cmdMigrate(args[1:])
	case "enqueue":
		return cmdEnqueue(args[1:])
	case "work":
		return cmdWork(args[1:])
	case "bench-enqueue":
		return cmdBenchEnqueue(args[1:])
	case "bench-work":
		return cmdBenchWork(args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(os.Stderr, usageText)
		os.Exit(2)
	}
	return usageError{fmt.Sprintf("unknown subcommand %q", args[0])}
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // we print our own usage
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// connConfig parses a libpq-style postgres:// or postgresql:// URL with pgx.
func connConfig(rawURL string) (pgx.ConnConfig, error) {
	if rawURL == "" {
		return pgx.ConnConfig{}, usageError{"--url is required"}
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return pgx.ConnConfig{}, usageError{fmt.Sprintf("--url must be a postgres:// or postgresql:// URL, got %q", rawURL)}
	}
	cfg, err := pgx.ParseURI(rawURL)
	if err != nil {
		return pgx.ConnConfig{}, usageError{fmt.Sprintf("bad --url: %v", err)}
	}
	return cfg, nil
}

// newPool opens a pgx v3 pool with que-go's statements prepared on every
// connection (que-go runs its queries by prepared-statement name).
func newPool(cfg pgx.ConnConfig, size int) (*pgx.ConnPool, error) {
	pool, err := pgx.NewConnPool(pgx.ConnPoolConfig{
		ConnConfig:     cfg,
		MaxConnections: size,
		AfterConnect:   que.PrepareStatements,
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return pool, nil
}

// ---------------------------------------------------------------- migrate

func cmdMigrate(args []string) error {
	fs := newFlagSet("migrate")
	rawURL := fs.String("url", "", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := connConfig(*rawURL)
	if err != nil {
		return err
	}
	if schemaSQLBase64 == "" {
		return errors.New("this binary was built without que-go's schema.sql; build it through the compat-tests/go/peer script")
	}
	schema, err := base64.StdEncoding.DecodeString(schemaSQLBase64)
	if err != nil {
		return fmt.Errorf("decoding embedded schema.sql: %w", err)
	}
	conn, err := pgx.Connect(cfg)
	if err != nil {
		return fmt.Errorf("connecting to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	defer conn.Close()
	// schema.sql holds two statements (CREATE TABLE IF NOT EXISTS and COMMENT
	// ON TABLE); the simple query protocol runs them as one implicit
	// transaction, as `psql -f schema.sql` would.
	if _, err := conn.Exec(string(schema)); err != nil {
		return fmt.Errorf("running que-go schema.sql: %w", err)
	}
	fmt.Println("migrated")
	return nil
}

// ---------------------------------------------------------------- enqueue

func cmdEnqueue(args []string) error {
	fs := newFlagSet("enqueue")
	rawURL := fs.String("url", "", "")
	class := fs.String("class", "", "")
	argsJSON := fs.String("args", "", "")
	argsFile := fs.String("args-file", "", "")
	queue := fs.String("queue", "", "")
	priority := fs.Int("priority", 0, "")
	runAt := fs.String("run-at", "", "")
	count := fs.Int("count", 1, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := connConfig(*rawURL)
	if err != nil {
		return err
	}
	if *class == "" {
		return usageError{"--class is required"}
	}
	if isSet(fs, "args") && isSet(fs, "args-file") {
		return usageError{"give only one of --args and --args-file"}
	}
	if *count < 0 {
		return usageError{"--count must be >= 0"}
	}
	if *priority < math.MinInt16 || *priority > math.MaxInt16 {
		return usageError{fmt.Sprintf("--priority %d does not fit a smallint", *priority)}
	}

	jobArgs := []byte("[]")
	switch {
	case isSet(fs, "args"):
		jobArgs = []byte(*argsJSON)
	case isSet(fs, "args-file"):
		var data []byte
		if *argsFile == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(*argsFile)
		}
		if err != nil {
			return fmt.Errorf("reading --args-file: %w", err)
		}
		// Drop the trailing newline (and other surrounding whitespace) that
		// files usually end with; the JSON value itself is kept byte for byte.
		jobArgs = bytes.TrimSpace(data)
	}
	if !json.Valid(jobArgs) {
		return usageError{"job args are not valid JSON"}
	}

	var runAtTime time.Time
	if *runAt != "" {
		runAtTime, err = time.Parse(time.RFC3339Nano, *runAt)
		if err != nil {
			return usageError{fmt.Sprintf("bad --run-at (want RFC 3339 with offset): %v", err)}
		}
	}

	pool, err := newPool(cfg, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	client := que.NewClient(pool)

	for i := 0; i < *count; i++ {
		// que-go sends NULL (the column default) for Queue "", Priority 0,
		// a zero RunAt and empty Args; that is its real behaviour and is kept.
		j := &que.Job{
			Type:     *class,
			Queue:    *queue,
			Priority: int16(*priority),
			RunAt:    runAtTime,
			Args:     jobArgs,
		}
		if err := client.Enqueue(j); err != nil {
			return fmt.Errorf("enqueueing job %d of %d: %w", i+1, *count, err)
		}
	}
	fmt.Printf("enqueued=%d\n", *count)
	return nil
}

// ---------------------------------------------------------------- work

const createCompatRuns = `CREATE TABLE IF NOT EXISTS compat_runs (
  job_id      bigint,
  peer        text,
  job_class   text,
  args        text,
  error_count int,
  started_at  timestamptz,
  finished_at timestamptz
)`

const insertCompatRun = `INSERT INTO compat_runs
  (job_id, peer, job_class, args, error_count, started_at, finished_at)
  VALUES ($1, 'go', $2, $3, $4, $5, clock_timestamp())`

const countReady = `SELECT count(*) FROM que_jobs WHERE queue = $1 AND run_at <= now()`

// insertFaultEffect writes FaultEffect's effect. fault_effects has no unique
// constraint, so a job run twice shows as two rows; the driver creates it.
const insertFaultEffect = `INSERT INTO fault_effects (job_id, worker) VALUES ($1, $2)`

// counters of handler outcomes.
var (
	worked    atomic.Int64
	failed    atomic.Int64
	peerFault atomic.Int64 // DB errors inside the peer's own handler code
	// FaultEffect transactions that failed. The fault suite kills sessions and
	// the server under the peer, so these are expected there and do not change
	// the exit status; the job stays in que_jobs and runs again.
	faultEffectErrors atomic.Int64
)

// record inserts the compat_runs row and deletes the job in one transaction on
// the job's own (lock-holding) connection.
func record(j *que.Job, started time.Time) (err error) {
	defer func() {
		if err != nil {
			peerFault.Add(1)
			log.Printf("peer: recording job %d (%s) failed: %v", j.ID, j.Type, err)
		}
	}()
	conn := j.Conn()
	if conn == nil {
		return errors.New("job has no connection")
	}
	tx, err := conn.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() // no-op after a successful commit
	if _, err := tx.Exec(insertCompatRun, j.ID, j.Type, string(j.Args), j.ErrorCount, started); err != nil {
		return fmt.Errorf("insert into compat_runs: %w", err)
	}
	// Job.Delete runs que_destroy_job on j.Conn(), i.e. inside tx.
	if err := j.Delete(); err != nil {
		return fmt.Errorf("delete job: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func compatRecord(j *que.Job) error {
	return record(j, time.Now())
}

// faultEffect returns FaultEffect's WorkFunc: it inserts the job's
// fault_effects row and deletes the job (que-go's Job.Delete, on j.Conn()) in
// one transaction, so the effect exists if and only if the job is gone.
func faultEffect(worker string) que.WorkFunc {
	return func(j *que.Job) (err error) {
		defer func() {
			if err != nil {
				faultEffectErrors.Add(1)
				log.Printf("peer: FaultEffect job %d failed: %v", j.ID, err)
			}
		}()
		conn := j.Conn()
		if conn == nil {
			return errors.New("job has no connection")
		}
		tx, err := conn.Begin()
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback() // no-op after a successful commit
		if _, err := tx.Exec(insertFaultEffect, j.ID, worker); err != nil {
			return fmt.Errorf("insert into fault_effects: %w", err)
		}
		if err := j.Delete(); err != nil {
			return fmt.Errorf("delete job: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
}

func compatFail(j *que.Job) error {
	return errors.New("compat failure from go")
}

func compatSleep(j *que.Job) error {
	started := time.Now()
	var a []json.Number
	dec := json.NewDecoder(bytes.NewReader(j.Args))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil || len(a) == 0 {
		return fmt.Errorf("CompatSleep wants [milliseconds] as args, got %s", j.Args)
	}
	ms, err := a[0].Float64()
	if err != nil || ms < 0 {
		return fmt.Errorf("CompatSleep wants [milliseconds] as args, got %s", j.Args)
	}
	time.Sleep(time.Duration(ms * float64(time.Millisecond)))
	return record(j, started)
}

func compatNoop(j *que.Job) error { return nil }

// counted wraps a WorkFunc to count its outcome. A panic counts as failed and
// is re-raised so that que-go's own panic handling still applies.
func counted(f que.WorkFunc) que.WorkFunc {
	return func(j *que.Job) (err error) {
		defer func() {
			if r := recover(); r != nil {
				failed.Add(1)
				panic(r)
			}
		}()
		err = f(j)
		if err != nil {
			failed.Add(1)
		} else {
			worked.Add(1)
		}
		return err
	}
}

// logFilter passes que-go's log output to stderr. Jobs whose type is not in
// the WorkMap never reach a WorkFunc, so they are counted from que-go's own
// `unknown job type: "X"` log line (one per job, logged by Worker.WorkOne).
// The per-job `event=job_worked` lines are dropped unless COMPAT_GO_VERBOSE is
// set, to keep benchmark runs quiet.
type logFilter struct {
	out     io.Writer
	verbose bool
}

func (l logFilter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("unknown job type: ")) {
		failed.Add(1)
	}
	if !l.verbose && bytes.Contains(p, []byte("event=job_worked")) {
		return len(p), nil
	}
	return l.out.Write(p)
}

func cmdWork(args []string) error {
	fs := newFlagSet("work")
	rawURL := fs.String("url", "", "")
	queue := fs.String("queue", "", "")
	workers := fs.Int("workers", 2, "")
	untilEmpty := fs.Bool("until-empty", false, "")
	seconds := fs.String("seconds", "", "")
	intervalMS := fs.Int("interval-ms", 100, "")
	name := fs.String("name", "go", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := connConfig(*rawURL)
	if err != nil {
		return err
	}
	if *name == "" {
		return usageError{"--name must not be empty"}
	}
	if *workers < 1 {
		return usageError{"--workers must be >= 1"}
	}
	if *intervalMS < 1 {
		return usageError{"--interval-ms must be >= 1"}
	}
	if *untilEmpty && isSet(fs, "seconds") {
		return usageError{"give only one of --until-empty and --seconds"}
	}
	var runFor time.Duration
	if isSet(fs, "seconds") {
		s, err := strconv.ParseFloat(*seconds, 64)
		if err != nil || s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return usageError{fmt.Sprintf("bad --seconds %q", *seconds)}
		}
		runFor = time.Duration(s * float64(time.Second))
	}
	interval := time.Duration(*intervalMS) * time.Millisecond

	log.SetOutput(logFilter{out: os.Stderr, verbose: os.Getenv("COMPAT_GO_VERBOSE") != ""})

	pool, err := newPool(cfg, *workers+2)
	if err != nil {
		return err
	}
	defer pool.Close()

	if _, err := pool.Exec(createCompatRuns); err != nil {
		return fmt.Errorf("creating compat_runs: %w", err)
	}

	wm := que.WorkMap{
		"CompatRecord": counted(compatRecord),
		"CompatFail":   counted(compatFail),
		"CompatSleep":  counted(compatSleep),
		"CompatNoop":   counted(compatNoop),
		"FaultEffect":  counted(faultEffect(*name)),
	}
	wp := que.NewWorkerPool(que.NewClient(pool), wm, *workers)
	wp.Queue = *queue
	wp.Interval = interval

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	var timeout <-chan time.Time
	if isSet(fs, "seconds") {
		timeout = time.After(runFor)
	}
	var poll <-chan time.Time
	if *untilEmpty {
		t := time.NewTicker(interval)
		defer t.Stop()
		poll = t.C
	}

	start := time.Now()
	wp.Start()

	runErr := waitForStop(pool, *queue, *untilEmpty, sigs, timeout, poll)
	// que-go v1.0.1's Worker.Shutdown waits until the worker's drain loop finds
	// no ready job. A further SIGINT/SIGTERM while waiting exits at once;
	// PostgreSQL then drops the advisory locks and rolls back open work.
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "peer: got %v during shutdown, exiting without waiting for workers\n", s)
		printSummary(time.Since(start))
		os.Exit(1)
	}()
	wp.Shutdown()
	elapsed := time.Since(start)

	if n := faultEffectErrors.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "peer: %d FaultEffect job(s) failed (left in que_jobs to run again)\n", n)
	}
	printSummary(elapsed)
	if runErr != nil {
		return runErr
	}
	if n := peerFault.Load(); n > 0 {
		return fmt.Errorf("%d job(s) hit a database error in the peer's own handler code (see log above)", n)
	}
	return nil
}

var summaryOnce sync.Once

// printSummary prints the one result line on stdout (at most once).
func printSummary(elapsed time.Duration) {
	summaryOnce.Do(func() {
		fmt.Printf("worked=%d failed=%d elapsed_ms=%d\n", worked.Load(), failed.Load(), elapsed.Milliseconds())
	})
}

func readyCount(pool *pgx.ConnPool, queue string) (int64, error) {
	var n int64
	if err := pool.QueryRow(countReady, queue).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting ready jobs: %w", err)
	}
	return n, nil
}

// waitForStop blocks until the pool should shut down: the queue has no ready
// job (with untilEmpty), the --seconds timer fired, or a signal arrived.
func waitForStop(pool *pgx.ConnPool, queue string, untilEmpty bool,
	sigs <-chan os.Signal, timeout, poll <-chan time.Time) error {
	if untilEmpty {
		// Check once right away so that an empty queue stops at once.
		if n, err := readyCount(pool, queue); err != nil || n == 0 {
			return err
		}
	}
	for {
		select {
		case s := <-sigs:
			log.Printf("peer: got %v, shutting down", s)
			return nil
		case <-timeout:
			return nil
		case <-poll:
			if n, err := readyCount(pool, queue); err != nil || n == 0 {
				return err
			}
		}
	}
}
