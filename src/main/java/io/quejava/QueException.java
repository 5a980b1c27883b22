package io.quejava;

import java.sql.SQLException;

/**
 * The one unchecked exception que-java throws for failures of the database or of the protocol.
 *
 * <p>When the cause is a {@link SQLException} its SQLSTATE is kept and available from
 * {@link #sqlState()}. Bad input is rejected before any SQL runs with an {@link
 * IllegalArgumentException} instead.
 */
public class QueException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String sqlState;

  public QueException(String message) {
    super(message);
    this.sqlState = null;
  }

  public QueException(String message, Throwable cause) {
    super(message, cause);
    this.sqlState = cause instanceof SQLException ? ((SQLException) cause).getSQLState() : null;
  }

  /** The SQLSTATE of the underlying {@link SQLException}, or {@code null} when there is none. */
  public String sqlState() {
    return sqlState;
  }
}
