package io.quejava.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.regex.Pattern;

/**
 * Names that must be SQL text because PostgreSQL takes no parameter in their place: the schema in
 * {@code SET search_path}, in a {@code FROM} clause, or written into a migration file. Values never
 * come through here; they are always bind parameters.
 *
 * <p>Two rules, each applied in one place: a name the caller gives is first {@link #requirePlain
 * checked} (so that a typo or an attack fails with a clear message before anything runs), and every
 * name, given or read from the catalog, is {@link #quote quoted} by the server's own
 * {@code quote_ident} before it becomes SQL.
 */
public final class Identifiers {
  private Identifiers() {}

  /** Letters, digits, {@code _} and {@code $}, not starting with a digit, at most 63 characters. */
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

  /**
   * {@code name}, when it is a plain identifier (letters, digits, {@code _} and {@code $}, not
   * starting with a digit, at most 63 characters).
   *
   * @throws IllegalArgumentException naming {@code field}, when it is null or not plain
   */
  public static String requirePlain(String field, String name) {
    Args.notNull(name, field);
    if (!PLAIN.matcher(name).matches()) {
      throw new IllegalArgumentException(field + ": '" + name + "' is not a plain SQL identifier");
    }
    return name;
  }

  /**
   * {@code identifier} as PostgreSQL's {@code quote_ident} writes it: in double quotes (inner ones
   * doubled) only when it must be, so that {@code public} stays {@code public}, as Ruby Que's
   * functions name it. The name travels to the server as a parameter; one round trip.
   */
  public static String quote(Connection c, String identifier) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT quote_ident(?)")) {
      ps.setString(1, identifier);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
