package io.quejava.ext.schedule;

import io.quejava.NewJob;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A recurring job: when it ticks (a cron expression in a time zone, or a fixed interval) and the job
 * each tick enqueues (class, args, queue, priority). Immutable; every value is checked when it is
 * set, with an {@link IllegalArgumentException} whose message starts with the option's name.
 *
 * <pre>{@code
 * Schedule nightly = Schedule.cron("nightly-report", "30 2 * * *", ZoneId.of("Europe/Berlin"), "NightlyReport")
 *     .args("full").queue("reports");
 * Schedule poll = Schedule.every("poll-feeds", "every 15 minutes", "PollFeeds");
 * }</pre>
 *
 * <p><b>Cron</b>: five fields, {@code minute hour day-of-month month day-of-week}, as Unix cron
 * (parsed by the optional {@code com.cronutils:cron-utils}), matched against the wall clock of the
 * time zone. On the day of a spring-forward gap a time inside the gap runs once, later by the
 * length of the gap (02:30 becomes 03:30); in a fall-back overlap a repeated time runs once, at its
 * first occurrence.
 *
 * <p><b>Interval</b>: a fixed duration of at least one second, ticking at its multiples since the
 * UTC epoch (every 15 minutes: at :00, :15, :30 and :45), unaffected by daylight saving time.
 */
public final class Schedule {
  /** Longest schedule name, in characters: {@value}. */
  public static final int MAX_NAME = 200;
  /** Shortest interval: one second. */
  public static final Duration MIN_EVERY = Duration.ofSeconds(1);
  /** Longest interval: 100 years of 365 days. */
  public static final Duration MAX_EVERY = Duration.ofDays(365L * 100);

  private static final Pattern EVERY = Pattern.compile(
      "(?:every\\s+)?(?:(\\d{1,12})\\s*)?(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)");

  private final String name;
  private final String cron;
  private final ZoneId timeZone;
  private final Duration every;
  private final String jobClass;
  private final String argsJson;
  private final String queue;
  private final int priority;
  private final Misfire misfire;
  private volatile Timing timing;

  private Schedule(String name, String cron, ZoneId timeZone, Duration every, String jobClass, String argsJson,
      String queue, int priority, Misfire misfire, Timing timing) {
    this.name = name;
    this.cron = cron;
    this.timeZone = timeZone;
    this.every = every;
    this.jobClass = jobClass;
    this.argsJson = argsJson;
    this.queue = queue;
    this.priority = priority;
    this.misfire = misfire;
    this.timing = timing;
  }

  /**
   * A schedule that ticks when the five-field Unix cron {@code expression} matches the wall clock of
   * {@code timeZone}, and enqueues a job of {@code jobClass} with no args.
   *
   * @throws IllegalArgumentException when a value is invalid (the message names it)
   * @throws IllegalStateException when cron-utils is not on the class path
   */
  public static Schedule cron(String name, String expression, ZoneId timeZone, String jobClass) {
    checkName(name);
    if (expression == null || expression.isBlank()) {
      throw new IllegalArgumentException("cron: must not be blank");
    }
    if (timeZone == null) {
      throw new IllegalArgumentException("timeZone: must not be null (ZoneOffset.UTC for UTC)");
    }
    String expr = expression.strip();
    Timing timing = CronSupport.parse(expr, timeZone);
    checkJob(jobClass, "[]", null, NewJob.DEFAULT_PRIORITY);
    return new Schedule(name, expr, timeZone, null, jobClass, "[]", null, NewJob.DEFAULT_PRIORITY, Misfire.RUN_ONCE, timing);
  }

  /** {@link #cron(String, String, ZoneId, String)} with the zone as an IANA id ({@code "Europe/Berlin"}). */
  public static Schedule cron(String name, String expression, String timeZone, String jobClass) {
    return cron(name, expression, zone(timeZone), jobClass);
  }

  /**
   * A schedule that ticks every {@code every} (at least a second, whole microseconds), and enqueues
   * a job of {@code jobClass} with no args. Needs no cron library.
   */
  public static Schedule every(String name, Duration every, String jobClass) {
    checkName(name);
    Duration d = checkEvery(every);
    checkJob(jobClass, "[]", null, NewJob.DEFAULT_PRIORITY);
    return new Schedule(name, null, null, d, jobClass, "[]", null, NewJob.DEFAULT_PRIORITY, Misfire.RUN_ONCE,
        new IntervalTiming(micros(d)));
  }

