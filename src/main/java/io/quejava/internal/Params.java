package io.quejava.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Binds a statement's parameters in the order they stand in its SQL, counting the positions itself,
 * so that a statement with many parameters is bound as a list of names, not of numbers.
 *
 * <p>The array methods bind one column of {@code rows} as a PostgreSQL array (for
 * {@code unnest(?::bigint[], ...)}), built by {@code column} from each row in order; parallel
 * columns of the same rows line up by position.
 *
 * <pre>{@code
 * Params.of(ps).text(host).bigints(rows, r -> r.id).texts(rows, r -> r.queue);
 * }</pre>
 */
public final class Params {
  private final PreparedStatement ps;
  private final Connection c;
  private int next = 1;

  private Params(PreparedStatement ps) throws SQLException {
    this.ps = ps;
    this.c = ps.getConnection();
  }

  /** Binds {@code ps} from its first parameter on. */
  public static Params of(PreparedStatement ps) throws SQLException {
    return new Params(ps);
  }

  /** The next parameter: a text (null binds NULL). */
  public Params text(String value) throws SQLException {
    ps.setString(next++, value);
    return this;
  }

  /** The next parameter: a bigint. */
  public Params bigint(long value) throws SQLException {
    ps.setLong(next++, value);
    return this;
  }

  /** The next parameter: a {@code bigint[]} of one column of {@code rows}. */
  public <T> Params bigints(List<T> rows, Function<T, Long> column) throws SQLException {
    return array("bigint", rows, column, Long[]::new);
  }

  /** The next parameter: an {@code integer[]} of one column of {@code rows}. */
  public <T> Params integers(List<T> rows, Function<T, Integer> column) throws SQLException {
    return array("integer", rows, column, Integer[]::new);
  }

  /** The next parameter: a {@code smallint[]} of one column of {@code rows}. */
  public <T> Params smallints(List<T> rows, Function<T, Short> column) throws SQLException {
    return array("smallint", rows, column, Short[]::new);
  }

  /** The next parameter: a {@code text[]} of one column of {@code rows}. */
  public <T> Params texts(List<T> rows, Function<T, String> column) throws SQLException {
    return array("text", rows, column, String[]::new);
  }

  private <T, V> Params array(String type, List<T> rows, Function<T, V> column, IntFunction<V[]> newArray)
      throws SQLException {
    V[] values = newArray.apply(rows.size());
    for (int i = 0; i < values.length; i++) {
      values[i] = column.apply(rows.get(i));
    }
    ps.setArray(next++, c.createArrayOf(type, values));
    return this;
  }
}
