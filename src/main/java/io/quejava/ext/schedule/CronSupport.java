package io.quejava.ext.schedule;

import java.time.ZoneId;

/**
 * Whether the optional cron-utils library is on the class path, and the one door to it. Interval
 * schedules never come through here, so they work without the library.
 */
final class CronSupport {
  private static final boolean AVAILABLE = probe();

  private CronSupport() {}

  static boolean available() {
    return AVAILABLE;
  }

  /**
   * The timing of a cron schedule.
   *
   * @throws IllegalArgumentException when the expression is invalid
   * @throws IllegalStateException when cron-utils is not on the class path
   */
  static Timing parse(String expression, ZoneId zone) {
    if (!AVAILABLE) {
      throw new IllegalStateException("cron: cron schedules need com.cronutils:cron-utils (9.2.x) on the class path"
          + " (on the module path: requires com.cronutils); add the dependency, or use an interval schedule");
    }
    return CronTiming.parse(expression, zone);
  }

  private static boolean probe() {
    try {
      Class.forName("com.cronutils.parser.CronParser", false, CronSupport.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
