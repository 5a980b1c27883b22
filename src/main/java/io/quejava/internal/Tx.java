package io.quejava.internal;

import io.quejava.QueException;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/** One transaction on a connection of our own: committed on success, rolled back on any failure. */
public final class Tx {
  private Tx() {}

  /** The work done inside the transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction on a new connection from {@code dataSource}; a database
   * failure becomes a {@link QueException} whose message starts with {@code what}.
   */
  public static <T> T run(DataSource dataSource, String what, Work<T> work) {
    return run(dataSource, what, null, work);
  }

  /**
   * As {@link #run(DataSource, String, Work)}, in one read-only snapshot (REPEATABLE READ): every
   * statement of {@code work} sees the same data and the same {@code now()}.
   */
  public static <T> T readSnapshot(DataSource dataSource, String what, Work<T> work) {
    return run(dataSource, what, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", work);
  }

  private static <T> T run(DataSource dataSource, String what, String first, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        if (first != null) {
          try (java.sql.Statement st = c.createStatement()) {
            st.execute(first);
          }
        }
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw new QueException(what + " failed: " + e.getMessage(), e);
    }
  }
}
