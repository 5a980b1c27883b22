package io.quejava.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Que 2.x's switch for its own triggers, {@code que.skip_notify}, set for one batch insert as Que's
 * bulk insert does and then put back as it was, inside the caller's transaction.
 */
final class SkipNotify {
  private static final String ON =
      "SELECT current_setting('que.skip_notify', true), set_config('que.skip_notify', 'true', true)";
  private static final String RESTORE = "SELECT set_config('que.skip_notify', coalesce(?, ''), true)";

  private SkipNotify() {}

  /** Turns it on for the transaction; returns the previous value (null when unset). */
  static String on(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(ON)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Puts back what {@link #on} returned. */
  static void restore(Connection c, String previous) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RESTORE)) {
      ps.setString(1, previous);
      ps.execute();
    }
  }
}
