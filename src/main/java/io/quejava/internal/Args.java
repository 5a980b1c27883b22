package io.quejava.internal;

/**
 * The one rule for null arguments in the public API: an {@link IllegalArgumentException} whose
 * message starts with the parameter's name, as for every other bad input.
 */
public final class Args {
  private Args() {}

  /** {@code value}, or an {@link IllegalArgumentException} "{@code name}: must not be null". */
  public static <T> T notNull(T value, String name) {
    if (value == null) {
      throw new IllegalArgumentException(name + ": must not be null");
    }
    return value;
  }
}
