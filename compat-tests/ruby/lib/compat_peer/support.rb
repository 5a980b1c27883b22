# frozen_string_literal: true

# What the Ruby targets share: the compat_runs table, a fallback connection
# pool, and (for the fault suite) connections that come back after the server
# dropped them. Loaded by lib/compat_peer/que0.rb and lib/compat_peer/que2.rb.

require "delegate"

module CompatPeer
  # The table every peer records its runs in. kwargs, last_error and
  # last_error_backtrace are written by the Java peer and the que2 target
  # (the job as their library hands it over); que 0.14 and que-go leave them NULL.
  COMPAT_RUNS_DDL = <<~SQL
    CREATE TABLE IF NOT EXISTS compat_runs (
      job_id               bigint,
      peer                 text,
      job_class            text,
      args                 text,
      error_count          int,
      started_at           timestamptz,
      finished_at          timestamptz,
      kwargs               text,
      last_error           text,
      last_error_backtrace text
    )
  SQL

  # Columns a compat_runs created by an older peer (que-go) lacks.
  COMPAT_RUNS_LATER_COLUMNS = %w[kwargs last_error last_error_backtrace].freeze

  # FaultEffect's effect (the fault suite's job). The driver creates
  # fault_effects(job_id bigint, worker text, written_at timestamptz DEFAULT
  # clock_timestamp()); it has no unique constraint, so a job run twice shows
  # as two rows.
  FAULT_EFFECT_INSERT = "INSERT INTO fault_effects (job_id, worker) VALUES ($1, $2)"

  class << self
    # The worker column of this process's fault_effects rows (work --name).
    attr_accessor :worker_name
  end

  module_function

  # Creates compat_runs, or adds the later columns to one that lacks them. The
  # ALTER runs only when a column is missing, so peers that run side by side
  # don't queue behind each other's table locks.
  def ensure_compat_runs(conn)
    conn.exec(COMPAT_RUNS_DDL)
    present = conn.exec(
      "SELECT attname FROM pg_attribute WHERE attrelid = 'compat_runs'::regclass AND attnum > 0 AND NOT attisdropped"
    ).column_values(0)
    (COMPAT_RUNS_LATER_COLUMNS - present).each do |column|
      conn.exec("ALTER TABLE compat_runs ADD COLUMN IF NOT EXISTS #{column} text")
    end
  end

  # A pool of `size` connections from the block: the connection_pool gem when it
  # is installed, else SimplePool.
  def new_pool(size, &factory)
    begin
      require "connection_pool"
    rescue LoadError
      return SimplePool.new(size: size, &factory)
    end
    ::ConnectionPool.new(size: size, timeout: 60, &factory)
  end

  # Opens all `size` connections of a lazy pool now: `size` threads each check
  # one out and hold it until every one of them has one.
  def fill(pool, size)
    holding = Queue.new
    release = Queue.new
    threads = Array.new(size) do
      Thread.new do
        pool.with do |conn|
          conn.exec("SELECT 1")
          holding << true
          release.pop
        end
      end
    end
    size.times { holding.pop }
    size.times { release << true }
    threads.each(&:join)
  end

  # A connection that can be replaced after the server dropped it (a
  # terminated session, a server restart). que 0.14 keeps using a connection
  # after a PG error, so without this a dead one would fail every job of its
  # worker forever. pg's own #reset cannot serve: when it fails (the server is
  # still down) pg closes the object for good.
  class HealingConnection < SimpleDelegator
    def initialize(&open)
      @open = open
      super(open.call)
    end

    # A new session in place of a broken one; when the server cannot be
    # reached yet, the broken one stays and the next statement fails as before.
    def heal
      old = __getobj__
      return if !old.finished? && old.status == PG::CONNECTION_OK

      __setobj__(@open.call)
      old.finish unless old.finished?
    rescue PG::Error => e
      warn "peer: reconnecting failed: #{e.class}: #{e.message.strip}" if ENV["QUE_PEER_VERBOSE"]
    end
  end

  # A pool of HealingConnections that heals a connection when a thread checks
  # it out at the outermost level only, that is, before Que's Job.work locks a
  # job: never inside a job, where a new session would not hold the job's
  # advisory lock. After a failed statement Que logs the error, its worker
  # sleeps for the wake interval and its next checkout heals.
  class HealingPool
    def initialize(pool)
      @pool = pool
      @depth_key = :"compat_peer_heal_#{object_id}"
    end

    def with
      depth = Thread.current[@depth_key] || 0
      @pool.with do |conn|
        conn.heal if depth.zero?
        Thread.current[@depth_key] = depth + 1
        begin
          yield conn
        ensure
          Thread.current[@depth_key] = depth
        end
      end
    end

    def shutdown(&block)
      @pool.shutdown(&block)
    end
  end

  # Minimal thread-safe, re-entrant connection pool, used only when the
  # connection_pool gem is not installed. Que's adapters need nothing but #with,
  # and it must be re-entrant per thread (a job checks a connection out and
  # every Que.execute inside checks out again).
  class SimplePool
    def initialize(size:, &factory)
      @size = size
      @factory = factory
      @key = :"compat_peer_pool_#{object_id}"
      @all = []
      @idle = []
      @mutex = Mutex.new
      @available = ConditionVariable.new
    end

    def with
      held = Thread.current[@key]
      return yield(held) if held

      conn = checkout
      Thread.current[@key] = conn
      begin
        yield conn
      ensure
        Thread.current[@key] = nil
        checkin(conn)
      end
    end

    def shutdown
      @mutex.synchronize do
        @all.each { |c| yield c }
        @all.clear
        @idle.clear
      end
    end

    private

    def checkout
      @mutex.synchronize do
        loop do
          return @idle.pop unless @idle.empty?
          if @all.size < @size
            conn = @factory.call
            @all << conn
            return conn
          end
          @available.wait(@mutex)
        end
      end
    end

    def checkin(conn)
      @mutex.synchronize do
        @idle.push(conn)
        @available.signal
      end
    end
  end
end
