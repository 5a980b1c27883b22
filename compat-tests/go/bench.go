package main

// The peer's benchmark mode, driven by que-java's bench program (bench/ at the top of the repo).
// Both commands use que-go's own API only (Client.Enqueue, WorkerPool), with no-op handlers, so
// that what is timed is que-go's protocol and pgx, as an application would run them.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	que "github.com/bgentry/que-go"
	"github.com/jackc/pgx"
)

const readyExists = `SELECT EXISTS (SELECT 1 FROM que_jobs WHERE queue = $1 AND run_at <= now())`

// warmPool opens n connections up front, so that connecting is not timed.
func warmPool(pool *pgx.ConnPool, n int) error {
	conns := make([]*pgx.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			pool.Release(c)
		}
	}()
	for i := 0; i < n; i++ {
		c, err := pool.Acquire()
		if err != nil {
			return fmt.Errorf("opening connection %d of %d: %w", i+1, n, err)
		}
		conns = append(conns, c)
	}
	return nil
}

// cmdBenchEnqueue enqueues jobs with Client.Enqueue from --threads goroutines for --seconds and
// prints how many and how long: enqueued=N elapsed_us=M.
func cmdBenchEnqueue(args []string) error {
	fs := newFlagSet("bench-enqueue")
	rawURL := fs.String("url", "", "")
	threads := fs.Int("threads", 1, "")
	seconds := fs.Float64("seconds", 5, "")
	class := fs.String("class", "BenchNoop", "")
	queue := fs.String("queue", "", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := connConfig(*rawURL)
	if err != nil {
		return err
	}
	if *threads < 1 {
		return usageError{"--threads must be >= 1"}
	}
	if *seconds <= 0 {
		return usageError{"--seconds must be > 0"}
	}
	pool, err := newPool(cfg, *threads)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := warmPool(pool, *threads); err != nil {
		return err
	}
	client := que.NewClient(pool)

	var count atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	for t := 0; t < *threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := client.Enqueue(&que.Job{Type: *class, Queue: *queue}); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return fmt.Errorf("enqueue: %w", firstErr)
	}
	fmt.Printf("enqueued=%d elapsed_us=%d\n", count.Load(), elapsed.Microseconds())
	return nil
}

// benchStats times a drain: from the start of the first handler to the return of the last one
// that counts.
type benchStats struct {
	firstStart atomic.Int64 // unix nanos; 0 until the first handler starts
	lastDone   atomic.Int64 // unix nanos of the latest counted handler return
	handled    atomic.Int64 // handlers of the counted class that returned
	all        atomic.Int64 // handlers of any class that returned

	mu        sync.Mutex
	latencies []int64 // microseconds from enqueue (args[0], unix micros) to handler start
}

func (s *benchStats) handler(counted bool, latency bool, reached func(n int64)) que.WorkFunc {
	return func(j *que.Job) error {
		now := time.Now()
		s.firstStart.CompareAndSwap(0, now.UnixNano())
		if latency {
			var a []int64
			if err := json.Unmarshal(j.Args, &a); err != nil || len(a) == 0 {
				return fmt.Errorf("BenchLatency wants [enqueued_at_unix_micros] as args, got %s", j.Args)
			}
			s.mu.Lock()
			s.latencies = append(s.latencies, now.UnixMicro()-a[0])
			s.mu.Unlock()
		}
		s.all.Add(1)
		if counted {
			n := s.handled.Add(1)
			s.lastDone.Store(time.Now().UnixNano())
			reached(n)
		}
		return nil
	}
}

