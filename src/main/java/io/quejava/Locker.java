package io.quejava;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quejava.internal.Dialect;
import io.quejava.internal.JobRow;
import io.quejava.internal.Session;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock protocol, in one place: the walk that locks a batch, the re-check of every locked row in
 * a fresh statement (rule R3), the unlock of lost races, the batch unlock after every outcome has
 * committed (rule R2), the unlock of prefetched jobs left unrun, the relock of a job whose session
 * died, and the rule for every failure on the way: abort the session, so that PostgreSQL drops
 * every lock it holds rather than a connection pool lending out a session that still holds one.
 */
final class Locker {
  private static final Logger log = LoggerFactory.getLogger(Locker.class);

  private final Client client;
  private final Dialect dialect;
  private final int maxLockAttempts;
  private final ObjectMapper mapper;

  Locker(Client client, Dialect dialect, int maxLockAttempts, ObjectMapper mapper) {
    this.client = client;
    this.dialect = dialect;
    this.maxLockAttempts = maxLockAttempts;
    this.mapper = mapper;
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
   * walk lost its race, at most {@link Client.Builder#maxLockAttempts} times. The session must hold no job
   * lock when this is called. On any failure the session is aborted, so no lock survives on it.
   */
  List<LockedJob> lockBatch(Session session, String queue, int max, RetryPolicy retryPolicy,
      Integer maxRetryCount, boolean ownsSession) {
    return lockBatch(session, queue, max, retryPolicy, maxRetryCount, ownsSession, () -> NO_IDS);
  }

  private static final long[] NO_IDS = new long[0];

  /**
   * The same, the walk passing over the ids {@code skip} gives (read before each walk): jobs that
   * other sessions of this process hold now. Only a hint: the lock call decides every row tried.
   */
  List<LockedJob> lockBatch(Session session, String queue, int max, RetryPolicy retryPolicy,
      Integer maxRetryCount, boolean ownsSession, java.util.function.Supplier<long[]> skip) {
    try {
      session.resetTransaction();
      for (int attempt = 1; attempt <= maxLockAttempts; attempt++) {
        List<JobRow> rows = dialect.lockBatch(session, queue, max, skip.get());
        if (rows.isEmpty()) {
          return List.of();
        }
        Consumer<Job> hook = client.beforeRecheck;
        if (hook != null) {
          rows.forEach(r -> hook.accept(new Job(r, mapper)));
        }
        boolean[] current;
        if (rows.size() == 1) {
          current = new boolean[] {dialect.recheck(session, rows.get(0))};
        } else {
          current = dialect.recheckAll(session, rows);
        }
        session.markAlive();
        List<LockedJob> locked = new ArrayList<>(rows.size());
        List<Long> lostIds = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
          JobRow row = rows.get(i);
          if (current[i]) {
            locked.add(new LockedJob(dialect, session, new Job(row, mapper), retryPolicy, maxRetryCount, ownsSession));
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

  /**
   * For a job whose session ended while it ran (the handler killed it, the server ended it): locks
   * the job again on a fresh session and re-checks that its row is exactly as it was locked, so the
   * failure can be recorded with its backoff. Returns the job, locked on a session it owns, or null
   * when another session holds it (another worker runs it now: leave it alone) or the row changed.
   */
  LockedJob relock(Job job, RetryPolicy retryPolicy, Integer maxRetryCount) {
    Session s;
    try {
      s = new Session(client.dataSource().getConnection());
    } catch (SQLException e) {
      throw new QueException("cannot get a connection: " + e.getMessage(), e);
    }
    boolean handedOver = false;
    try {
      s.resetTransaction();
      if (!s.tryAdvisoryLock(job.id())) {
        return null;
      }
      if (!dialect.recheck(s, job.row())) {
        dialect.unlock(s, job.id());
        return null;
      }
      handedOver = true;
      return new LockedJob(dialect, s, job, retryPolicy, maxRetryCount, true);
    } catch (SQLException e) {
      s.abort();
      throw new QueException("locking job " + job.id() + " again failed: " + e.getMessage(), e);
    } finally {
      if (!handedOver) {
        s.close();
      }
    }
  }

  /**
   * Batched completion: deletes these jobs, which this session holds, in one autocommit statement;
   * answers by position whether each row was deleted (false: changed under its lock, rule R7).
   */
  boolean[] deleteAll(Session session, List<LockedJob> jobs) throws SQLException {
    List<JobRow> rows = new ArrayList<>(jobs.size());
    for (LockedJob j : jobs) {
      rows.add(j.job().row());
    }
    boolean[] deleted = dialect.deleteAll(session, rows);
    session.markAlive();
    return deleted;
  }

  /** Unlocks these jobs on the session in one statement; returns how many locks were held. */
  int unlockAll(Session session, long[] ids) throws SQLException {
    return ids.length == 1 ? (dialect.unlock(session, ids[0]) ? 1 : 0) : dialect.unlockAll(session, ids);
  }
  /**
   * Unlocks the jobs of a batch that will not run, after rolling back any transaction left open on
   * the session (so no unlock precedes a commit). Their rows were never touched.
   */
  void releaseUnrun(Session s, String queue, List<LockedJob> unrun) throws SQLException {
    long[] ids = new long[unrun.size()];
    for (int i = 0; i < ids.length; i++) {
      unrun.get(i).settleForBatchUnlock();
      ids[i] = unrun.get(i).job().id();
    }
    int held = unlockAll(s, ids);
    if (held != ids.length) {
      log.warn("worker on queue '{}': {} of {} prefetched job locks were not held at release", queue, ids.length - held, ids.length);
    }
  }

  /**
   * The end of a batch: settles the first {@code end} jobs (each outcome has committed, or its open
   * transaction is rolled back now) and unlocks them in one statement. An unlock that fails aborts
   * the session, which drops the locks; so does an aborted session, whose locks are gone already.
   */
  void unlockBatch(Session s, String queue, List<LockedJob> batch, int end) {
    long[] ids = new long[end];
    for (int i = 0; i < end; i++) {
      LockedJob locked = batch.get(i);
      locked.settleForBatchUnlock();
      ids[i] = locked.job().id();
    }
    if (s.isAborted()) {
      return;
    }
    try {
      int held = unlockAll(s, ids);
      if (held != ids.length) {
        log.warn("worker on queue '{}': {} of {} job locks were not held at unlock", queue, ids.length - held, ids.length);
      }
    } catch (SQLException e) {
      log.warn("worker on queue '{}': unlock failed ({}); closing the connection so the server drops the locks",
          queue, e.getMessage());
      s.abort();
    }
  }
}
