package io.quejava.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import org.postgresql.PGConnection;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

/**
 * One pinned database session: the connection that takes a job's advisory lock and must keep it
 * until the job's resolution has committed (protocol rule R2), plus that connection's prepared
 * statements, kept for reuse as long as the connection lives.
 *
 * <p>Not thread-safe: a session belongs to one worker (or one {@code lockJob} caller) at a time.
 * {@link #abort()} is the exception: another thread may call it to kill the connection, which makes
 * PostgreSQL drop every lock and roll back any transaction of this session.
 */
public final class Session implements AutoCloseable {
  private static final Executor DIRECT = Runnable::run;

  private final Connection connection;
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private volatile boolean aborted;
  private int backendPid;
  /** System.nanoTime() when a statement last succeeded on this session (as reported by its users). */
  private volatile long aliveAt = System.nanoTime();

  public Session(Connection connection) {
    this.connection = connection;
  }

  public Connection connection() {
    return connection;
  }

  /** {@code pg_backend_pid()} of this session, as the driver learned it at connect (no round trip). */
  public int backendPid() {
    if (backendPid == 0) {
      try {
        backendPid = connection.unwrap(PGConnection.class).getBackendPID();
      } catch (SQLException e) {
        return 0;
      }
    }
    return backendPid;
  }

  /** The prepared statement for {@code sql} on this connection, prepared on first use. */
  public PreparedStatement prepare(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null || ps.isClosed()) {
      ps = connection.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  /** {@code pg_try_advisory_lock(id)} (bigint form, as every Que peer locks jobs) on this session. */
  public boolean tryAdvisoryLock(long id) throws SQLException {
    PreparedStatement ps = prepare("SELECT pg_try_advisory_lock(?::bigint)");
    ps.setLong(1, id);
    try (java.sql.ResultSet rs = ps.executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /** Records that a statement on this session just succeeded: the session, and its locks, are alive. */
  public void markAlive() {
    aliveAt = System.nanoTime();
  }

  /** Nanoseconds since a statement last succeeded on this session (as recorded by {@link #markAlive()}). */
  public long nanosSinceAlive() {
    return System.nanoTime() - aliveAt;
  }

  /** A one-row {@code SELECT 1}: proves the session alive (and records it). */
  public void ping() throws SQLException {
    PreparedStatement ps = prepare("SELECT 1");
    try (java.sql.ResultSet rs = ps.executeQuery()) {
      rs.next();
    }
    markAlive();
  }

  /** True when a transaction is open (or failed) on this connection. */
  public boolean inTransaction() throws SQLException {
    BaseConnection base = connection.unwrap(BaseConnection.class);
    return base.getTransactionState() != TransactionState.IDLE;
  }

  /**
   * Puts the connection back in autocommit with no transaction open, rolling back whatever a job
   * handler left open. Returns true when something had to be rolled back.
   */
  public boolean resetTransaction() throws SQLException {
    boolean rolledBack = false;
    if (inTransaction()) {
      connection.rollback();
      rolledBack = true;
    }
    if (!connection.getAutoCommit()) {
      connection.setAutoCommit(true);
    }
    return rolledBack;
  }

  public boolean isAborted() {
    return aborted;
  }

  /** Kills the connection from any thread; the server then releases this session's locks. */
  public void abort() {
    aborted = true;
    try {
      connection.abort(DIRECT);
    } catch (SQLException | RuntimeException ignored) {
      // Already gone: the server side is released either way.
    }
  }

  @Override
  public void close() {
    for (PreparedStatement ps : statements.values()) {
      try {
        ps.close();
      } catch (SQLException ignored) {
        // Closing the connection below frees them anyway.
      }
    }
    statements.clear();
    try {
      connection.close();
    } catch (SQLException ignored) {
      // Nothing left to release on a connection that cannot be closed cleanly.
    }
  }
}
