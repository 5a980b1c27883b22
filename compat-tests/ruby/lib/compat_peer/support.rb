# frozen_string_literal: true

# What the Ruby targets share: the compat_runs table and a fallback connection
# pool. Loaded by lib/compat_peer/que0.rb and lib/compat_peer/que2.rb.

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
