# frozen_string_literal: true

# Target "0.14.3": Ruby Que 0.x, database schema version 3 (que_jobs keyed by
# (queue, priority, run_at, job_id), args json, default queue '').
# Everything here goes through que's own API: Que.migrate!, Que::Job.enqueue,
# Que's worker pool (Que.mode = :async) and its Job#_run/destroy/error handling.

require "logger"
require_relative "support"

module CompatPeer
  COMPAT_RUNS_INSERT = <<~SQL
    INSERT INTO compat_runs (job_id, peer, job_class, args, error_count, started_at, finished_at)
    VALUES ($1, 'ruby', $2, $3, $4, $5, clock_timestamp())
  SQL

  module Que0
    SCHEMA_VERSION = 3

    module_function

    def connect(url)
      PG.connect(url)
    end

    # Que's own single-connection adapter (Que::Adapters::PG) is enough for the
    # one-thread commands.
    def use_single_connection(url)
      conn = connect(url)
      Que.connection = conn
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
      conn = use_single_connection(url)
      o[:count].times do
        # Options go in their own final Hash. Que 0.14's Job.enqueue pops the
        # last argument when it is a Hash and takes :queue/:priority/:run_at/
        # :job_class out of it; because this hash always carries :job_class and
        # nothing else is left in it, Que drops it entirely and every element of
        # o[:args] (including a trailing Hash, whose keys are Strings) stays a
        # positional argument. Que mutates the options hash, so build it anew.
        options = { job_class: o[:job_class] }
        options[:queue] = o[:queue] unless o[:queue].nil?
        options[:priority] = o[:priority] unless o[:priority].nil?
        options[:run_at] = o[:run_at] unless o[:run_at].nil?
        job = Que::Job.enqueue(*o[:args], options)
        $stdout.puts job.attrs[:job_id]
      end
      $stdout.puts "enqueued=#{o[:count]}"
    ensure
      conn&.close
    end

    def work(url, o)
      monitor = connect(url) # also fails fast on a bad URL / unreachable server
      monitor.exec("SET client_min_messages TO warning") # no "already exists" NOTICE
      monitor.exec(COMPAT_RUNS_DDL)
      queue = o[:queue] || ""

      CompatPeer.worker_name = o[:name] || "ruby"
      # Every connection opened now, while the server is up: a connection the
      # pool first opens while it is down would raise out of Que's Job.work and
      # end its worker thread. HealingPool brings back the ones that die later.
      pool = CompatPeer::HealingPool.new(
        CompatPeer.new_pool(o[:workers] + 2) { CompatPeer::HealingConnection.new { connect(url) } }
      )
      CompatPeer.fill(pool, o[:workers] + 2)
      Que.adapter = Que::Adapters::ConnectionPool.new(pool)
      version = Que.db_version
      raise "que_jobs is at schema version #{version}, expected #{SCHEMA_VERSION} (run `peer migrate`)" unless version == SCHEMA_VERSION

      # Count outcomes from que's own log events (emitted by Que::Worker after
      # each Job.work). Que's log output goes to stderr only with QUE_PEER_VERBOSE.
      counts = Hash.new(0)
      lock = Mutex.new
      verbose = !ENV["QUE_PEER_VERBOSE"].to_s.empty?
      Que.logger = Logger.new(verbose ? $stderr : nil)
      Que.log_formatter = proc do |data|
        case data[:event]
        when :job_worked then lock.synchronize { counts[:worked] += 1 }
        when :job_errored then lock.synchronize { counts[:failed] += 1 } if data[:job]
        end
        verbose ? JSON.dump(summarize(data)) : nil
      end

      stop = false
      %w[INT TERM].each { |sig| trap(sig) { stop = true } }

      started = now
      deadline = o[:seconds] && started + o[:seconds]
      Que.queue_name = queue
      Que.wake_interval = o[:interval]
      Que.worker_count = o[:workers]
      Que.mode = :async

      until stop
        if o[:until_empty]
          ready = monitor.exec_params(
            "SELECT count(*) FROM que_jobs WHERE queue = $1 AND run_at <= now()", [queue]
          ).getvalue(0, 0).to_i
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

      # Clean shutdown: worker_count = 0 stops every worker and waits for it to
      # finish its current job; then switch que off.
      Que.worker_count = 0
      Que.mode = :off
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
      data.merge(job: job.reject { |k, _| k.to_s == "args" })
    end
  end
end

# Job classes, top-level so que's constantize (split('::') + const_get) finds them.

module CompatRecording
  private

  # Insert the compat_runs row and delete the job in one transaction.
  def compat_record(args, started_at)
    Que.transaction do
      Que.execute(
        CompatPeer::COMPAT_RUNS_INSERT,
        [attrs[:job_id], attrs[:job_class], JSON.dump(args), attrs[:error_count], started_at]
      )
      destroy
    end
  end
end

class CompatRecord < Que::Job
  include CompatRecording

  def run(*args)
    compat_record(args, Time.now)
  end
end

class CompatSleep < Que::Job
  include CompatRecording

  def run(*args)
    started_at = Time.now
    sleep(Float(args[0]) / 1000.0)
    compat_record(args, started_at)
  end
end

# The fault suite's job: the effect row and the job's deletion commit together
# on the job's connection (the one holding its lock), or neither does.
class FaultEffect < Que::Job
  def run(*_args)
    Que.transaction do
      Que.execute(CompatPeer::FAULT_EFFECT_INSERT, [attrs[:job_id], CompatPeer.worker_name])
      destroy
    end
  end
end

class CompatFail < Que::Job
  def run(*_args)
    raise RuntimeError, "compat failure from ruby"
  end
end

class CompatNoop < Que::Job
  def run(*_args); end
end
