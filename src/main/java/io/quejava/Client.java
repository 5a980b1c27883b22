package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.Dialect;
import io.quejava.internal.JobRow;
import io.quejava.internal.ModernDialect;
import io.quejava.internal.SchemaInfo;
import io.quejava.internal.Session;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
  private final com.fasterxml.jackson.databind.ObjectMapper mapper;
  private final Locker locker;
  private final io.quejava.internal.UniqueInsert uniqueInsert;
  private final List<EnqueueListener> enqueueListeners;
  /** Test seam: runs between the lock query and the re-check. */
  volatile Consumer<Job> beforeRecheck;

  private Client(Builder b, Dialect dialect, String table) {
    this.dataSource = b.dataSource;
    this.dialect = dialect;
    this.table = table;
    this.maxLockAttempts = b.maxLockAttempts;
    this.mapper = b.mapper;
    this.locker = new Locker(this, dialect, maxLockAttempts, mapper);
    this.uniqueInsert = new io.quejava.internal.UniqueInsert(dialect);
    this.enqueueListeners = List.copyOf(b.enqueueListeners);
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
   * 6/7: {@link Builder#jobSchemaVersion}, default 2); empty on schemas 3 and 4, which have none.
   */
  public java.util.OptionalInt jobSchemaVersion() {
    Integer v = dialect instanceof ModernDialect m ? m.jobSchemaVersion() : null;
    return v == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(v);
  }

  /** True on schema 4–7, where jobs can be finished and expired. */
  public boolean hasOutcomeColumns() {
    return dialect.hasOutcomeColumns();
  }

  /** The queue jobs go to when none is named: {@code ''} on schema 3, {@code 'default'} on 4–7. */
  public String defaultQueue() {
    return dialect.defaultQueue();
  }

  /**
   * Enqueues a job of {@code jobClass} whose positional args are these values, one each (as
   * {@link NewJob#of(String, Object...)}: {@code enqueue("Sum", List.of(1, 2))} stores
   * {@code [[1, 2]]}), defaults for the rest.
   */
  public Job enqueue(String jobClass, Object... args) {
    return enqueue(NewJob.of(jobClass, args));
  }

  /** Enqueues a job of {@code jobClass} whose args are this record (as {@link NewJob#of(String, Record)}). */
  public Job enqueue(String jobClass, Record args) {
    return enqueue(NewJob.of(jobClass, args));
  }

  /**
   * Enqueues one job on a connection of its own, committed when this returns. For a unique job
   * ({@link NewJob#unique}) whose key a counted job holds, inserts nothing and returns that job with
   * {@link Job#isDuplicate()} true.
   */
  public Job enqueue(NewJob job) {
    Args.notNull(job, "job");
    NewJob rendered = job.render(mapper);
    Job out;
    try {
      out = withOwnConnection(c -> insertOne(c, rendered));
    } catch (RuntimeException e) {
      throw failed(List.of(rendered), e);
    }
    return enqueued(out);
  }

  /**
   * Enqueues one job on the caller's connection, inside whatever transaction it has open: the job
   * exists if and only if that transaction commits. The library neither commits nor rolls back. A
   * unique job's key is claimed in the same transaction: a rollback releases it.
   */
  public Job enqueue(Connection connection, NewJob job) {
    Args.notNull(connection, "connection");
    Args.notNull(job, "job");
    NewJob rendered = job.render(mapper);
    try {
      return enqueued(insertOne(connection, rendered));
    } catch (SQLException e) {
      throw failed(List.of(rendered), new QueException("enqueue of " + job.jobClass() + " failed: " + e.getMessage(), e));
    } catch (RuntimeException e) {
      throw failed(List.of(rendered), e);
    }
  }

  /**
   * Enqueues all jobs on a connection of its own, in one transaction; all or none. Up to 127 jobs go
   * in one multi-row INSERT (one round trip); from 128 on, the batch's ids are drawn from the
   * sequence and the rows written with one COPY (three round trips, several times the rows per
   * second), unless a job of the batch is unique ({@link NewJob#unique}), which always takes the
   * INSERT path. Either way each job runs every trigger of que_jobs, jobs without a run_at get the
   * database's now(), and a row the database refuses fails the whole batch (COPY's error names the
   * job: {@code jobs[i]}).
   * Returns one job per job given, in order, with the id stored for it; unique jobs whose key is
   * taken come back as the job that holds it ({@link Job#isDuplicate()}), later jobs of the batch
   * with an earlier one's key as that one.
   */
  public List<Job> enqueueAll(List<NewJob> jobs) {
    List<NewJob> checked = checkBatch(jobs);
    if (checked.isEmpty()) {
      return List.of();
    }
    List<Job> out;
    try {
      out = withOwnConnection(c -> insertAll(c, checked));
    } catch (RuntimeException e) {
      throw failed(checked, e);
    }
    return enqueued(out);
  }

  /**
   * As {@link #enqueueAll(List)}, inside the caller's transaction (the jobs exist if and only if it
   * commits; the library neither commits nor rolls back). A failed batch leaves the transaction
   * aborted, as any failed statement does.
   */
  public List<Job> enqueueAll(Connection connection, List<NewJob> jobs) {
    Args.notNull(connection, "connection");
    List<NewJob> checked = checkBatch(jobs);
    if (checked.isEmpty()) {
      return List.of();
    }
    try {
      return enqueued(insertAll(connection, checked));
    } catch (SQLException e) {
      throw failed(checked, new QueException("enqueue of " + checked.size() + " jobs failed: " + e.getMessage(), e));
    } catch (RuntimeException e) {
      throw failed(checked, e);
    }
  }

  /**
   * Locks the next ready job of {@code queue} on a connection of its own, which the returned job
   * keeps (with the lock) until {@link LockedJob#close()}. Empty when no job is ready, or when every
   * attempt lost a race to another worker ({@link Builder#maxLockAttempts} in a row).
   */
  public Optional<LockedJob> lockJob(String queue) {
    Args.notNull(queue, "queue");
    Session session;
    try {
      session = new Session(dataSource.getConnection());
    } catch (SQLException e) {
      throw new QueException("cannot get a connection: " + e.getMessage(), e);
    }
    boolean handedOver = false;
    try {
      LockedJob job = locker.lock(session, queue, RetryPolicy.DEFAULT,
          hasOutcomeColumns() ? WorkerConfig.DEFAULT_MAX_RETRY_COUNT : null, true);
      handedOver = job != null;
      return Optional.ofNullable(job);
    } finally {
      if (!handedOver) {
        session.close();
      }
    }
  }

  /** The lock protocol of this client's workers and of {@link #lockJob}. */
  Locker locker() {
    return locker;
  }

  /**
   * Failures of jobs whose session ended while they ran, not yet recorded: any worker of this client
   * that locks such a job (its row unchanged) records the failure instead of running it again, so a
   * job that kills its own session runs once per backoff, not in a hot loop among this process's
   * workers. Bounded; entries are dropped once used or after {@link #ORPHAN_TTL_NANOS}.
   */
  private final java.util.concurrent.ConcurrentHashMap<Long, Orphan> orphans = new java.util.concurrent.ConcurrentHashMap<>();

  private static final long ORPHAN_TTL_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(10);
  private static final int MAX_ORPHANS = 10_000;

  /** A failure waiting to be recorded for the job with this error count and class. */
  record Orphan(int errorCount, String jobClass, Throwable failure, long createdNanos) {}

  /**
   * Ids of the jobs this client's workers are running now. A job whose session died mid-run (its
   * lock gone with it) can be locked by a sibling while its first attempt still runs or settles; the
   * sibling must not run it at the same time in this process, so it leaves the job alone.
   */
  private final java.util.Set<Long> runningHere = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Marks the job as running in this process; false when an attempt of it already runs here. */
  boolean startRunning(long id) {
    return runningHere.add(id);
  }

  void stopRunning(long id) {
    runningHere.remove(id);
  }

  void rememberOrphan(Job job, Throwable failure) {
    if (orphans.size() < MAX_ORPHANS) {
      orphans.put(job.id(), new Orphan(job.errorCount(), job.jobClass(), failure, System.nanoTime()));
    }
  }

  void forgetOrphan(long id) {
    orphans.remove(id);
  }

  /** The unrecorded failure of this job's previous attempt, if its row is still as it was then. */
  Throwable takeOrphan(Job job) {
    if (orphans.isEmpty()) {
      return null;
    }
    Orphan o = orphans.remove(job.id());
    if (o == null || System.nanoTime() - o.createdNanos() > ORPHAN_TTL_NANOS
        || o.errorCount() != job.errorCount() || !o.jobClass().equals(job.jobClass())) {
      return null;
    }
    return o.failure();
  }



  private List<NewJob> checkBatch(List<NewJob> jobs) {
    Args.notNull(jobs, "jobs");
    List<NewJob> copy = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      NewJob job = jobs.get(i);
      if (job == null) {
        throw new IllegalArgumentException("jobs[" + i + "]: must not be null");
      }
      try {
        copy.add(job.render(mapper));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("jobs[" + i + "]." + e.getMessage(), e);
      }
    }
    return copy;
  }

  private Job enqueued(Job job) {
    for (EnqueueListener l : enqueueListeners) {
      try {
        l.enqueued(job);
      } catch (RuntimeException e) {
        log.warn("enqueue listener {} failed: {}", l, e.toString());
      }
    }
    return job;
  }

  private List<Job> enqueued(List<Job> jobs) {
    if (!enqueueListeners.isEmpty()) {
      jobs.forEach(this::enqueued);
    }
    return jobs;
  }

  /** Tells the listeners that these jobs failed to enqueue; returns {@code error} for the caller to throw. */
  private RuntimeException failed(List<NewJob> jobs, RuntimeException error) {
    for (EnqueueListener l : enqueueListeners) {
      for (NewJob j : jobs) {
        try {
          l.enqueueFailed(j.jobClass(), j.queueOr(defaultQueue()), error);
        } catch (RuntimeException e) {
          log.warn("enqueue listener {} failed: {}", l, e.toString());
        }
      }
    }
    return error;
  }

  /** One rendered job: the plain insert, or for a unique job the claim of its key (see {@link UniqueOptions}). */
  private Job insertOne(Connection c, NewJob rendered) throws SQLException {
    if (rendered.unique().isEmpty()) {
      return new Job(dialect.insert(c, rendered), mapper);
    }
    return wrapUnique(uniqueInsert.insert(c, List.of(rendered), false)).get(0);
  }

  /** A checked batch: one plain statement, or when any job is unique the claim of their keys. */
  private List<Job> insertAll(Connection c, List<NewJob> checked) throws SQLException {
    if (checked.stream().noneMatch(j -> j.unique().isPresent())) {
      return wrap(dialect.insertAll(c, checked));
    }
    return wrapUnique(uniqueInsert.insert(c, checked, true));
  }

  private List<Job> wrapUnique(List<io.quejava.internal.UniqueInsert.Outcome> outcomes) {
    List<Job> out = new ArrayList<>(outcomes.size());
    for (io.quejava.internal.UniqueInsert.Outcome o : outcomes) {
      out.add(new Job(o.row(), mapper, o.duplicate()));
    }
    return out;
  }

  private List<Job> wrap(List<JobRow> rows) {
    List<Job> out = new ArrayList<>(rows.size());
    for (JobRow r : rows) {
      out.add(new Job(r, mapper));
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
    private com.fasterxml.jackson.databind.ObjectMapper mapper = io.quejava.internal.Json.defaultMapper();
    private boolean stateNotifications;
    private final List<EnqueueListener> enqueueListeners = new ArrayList<>();

    private Builder(DataSource dataSource) {
      this.dataSource = Args.notNull(dataSource, "dataSource");
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
     * The Jackson mapper that writes args and kwargs given as Java values or records, and reads
     * them back into Java types ({@link Job#arg}, {@link Job#args(Class)}, typed handlers). Give one
     * with the modules your types need, for instance {@code JavaTimeModule} for {@code java.time}
     * values. Stored JSON is still parsed to trees with que-java's own settings, which keep large
     * integers and decimals exact. Default: a mapper with Jackson's defaults, except that decimals
     * and integers beyond 64 bits read as {@code BigDecimal}/{@code BigInteger}.
     */
    public Builder objectMapper(com.fasterxml.jackson.databind.ObjectMapper mapper) {
      if (mapper == null) {
        throw new IllegalArgumentException("mapper: must not be null");
      }
      this.mapper = mapper;
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

    /**
     * Adds a listener that hears every enqueue of this client and every enqueue that failed (see
     * {@link EnqueueListener}); {@code io.quejava.metrics.QueMetrics#bind(Client.Builder)} uses it
     * for the enqueue counters. Default: none.
     */
    public Builder enqueueListener(EnqueueListener listener) {
      enqueueListeners.add(Args.notNull(listener, "listener"));
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
