# frozen_string_literal: true

# Target "que2": Ruby Que 2.4.x, database schema version 7 (que_jobs keyed by
# id, args and kwargs jsonb, job_schema_version 2, default queue 'default').
# Everything here goes through que's own API: Que.migrate!, Que::Job.enqueue,
# and Que::Locker, i.e. que's poller, listener, job buffer and worker threads,
# with every job lock held by the locker's own connection.

require "logger"
require_relative "support"

module CompatPeer
  module Que2
    SCHEMA_VERSION = 7

    # The locker's sleep between cycles (and its NOTIFY wait), in milliseconds.
    # Que's default is 50; a shorter one makes the runs of the suite quicker.
    WAIT_PERIOD_MS = 10

    COMPAT_RUNS_INSERT = <<~SQL
      INSERT INTO compat_runs (job_id, peer, job_class, args, kwargs, error_count,
                               last_error, last_error_backtrace, started_at, finished_at)
      VALUES ($1, 'ruby2', $2, $3, $4, $5, $6, $7, $8, clock_timestamp())
    SQL

    # Jobs que 2.x would still run: not finished, not expired, of its job schema version.
    READY = <<~SQL
      SELECT count(*) FROM public.que_jobs
      WHERE queue = $1 AND run_at <= now() AND finished_at IS NULL AND expired_at IS NULL
        AND job_schema_version = $2
    SQL

    module_function

    def connect(url)
      PG.connect(url)
    end

    # One connection for the one-thread commands, handed to que as its
    # connection_proc (que wraps it in its own re-entrancy checks).
    def use_single_connection(url)
      conn = connect(url)
      Que.connection_proc = proc { |&block| block.call(conn) }
      conn
    end

    def migrate(url)
      conn = use_single_connection(url)
      Que.migrate!(version: SCHEMA_VERSION)
      $stdout.puts "migrated"
    ensure
      conn&.close
    end

    def enqueue(url, o)
      kwargs = (o[:kwargs] || {}).transform_keys(&:to_sym)
      if kwargs.key?(:job_options)
        raise UsageError, "--kwargs cannot have a key job_options (que 2.x takes the job's options from it)"
      end

      conn = use_single_connection(url)
      o[:count].times do
        # The way a Ruby caller enqueues: positional args, then the keywords,
        # job_options among them. Que 2.x splits the keywords off the positional
        # args, so a trailing {"a": 1} in --args stays a positional Hash.
        job_options = { job_class: o[:job_class] }
        job_options[:queue] = o[:queue] unless o[:queue].nil?
        job_options[:priority] = o[:priority] unless o[:priority].nil?
        job_options[:run_at] = o[:run_at] unless o[:run_at].nil?
        job = Que::Job.enqueue(*o[:args], job_options: job_options, **kwargs)
        $stdout.puts job.que_attrs[:id]
      end
      $stdout.puts "enqueued=#{o[:count]}"
    ensure
      conn&.close
    end

    def work(url, o)
      monitor = connect(url) # also fails fast on a bad URL / unreachable server
      monitor.exec("SET client_min_messages TO warning") # no "already exists" NOTICE
      CompatPeer.ensure_compat_runs(monitor)

      # Workers run their jobs on pool connections; the locker opens its own
      # connection with the parameters of one of them.
      pool = CompatPeer.new_pool(o[:workers] + 2) { connect(url) }
      Que.connection_proc = pool.method(:with)
      version = Que.db_version
      unless version == SCHEMA_VERSION
        raise "que_jobs is at schema version #{version}, expected #{SCHEMA_VERSION} (run `peer migrate`)"
      end
      queue = o[:queue] || Que.default_queue

      # Count outcomes from que's own log events, which Que::Worker emits after
      # each job. Que's log output goes to stderr only with QUE_PEER_VERBOSE.
      counts = Hash.new(0)
      lock = Mutex.new
      verbose = !ENV["QUE_PEER_VERBOSE"].to_s.empty?
      Que.logger = Logger.new(verbose ? $stderr : nil)
      Que.log_formatter = proc do |data|
        case data[:event]
        when :job_worked then lock.synchronize { counts[:worked] += 1 }
        when :job_errored then lock.synchronize { counts[:failed] += 1 } if data[:job]
        end
        verbose ? JSON.dump(CompatPeer::Que2.summarize(data)) : nil
      end

      stop = false
      %w[INT TERM].each { |sig| trap(sig) { stop = true } }

      started = now
      deadline = o[:seconds] && started + o[:seconds]
      locker = Que::Locker.new(
        queues: [queue],
        listen: o[:listen],
        poll_interval: o[:interval],
        wait_period: WAIT_PERIOD_MS,
        worker_priorities: Array.new(o[:workers]), # nil: any priority, as `que -w N` gives
      )

      until stop
        if o[:until_empty]
          ready = monitor.exec_params(READY, [queue, Que.job_schema_version]).getvalue(0, 0).to_i
          break if ready.zero?
        end
        pause = o[:interval]
        if deadline
          left = deadline - now
          break if left <= 0
          pause = [pause, left].min
        end
        sleep pause
      end

      # Clean shutdown, as `que` does on INT/TERM: unlock the buffered jobs,
      # let the workers finish their current jobs, unlock those, deregister.
      locker.stop!
      elapsed_ms = ((now - started) * 1000).round
      $stdout.puts "worked=#{counts[:worked]} failed=#{counts[:failed]} elapsed_ms=#{elapsed_ms}"
    ensure
      pool&.shutdown { |c| c.close rescue nil }
      monitor&.close
    end

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    # Keep verbose logs readable when args are huge.
    def summarize(data)
      job = data[:job]
      return data unless job.is_a?(Hash)
      data.merge(job: job.reject { |k, _| %w[args kwargs].include?(k.to_s) })
    end
  end
end

# Job classes, top-level so that que's constantize finds them. Que 2.x calls
# run(*args, **kwargs) with hash keys as Symbols; JSON.dump writes them back as
# the strings they were.

module CompatRecording
  private

  # Insert the compat_runs row and delete the job in one transaction (on the
  # worker's pool connection; que 2.x holds the job's lock on the locker's).
  def compat_record(args, kwargs, started_at)
    attrs = que_attrs
    Que.transaction do
      Que.execute(
        CompatPeer::Que2::COMPAT_RUNS_INSERT,
        [attrs[:id], attrs[:job_class], JSON.dump(args), JSON.dump(kwargs), attrs[:error_count],
         attrs[:last_error_message], attrs[:last_error_backtrace], started_at]
      )
      destroy
    end
  end
end

class CompatRecord < Que::Job
  include CompatRecording

  def run(*args, **kwargs)
    compat_record(args, kwargs, Time.now)
  end
end

class CompatSleep < Que::Job
  include CompatRecording

  def run(*args, **kwargs)
    started_at = Time.now
    sleep(Float(args[0]) / 1000.0)
    compat_record(args, kwargs, started_at)
  end
end

class CompatFail < Que::Job
  def run(*_args, **_kwargs)
    raise RuntimeError, "compat failure from ruby"
  end
end

# Fails its first attempt; a later attempt records like CompatRecord, with the
# last error que handed over (whoever wrote it).
class CompatFailOnce < Que::Job
  include CompatRecording

  def run(*args, **kwargs)
    raise RuntimeError, "compat failure from ruby" if que_attrs[:error_count].zero?

    compat_record(args, kwargs, Time.now)
  end
end

class CompatNoop < Que::Job
  def run(*_args, **_kwargs); end
end