  /**
   * {@link #every(String, Duration, String)} with the interval as text: {@code "every 15 minutes"},
   * {@code "30 seconds"}, {@code "every hour"}, {@code "2h"}, {@code "1 day"} (24 hours), or ISO-8601
   * ({@code "PT15M"}).
   */
  public static Schedule every(String name, String every, String jobClass) {
    return every(name, parseEvery(every), jobClass);
  }

  /**
   * The same schedule enqueueing these args, one arg each, written as a JSON array by Jackson (as
   * {@link NewJob#of(String, Object...)}).
   */
  public Schedule args(Object... args) {
    return argsJson(NewJob.of(jobClass, args).argsJson());
  }

  /**
   * The same schedule enqueueing this record as its args (as {@link NewJob#of(String, Record)}:
   * positional unless the record says otherwise), so a typed handler of the record reads them.
   */
  public Schedule args(Record args) {
    return argsJson(NewJob.of(jobClass, args).argsJson());
  }

  /** The same schedule enqueueing these args, as JSON text: exactly one JSON array, stored verbatim. */
  public Schedule argsJson(String argsJson) {
    checkJob(jobClass, argsJson, queue, priority);
    return new Schedule(name, cron, timeZone, every, jobClass, argsJson, queue, priority, misfire, timing);
  }

  /** The same schedule enqueueing into this queue. Default: the client's default queue ({@code ''} on schema 3). */
  public Schedule queue(String queue) {
    if (queue == null) {
      throw new IllegalArgumentException("queue: must not be null (leave it unset for the default queue)");
    }
    checkJob(jobClass, argsJson, queue, priority);
    return new Schedule(name, cron, timeZone, every, jobClass, argsJson, queue, priority, misfire, timing);
  }

  /** The same schedule enqueueing with this priority (a smallint; lower runs first). Default: 100. */
  public Schedule priority(int priority) {
    checkJob(jobClass, argsJson, queue, priority);
    return new Schedule(name, cron, timeZone, every, jobClass, argsJson, queue, priority, misfire, timing);
  }

  /** The same schedule with this misfire policy. Default: {@link Misfire#RUN_ONCE}. */
  public Schedule misfire(Misfire misfire) {
    if (misfire == null) {
      throw new IllegalArgumentException("misfire: must not be null");
    }
    return new Schedule(name, cron, timeZone, every, jobClass, argsJson, queue, priority, misfire, timing);
  }

  /** The schedule's unique name. */
  public String name() {
    return name;
  }

  /** The cron expression, or null for an interval schedule. */
  public String cron() {
    return cron;
  }

  /** The cron expression's time zone, or null for an interval schedule. */
  public ZoneId timeZone() {
    return timeZone;
  }

  /** The interval, or null for a cron schedule. */
  public Duration every() {
    return every;
  }

  /** The class of the jobs it enqueues. */
  public String jobClass() {
    return jobClass;
  }

  /** The args of the jobs it enqueues, a JSON array. */
  public String argsJson() {
    return argsJson;
  }

  /** The queue of the jobs it enqueues, or null for the client's default queue. */
  public String queue() {
    return queue;
  }

  /** The priority of the jobs it enqueues. */
  public int priority() {
    return priority;
  }

  /** What happens to missed ticks. */
  public Misfire misfire() {
    return misfire;
  }

  /**
   * The next {@code count} ticks strictly after {@code after} (fewer when a cron expression stops
   * matching, e.g. {@code 0 0 30 2 *}).
   *
   * @throws IllegalStateException for a cron schedule when cron-utils is not on the class path
   */
  public List<Instant> nextFireTimes(Instant after, int count) {
    if (after == null) {
      throw new IllegalArgumentException("after: must not be null");
    }
    if (count < 0 || count > 10_000) {
      throw new IllegalArgumentException("count: must be 0 to 10000, got " + count);
    }
    List<Instant> out = new ArrayList<>(count);
    Instant t = after;
    for (int i = 0; i < count; i++) {
      t = timing().nextAfter(t);
      if (t == null) {
        break;
      }
      out.add(t);
    }
    return List.copyOf(out);
  }

  /** The job a tick at {@code runAt} enqueues. */
  NewJob job(Instant runAt) {
    NewJob job = NewJob.ofJson(jobClass, argsJson).priority(priority).runAt(runAt);
    return queue == null ? job : job.queue(queue);
  }

