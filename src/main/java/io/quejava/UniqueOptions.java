package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.Text;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * What makes a job unique: give it to {@link NewJob#unique(UniqueOptions)}. While a job holding the
 * same key is in one of the counted {@link #states(State...) states} (and, with a {@link #period}, the key has not
 * lapsed), enqueueing another inserts nothing and returns that job with {@link Job#isDuplicate()}
 * true. Needs the {@code unique} extension ({@code io.quejava.ext.unique.UniqueJobs.install}).
 * Immutable.
 *
 * <pre>{@code
 * NewJob.of("SendReceipt", orderId).unique(UniqueOptions.byArgs())                    // class + queue + args
 * NewJob.of("Sync", account).unique(UniqueOptions.byKey("sync:" + account).period(Duration.ofMinutes(5)))
 * NewJob.of("Rebuild").unique(UniqueOptions.byArgs().states(State.READY, State.SCHEDULED)) // a running one does not count
 * }</pre>
 */
public final class UniqueOptions {
  /** The longest explicit key: {@value} characters. */
  public static final int MAX_KEY_LENGTH = 1000;

  /** Derived keys start with this; explicit keys may not. */
  public static final String DERIVED_PREFIX = "que-java:";

  /** The longest period: 100 years. */
  public static final Duration MAX_PERIOD = Duration.ofDays(100L * 365);

  /**
   * The states of the job holding a key in which it counts as a duplicate. A job leaves them all
   * when it is deleted (worked by anyone, or removed), finished or expired (schema 4-7): its key is
   * released then, by a trigger, whoever did it.
   */
  public enum State {
    /** Due: {@code run_at <= now()}, never failed, not locked. */
    READY,
    /** Not yet due: {@code run_at > now()}, never failed, not locked. */
    SCHEDULED,
    /**
     * Some session holds the job's advisory lock: a Ruby, Go or Java worker runs it, or has locked it
     * ahead of running it (a prefetched batch, Que 1.x's buffer). There is no column for this state.
     */
    RUNNING,
    /** Failed at least once ({@code error_count > 0}) and waiting for its next attempt, not locked. */
    FAILING
  }

  private static final Set<State> ALL = Collections.unmodifiableSet(EnumSet.allOf(State.class));

  private final String key;
  private final Duration period;
  private final Set<State> states;

  private UniqueOptions(String key, Duration period, Set<State> states) {
    this.key = key;
    this.period = period;
    this.states = states;
  }

  /**
   * The key is the job's class, its queue (the default queue when none is set) and its args and (on
   * schema 6-7) kwargs, compared as JSON values: key order, spacing and number spelling
   * ({@code 1.0} and {@code 1}) do not matter.
   */
  public static UniqueOptions byArgs() {
    return new UniqueOptions(null, null, ALL);
  }

  /**
   * An explicit key, shared by every job class and queue of the table: two jobs with this key are
   * duplicates whatever else they are. At most {@value #MAX_KEY_LENGTH} characters, not empty, not
   * starting with {@value #DERIVED_PREFIX}.
   */
  public static UniqueOptions byKey(String key) {
    Args.notNull(key, "key");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("key: must not be empty");
    }
    if (key.codePointCount(0, key.length()) > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException("key: at most " + MAX_KEY_LENGTH + " characters, got "
          + key.codePointCount(0, key.length()));
    }
    if (key.startsWith(DERIVED_PREFIX)) {
      throw new IllegalArgumentException("key: must not start with " + DERIVED_PREFIX + " (derived keys do)");
    }
    if (key.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("key: contains a NUL character, which PostgreSQL cannot store");
    }
    Text.requireWellFormed("key", key);
    return new UniqueOptions(key, null, ALL);
  }

  /**
   * Unique for this long from the enqueue (by the database's {@code now()}): once it has passed, the
   * key no longer counts and the next enqueue of it inserts a new job, even while the first is still
   * there. Checked by that enqueue; nothing needs to sweep. Default: no period (the key counts for
   * as long as its job is in a counted state).
   */
  public UniqueOptions period(Duration period) {
    Args.notNull(period, "period");
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period: must be positive, got " + period);
    }
    if (period.compareTo(MAX_PERIOD) > 0) {
      throw new IllegalArgumentException("period: at most 100 years, got " + period);
    }
    return new UniqueOptions(key, period, states);
  }

  /**
   * The states in which the job holding the key counts as a duplicate. Default: all four (ready,
   * scheduled, running, failing), which the database enforces by itself; with fewer, the holder's
   * state is read when a duplicate is found, and a holder in another state gives its key to the new
   * job (see the README for what that reading can and cannot promise).
   */
  public UniqueOptions states(State... states) {
    Args.notNull(states, "states");
    if (states.length == 0) {
      throw new IllegalArgumentException("states: name at least one state");
    }
    EnumSet<State> set = EnumSet.noneOf(State.class);
    for (int i = 0; i < states.length; i++) {
      set.add(Args.notNull(states[i], "states[" + i + "]"));
    }
    return new UniqueOptions(key, period, Collections.unmodifiableSet(set));
  }

  /** The explicit key; empty when the key is derived from class, queue and args. */
  public Optional<String> explicitKey() {
    return Optional.ofNullable(key);
  }

  /** The period; empty for none. */
  public Optional<Duration> period() {
    return Optional.ofNullable(period);
  }

  /** The counted states (unmodifiable), as set with {@link #states(State...)}. */
  public Set<State> countedStates() {
    return states;
  }

  /** True when every state counts, the default, which needs no look at the holder. */
  public boolean countsEveryState() {
    return states.size() == ALL.size();
  }

  @Override
  public String toString() {
    return "UniqueOptions{" + (key == null ? "byArgs" : "key=" + key) + (period == null ? "" : ", period=" + period)
        + ", states=" + states + "}";
  }
}