func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// cmdBenchWork drains the queue with que-go's WorkerPool and no-op handlers (BenchNoop, BenchHead,
// and BenchLatency, which also records enqueue-to-start latency from its args) and prints
// worked=N elapsed_us=M (first handler start to last counted handler return), plus latency
// percentiles when BenchLatency jobs ran. It stops when the queue has no ready job
// (--until-empty), when --expect jobs of --expect-class have been worked, or after --seconds
// (then elapsed is the wall time); --max-seconds caps the first two.
func cmdBenchWork(args []string) error {
	fs := newFlagSet("bench-work")
	rawURL := fs.String("url", "", "")
	queue := fs.String("queue", "", "")
	workers := fs.Int("workers", 4, "")
	intervalMS := fs.Int("interval-ms", 100, "")
	untilEmpty := fs.Bool("until-empty", false, "")
	expect := fs.Int64("expect", 0, "")
	expectClass := fs.String("expect-class", "", "")
	seconds := fs.Float64("seconds", 0, "")
	maxSeconds := fs.Float64("max-seconds", 0, "")
	pollMS := fs.Int("poll-ms", 10, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := connConfig(*rawURL)
	if err != nil {
		return err
	}
	modes := 0
	for _, on := range []bool{*untilEmpty, *expect > 0, *seconds > 0} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return usageError{"give exactly one of --until-empty, --expect N and --seconds S"}
	}
	if *workers < 1 || *intervalMS < 1 || *pollMS < 1 {
		return usageError{"--workers, --interval-ms and --poll-ms must be >= 1"}
	}
	interval := time.Duration(*intervalMS) * time.Millisecond
	// --max-seconds caps --until-empty and --expect: the figures are then those of the jobs worked so far.
	var capped <-chan time.Time
	if *maxSeconds > 0 {
		capped = time.After(time.Duration(*maxSeconds * float64(time.Second)))
	}

	log.SetOutput(logFilter{out: os.Stderr, verbose: os.Getenv("COMPAT_GO_VERBOSE") != ""})

	// One connection per worker (each holds its job's lock), one for the --until-empty check.
	pool, err := newPool(cfg, *workers+1)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := warmPool(pool, *workers+1); err != nil {
		return err
	}

	stats := &benchStats{}
	done := make(chan struct{})
	var doneOnce sync.Once
	reached := func(n int64) {
		if *expect > 0 && n >= *expect {
			doneOnce.Do(func() { close(done) })
		}
	}
	counts := func(class string) bool { return *expectClass == "" || *expectClass == class }
	wm := que.WorkMap{
		"BenchNoop":    stats.handler(counts("BenchNoop"), false, reached),
		"BenchHead":    stats.handler(counts("BenchHead"), false, reached),
		"BenchLatency": stats.handler(counts("BenchLatency"), true, reached),
	}
	wp := que.NewWorkerPool(que.NewClient(pool), wm, *workers)
	wp.Queue = *queue
	wp.Interval = interval

	start := time.Now()
	wp.Start()
	var end time.Time
	switch {
	case *seconds > 0:
		time.Sleep(time.Duration(*seconds * float64(time.Second)))
		end = time.Now()
	case *expect > 0:
		select {
		case <-done:
		case <-capped:
		}
		end = time.Unix(0, stats.lastDone.Load())
	default:
		// Wait for the first job, then until no ready job is left.
	poll:
		for {
			select {
			case <-capped:
				break poll
			case <-time.After(time.Duration(*pollMS) * time.Millisecond):
			}
			if stats.firstStart.Load() == 0 {
				continue
			}
			var ready bool
			if err := pool.QueryRow(readyExists, *queue).Scan(&ready); err != nil {
				return fmt.Errorf("checking for ready jobs: %w", err)
			}
			if !ready {
				break
			}
		}
		end = time.Unix(0, stats.lastDone.Load())
	}
	elapsed := end.Sub(start)
	if *seconds == 0 {
		elapsed = end.Sub(time.Unix(0, stats.firstStart.Load()))
	}
	worked := stats.handled.Load()
	if *expectClass == "" {
		worked = stats.all.Load()
	}
	line := fmt.Sprintf("worked=%d elapsed_us=%d all=%d", worked, elapsed.Microseconds(), stats.all.Load())
	stats.mu.Lock()
	lat := append([]int64(nil), stats.latencies...)
	stats.mu.Unlock()
	if len(lat) > 0 {
		sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
		line += fmt.Sprintf(" latency_n=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d",
			len(lat), percentile(lat, 0.50), percentile(lat, 0.95), percentile(lat, 0.99), lat[len(lat)-1])
	}
	fmt.Println(line)

	// que-go v1.0.1's Shutdown returns only once each worker finds no ready job, which never happens
	// while a backlog remains behind the counted jobs: give it a moment, then leave without it (the
	// server drops the locks of jobs still running; they stay queued).
	stopped := make(chan struct{})
	go func() { wp.Shutdown(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(2*interval + 200*time.Millisecond):
		fmt.Fprintln(os.Stderr, "peer: workers still busy after the count was reached; exiting without waiting for them")
	}
	if n := failed.Load(); n > 0 {
		return errors.New(strconv.FormatInt(n, 10) + " job(s) failed (unknown job type or bad args)")
	}
	return nil
}
