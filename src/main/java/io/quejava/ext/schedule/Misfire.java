package io.quejava.ext.schedule;

/**
 * What a scheduler does with ticks it missed (it was down, or every scheduler was). Whatever the
 * policy, one tick is never enqueued twice and missed ticks are never enqueued one by one.
 */
public enum Misfire {
  /**
   * Enqueue one job for all the missed ticks, with run_at = the latest of them. The default: a
   * nightly report that did not run because of a deploy runs once when a scheduler is back.
   */
  RUN_ONCE("run_once"),
  /**
   * Enqueue nothing for ticks older than the scheduler's {@link Scheduler.Builder#misfireThreshold
   * misfire threshold}; the schedule goes on with its next tick. A tick only slightly late (within
   * the threshold) still runs.
   */
  SKIP("skip");

  private final String sql;

  Misfire(String sql) {
    this.sql = sql;
  }

  /** The value stored in {@code que_schedules.misfire}. */
  String sql() {
    return sql;
  }

  static Misfire fromSql(String value) {
    for (Misfire m : values()) {
      if (m.sql.equals(value)) {
        return m;
      }
    }
    throw new IllegalArgumentException("misfire: unknown policy '" + value + "'");
  }
}
