package io.quejava;

import io.quejava.internal.Dialect;
import io.quejava.internal.JobRow;
import io.quejava.internal.ModernDialect;
import io.quejava.internal.SchemaInfo;
import io.quejava.internal.Session;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enqueues and locks jobs in {@code que_jobs}. Thread-safe; create one per database and share it.
 *
 * <p>At creation the client reads the table's schema version (its comment, checked against its
 * columns) and picks the SQL dialect for it. Tables resolve through the connections' search_path,
 * as Ruby Que's and que-go's do.
 *
 * <pre>{@code
 * Client client = Client.create(dataSource);
 * Job job = client.enqueue(NewJob.of("SendInvoice", 42).queue("billing"));
 * }</pre>
 */
public final class Client {
  private static final Logger log = LoggerFactory.getLogger(Client.class);

  /** Default for {@link Builder#maxLockAttempts}: {@value}, as que-go. */
  public static final int DEFAULT_MAX_LOCK_ATTEMPTS = 10;

  /** Default for {@link Builder#jobSchemaVersion}: {@value}, as Que 2.x. */
  public static final int DEFAULT_JOB_SCHEMA_VERSION = 2;

  private final DataSource dataSource;
  private final Dialect dialect;
  private final String table;
  private final int maxLockAttempts;
  /** Test seam: runs between the lock query and the re-check. */
  volatile Consumer<Job> beforeRecheck;

  private Client(Builder b, Dialect dialect, String table) {
    this.dataSource = b.dataSource;
    this.dialect = dialect;
    this.table = table;
    this.maxLockAttempts = b.maxLockAttempts;
  }

  /** A client with the default settings; reads the schema version now. */
  public static Client create(DataSource dataSource) {
    return builder(dataSource).build();
  }

  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /** The que_jobs schema version this client speaks (3 for Ruby Que 0.x and que-go, 4–7 for Que 1.x/2.x). */
  public int schemaVersion() {
    return dialect.schemaVersion();
  }

  /**
   * The job schema version this client writes on enqueue and its workers take (schema 5: 1; schema
   * 6/7: {@link Builder#jobSchemaVersion}, default 2), or null on schemas 3 and 4, which have none.
   */
  public Integer jobSchemaVersion() {
    return dialect instanceof ModernDialect m ? m.jobSchemaVersion() : null;
  }

  /** True on schema 4–7, where jobs can be finished and expired. */
  public boolean hasOutcomeColumns() {
    return dialect.hasOutcomeColumns();
  }

  /** The queue jobs go to when none is named: {@code ''} on schema 3, {@code 'default'} on 4–7. */
  public String defaultQueue() {
    return dialect.defaultQueue();
  }

  /** Enqueues a job of {@code jobClass} with these args (a JSON array written by Jackson), defaults for the rest. */
  public Job enqueue(String jobClass, Object... args) {
    return enqueue(NewJob.of(jobClass, args));
  }

  /** Enqueues one job on a connection of its own, committed when this returns. */
  public Job enqueue(NewJob job) {
    Objects.requireNonNull(job, "job");
    return withOwnConnection(c -> new Job(dialect.insert(c, job)));
  }

  /**
   * Enqueues one job on the caller's connection, inside whatever transaction it has open: the job
   * exists if and only if that transaction commits. The library neither commits nor rolls back.
   */
  public Job enqueue(Connection connection, NewJob job) {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(job, "job");
    try {
      return new Job(dialect.insert(connection, job));
    } catch (SQLException e) {
      throw new QueException("enqueue of " + job.jobClass() + " failed: " + e.getMessage(), e);
    }
  }

  /** Enqueues all jobs in one statement (one round trip) on a connection of its own; all or none. */
  public List<Job> enqueueAll(List<NewJob> jobs) {
    List<NewJob> checked = checkBatch(jobs);
    if (checked.isEmpty()) {
      return List.of();
    }
    return withOwnConnection(c -> wrap(dialect.insertAll(c, checked)));
  }

  /** Enqueues all jobs in one statement inside the caller's transaction. */
  public List<Job> enqueueAll(Connection connection, List<NewJob> jobs) {
    Objects.requireNonNull(connection, "connection");
    List<NewJob> checked = checkBatch(jobs);
    if (checked.isEmpty()) {
      return List.of();
    }
    try {
      return wrap(dialect.insertAll(connection, checked));
    } catch (SQLException e) {
      throw new QueException("enqueue of " + checked.size() + " jobs failed: " + e.getMessage(), e);
    }
  }