  /** The timing, parsed on first use for a schedule read from the table. */
  Timing timing() {
    Timing t = timing;
    if (t == null) {
      t = cron != null ? CronSupport.parse(cron, timeZone) : new IntervalTiming(micros(every));
      timing = t;
    }
    return t;
  }

  /** A schedule as stored, not re-validated (cron-utils may be missing in this process). */
  static Schedule stored(String name, String cron, String timeZone, Long everyMicros, String jobClass, String argsJson,
      String queue, int priority, String misfire) {
    return new Schedule(name, cron, timeZone == null ? null : ZoneId.of(timeZone),
        everyMicros == null ? null : Duration.of(everyMicros, ChronoUnit.MICROS),
        jobClass, argsJson, queue, priority, Misfire.fromSql(misfire), null);
  }

  /** The interval in microseconds, for the table. */
  Long everyMicros() {
    return every == null ? null : micros(every);
  }

  private static long micros(Duration d) {
    return Math.addExact(Math.multiplyExact(d.getSeconds(), 1_000_000L), d.getNano() / 1000);
  }

  static Duration parseEvery(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("every: must not be blank");
    }
    String s = text.strip().toLowerCase(Locale.ROOT);
    if (s.startsWith("p")) {
      try {
        return checkEvery(Duration.parse(s.toUpperCase(Locale.ROOT)));
      } catch (DateTimeParseException e) {
        throw badEvery(text);
      }
    }
    Matcher m = EVERY.matcher(s);
    if (!m.matches()) {
      throw badEvery(text);
    }
    long n = m.group(1) == null ? 1 : Long.parseLong(m.group(1));
    if (m.group(1) == null && !s.startsWith("every")) {
      throw badEvery(text);
    }
    Duration unit = switch (m.group(2).charAt(0)) {
      case 's' -> Duration.ofSeconds(1);
      case 'm' -> Duration.ofMinutes(1);
      case 'h' -> Duration.ofHours(1);
      case 'd' -> Duration.ofDays(1);
      default -> Duration.ofDays(7);
    };
    try {
      return checkEvery(unit.multipliedBy(n));
    } catch (ArithmeticException e) {
      throw badEvery(text);
    }
  }

  private static IllegalArgumentException badEvery(String text) {
    return new IllegalArgumentException("every: cannot read '" + text
        + "'; write e.g. 'every 15 minutes', '30 seconds', 'every hour', '2h' or ISO-8601 'PT15M'");
  }

  private static Duration checkEvery(Duration every) {
    if (every == null) {
      throw new IllegalArgumentException("every: must not be null");
    }
    if (every.compareTo(MIN_EVERY) < 0 || every.compareTo(MAX_EVERY) > 0) {
      throw new IllegalArgumentException("every: must be 1 second to 100 years, got " + every);
    }
    if (every.getNano() % 1000 != 0) {
      throw new IllegalArgumentException("every: must be whole microseconds, got " + every);
    }
    return every;
  }

  private static ZoneId zone(String id) {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("timeZone: must not be blank");
    }
    try {
      return ZoneId.of(id.strip());
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("timeZone: '" + id + "' is not a time zone id (" + e.getMessage() + ")", e);
    }
  }

  private static void checkName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name: must not be blank");
    }
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("name: contains a NUL character, which PostgreSQL cannot store");
    }
    if (name.codePointCount(0, name.length()) > MAX_NAME) {
      throw new IllegalArgumentException("name: at most " + MAX_NAME + " characters");
    }
  }

  /** The job a tick enqueues must be one NewJob accepts: its checks name the field. */
  private static void checkJob(String jobClass, String argsJson, String queue, int priority) {
    NewJob job = NewJob.ofJson(jobClass, argsJson).priority(priority);
    if (queue != null) {
      job.queue(queue);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Schedule s && name.equals(s.name) && Objects.equals(cron, s.cron)
        && Objects.equals(timeZone, s.timeZone) && Objects.equals(every, s.every) && jobClass.equals(s.jobClass)
        && argsJson.equals(s.argsJson) && Objects.equals(queue, s.queue) && priority == s.priority
        && misfire == s.misfire;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, cron, timeZone, every, jobClass, argsJson, queue, priority, misfire);
  }

  @Override
  public String toString() {
    return "Schedule{" + name + ", " + (cron != null ? "cron '" + cron + "' in " + timeZone : "every " + every)
        + ", class=" + jobClass + ", args=" + argsJson + (queue != null ? ", queue='" + queue + "'" : "")
        + ", priority=" + priority + ", misfire=" + misfire + "}";
  }
}