  /**
   * Locks the next ready job of {@code queue} on a connection of its own, which the returned job
   * keeps (with the lock) until {@link LockedJob#close()}. Empty when no job is ready, or when every
   * attempt lost a race to another worker ({@link Builder#maxLockAttempts} in a row).
   */
  public Optional<LockedJob> lockJob(String queue) {
    Objects.requireNonNull(queue, "queue");
    Session session;
    try {
      session = new Session(dataSource.getConnection());
    } catch (SQLException e) {
      throw new QueException("cannot get a connection: " + e.getMessage(), e);
    }
    boolean handedOver = false;
    try {
      LockedJob job = lock(session, queue, RetryPolicy.DEFAULT,
          hasOutcomeColumns() ? WorkerConfig.DEFAULT_MAX_RETRY_COUNT : null, true);
      handedOver = job != null;
      return Optional.ofNullable(job);
    } finally {
      if (!handedOver) {
        session.close();
      }
    }
  }

  /**
   * The lock protocol on a pinned session: lock one job with the walk, re-check it in a new
   * statement, and on a lost race unlock and walk again. Returns null when nothing could be locked.
   */
  LockedJob lock(Session session, String queue, RetryPolicy retryPolicy, Integer maxRetryCount, boolean ownsSession) {
    List<LockedJob> jobs = lockBatch(session, queue, 1, retryPolicy, maxRetryCount, ownsSession);
    return jobs.isEmpty() ? null : jobs.get(0);
  }

  /**
   * Locks up to {@code max} jobs on the session with one walk, re-checks them in one statement
   * (rule R3), and unlocks at once those that changed in between. Walks again while every job of a
   * walk lost its race, at most {@link Builder#maxLockAttempts} times. The session must hold no job
   * lock when this is called. On any failure the session is aborted, so no lock survives on it.
   */
  List<LockedJob> lockBatch(Session session, String queue, int max, RetryPolicy retryPolicy,
      Integer maxRetryCount, boolean ownsSession) {
    try {
      session.resetTransaction();
      for (int attempt = 1; attempt <= maxLockAttempts; attempt++) {
        List<JobRow> rows = dialect.lockBatch(session, queue, max);
        if (rows.isEmpty()) {
          return List.of();
        }
        Consumer<Job> hook = beforeRecheck;
        if (hook != null) {
          rows.forEach(r -> hook.accept(new Job(r)));
        }
        boolean[] current;
        if (rows.size() == 1) {
          current = new boolean[] {dialect.recheck(session, rows.get(0))};
        } else {
          current = dialect.recheckAll(session, rows);
        }
        List<LockedJob> locked = new ArrayList<>(rows.size());
        List<Long> lostIds = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
          JobRow row = rows.get(i);
          if (current[i]) {
            locked.add(new LockedJob(dialect, session, new Job(row), retryPolicy, maxRetryCount, ownsSession));
          } else {
            log.debug("job lock race: id={} queue='{}' changed before the re-check (attempt {})", row.id(), queue, attempt);
            lostIds.add(row.id());
          }
        }
        long[] lost = lostIds.stream().mapToLong(Long::longValue).toArray();
        if (lost.length > 0) {
          int held = lost.length == 1 ? (dialect.unlock(session, lost[0]) ? 1 : 0) : dialect.unlockAll(session, lost);
          if (held != lost.length) {
            throw new QueException("advisory locks of jobs " + java.util.Arrays.toString(lost) + " were not all held at unlock");
          }
        }
        if (!locked.isEmpty()) {
          return locked;
        }
      }
      log.debug("lock races persisted for {} attempts on queue '{}'", maxLockAttempts, queue);
      return List.of();
    } catch (SQLException | RuntimeException e) {
      // A lock may be held on this session (session locks survive errors and rollbacks): kill the
      // connection so the server drops it, rather than let it travel back into a pool.
      session.abort();
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new QueException("locking a job of queue '" + queue + "' failed: " + e.getMessage(), e);
    }
  }

  /** Unlocks these jobs on the session in one statement; returns how many locks were held. */
  int unlockAll(Session session, long[] ids) throws SQLException {
    return ids.length == 1 ? (dialect.unlock(session, ids[0]) ? 1 : 0) : dialect.unlockAll(session, ids);
  }

  private List<NewJob> checkBatch(List<NewJob> jobs) {
    Objects.requireNonNull(jobs, "jobs");
    List<NewJob> copy = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      NewJob job = jobs.get(i);
      if (job == null) {
        throw new IllegalArgumentException("jobs[" + i + "]: must not be null");
      }
      copy.add(job);
    }
    return copy;
  }

  private static List<Job> wrap(List<JobRow> rows) {
    List<Job> out = new ArrayList<>(rows.size());
    for (JobRow r : rows) {
      out.add(new Job(r));
    }
    return out;
  }

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs {@code work} on a connection we open, committing it ourselves if it is not in autocommit. */
  private <T> T withOwnConnection(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      try {
        T result = work.run(c);
        if (!autoCommit) {
          c.commit();
        }
        return result;
      } catch (SQLException | RuntimeException e) {
        if (!autoCommit) {
          c.rollback();
        }
        throw e;
      }
    } catch (SQLException e) {
      throw new QueException("enqueue into " + table + " failed: " + e.getMessage(), e);
    }
  }

  /** Settings for a {@link Client}. */
  public static final class Builder {
    private final DataSource dataSource;
    private int maxLockAttempts = DEFAULT_MAX_LOCK_ATTEMPTS;
    private Integer assumedVersion;
    private int jobSchemaVersion = DEFAULT_JOB_SCHEMA_VERSION;
    private boolean stateNotifications;

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * How many lost races (a job changed between the lock and the re-check) one lock call absorbs
     * before it gives up. Default: {@value Client#DEFAULT_MAX_LOCK_ATTEMPTS}.
     */
    public Builder maxLockAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("maxLockAttempts: must be at least 1, got " + attempts);
      }
      this.maxLockAttempts = attempts;
      return this;
    }

    /**
     * Speak this schema version even if the table comment is missing or different (Rails schema
     * dumps drop it). The columns are still checked against it. Default: read the comment.
     */
    public Builder assumeSchemaVersion(int version) {
      this.assumedVersion = version;
      return this;
    }

    /**
     * Schema 6/7: the job schema version to write on enqueue and to take when working: 2 for Que
     * 2.x workers (args plus kwargs), 1 during a mixed upgrade with Que 1.3/1.4 workers. Default: 2.
     * Schema 5 always uses 1; schemas 3 and 4 have no such column.
     */
    public Builder jobSchemaVersion(int version) {
      if (version != 1 && version != 2) {
        throw new IllegalArgumentException("jobSchemaVersion: must be 1 (Que 1.3/1.4) or 2 (Que 2.x), got " + version);
      }
      this.jobSchemaVersion = version;
      return this;
    }

    /**
     * Schema 7: whether this client's outcome statements (the delete after a job succeeds, and
     * {@code error}, {@code retryIn}, {@code finish}, {@code expire}) let Que's deprecated
     * {@code que_state_notify} trigger send its {@code job_change} message on the channel
     * {@code que_state}. Default: false, they set {@code que.skip_notify} for their own statement's
     * transaction, because nothing in Que listens there and every NOTIFY makes its transaction commit
     * one at a time with all other notifying ones. Set true if something of yours listens to
     * {@code que_state}. Enqueues are not affected: they always fire Que's triggers, which Ruby
     * lockers rely on. Schemas 4 to 6 have no such switch and always send.
     */
    public Builder stateNotifications(boolean send) {
      this.stateNotifications = send;
      return this;
    }

    /** Reads the schema version and returns the client; throws {@link QueException} if the table is unusable. */
    public Client build() {
      try (Connection c = dataSource.getConnection()) {
        SchemaInfo info = SchemaInfo.inspect(c, null);
        int version = info.version(assumedVersion);
        return new Client(this, SchemaInfo.dialectFor(version, info.table(), jobSchemaVersion, stateNotifications),
            info.table());
      } catch (SQLException e) {
        throw new QueException("cannot read the que_jobs schema: " + e.getMessage(), e);
      }
    }
  }
}
