package io.quejava.ext.schedule;

import io.quejava.ext.ExtensionMigrator;
import io.quejava.internal.Args;
import io.quejava.internal.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Manages the schedules in {@code que_schedules}: create or replace, enable, disable, delete, list,
 * and preview. Thread-safe; each call is one transaction on a connection of its own. A
 * {@link Scheduler} turns the schedules into jobs.
 *
 * <pre>{@code
 * Schedules.migrator(dataSource).migrate();             // once: the que_schedules table
 * Schedules schedules = Schedules.create(dataSource);
 * schedules.upsert(Schedule.cron("nightly", "30 2 * * *", "Europe/Berlin", "NightlyReport"));
 * schedules.nextFireTimes("nightly", 5);
 * }</pre>
 */
public final class Schedules {
  /** The extension's name, the folder of its SQL ({@code migrations/ext/schedule}). */
  public static final String EXTENSION = "schedule";

  private final DataSource dataSource;
  private final Clock clock;

  private Schedules(DataSource dataSource, Clock clock) {
    this.dataSource = Args.notNull(dataSource, "dataSource");
    this.clock = Args.notNull(clock, "clock");
  }

  /** Schedules in the database of {@code dataSource}, timed by the system clock. */
  public static Schedules create(DataSource dataSource) {
    return new Schedules(dataSource, Clock.systemUTC());
  }

  /** Schedules timed by {@code clock} (for tests: the clock a {@link Scheduler} also uses). */
  public static Schedules create(DataSource dataSource, Clock clock) {
    return new Schedules(dataSource, clock);
  }

  /** The migrator of this extension's table ({@code que_schedules}), in the search_path's schema. */
  public static ExtensionMigrator migrator(DataSource dataSource) {
    return ExtensionMigrator.create(dataSource, EXTENSION);
  }

  /**
   * Creates the schedule (enabled, first tick the next one after now), or replaces the one of the
   * same name. A replaced schedule keeps its enabled flag and its next tick, unless its timing
   * (cron, time zone or interval) changed, in which case its next tick is recomputed from now.
   * Upserting the same schedules at every start-up is therefore safe. Returns true when created.
   */
  public boolean upsert(Schedule schedule) {
    Args.notNull(schedule, "schedule");
    Instant next = schedule.timing().nextAfter(now());
    if (next == null) {
      throw new IllegalArgumentException("cron: '" + schedule.cron() + "' never matches after " + now());
    }
    return inTransaction("upsert schedule " + schedule.name(), c -> {
      try (PreparedStatement ps = c.prepareStatement(ScheduleSql.UPSERT)) {
        ps.setString(1, schedule.name());
        ps.setString(2, schedule.cron());
        ps.setString(3, schedule.timeZone() == null ? null : schedule.timeZone().getId());
        if (schedule.everyMicros() == null) {
          ps.setNull(4, Types.BIGINT);
        } else {
          ps.setLong(4, schedule.everyMicros());
        }
        ps.setString(5, schedule.jobClass());
        ps.setString(6, schedule.argsJson());
        ps.setString(7, schedule.queue());
        ps.setShort(8, (short) schedule.priority());
        ps.setString(9, schedule.misfire().sql());
        ps.setObject(10, next.atOffset(ZoneOffset.UTC));
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getBoolean(1);
        }
      }
    });
  }

  /**
   * Enables a disabled schedule; its next tick becomes the first one after now, so ticks that
   * fell while it was disabled are not made up. Returns false when there is no such schedule.
   * Enabling an enabled schedule changes nothing.
   */
  public boolean enable(String name) {
    checkName(name);
    return inTransaction("enable schedule " + name, c -> {
      Optional<ScheduleStatus> s = read(c, ScheduleSql.GET_FOR_UPDATE, name);
      if (s.isEmpty()) {
        return false;
      }
      if (s.get().enabled()) {
        return true;
      }
      Instant next = s.get().schedule().timing().nextAfter(now());
      if (next == null) {
        throw new IllegalStateException("schedule " + name + ": its cron never matches again");
      }
      try (PreparedStatement ps = c.prepareStatement(ScheduleSql.ENABLE)) {
        ps.setObject(1, next.atOffset(ZoneOffset.UTC));
        ps.setString(2, name);
        return ps.executeUpdate() == 1;
      }
    });
  }

  /** Disables a schedule: schedulers leave it alone until {@link #enable}. False when there is none. */
  public boolean disable(String name) {
    checkName(name);
    return update("disable schedule " + name, ScheduleSql.DISABLE, name);
  }

  /** Deletes a schedule (jobs it already enqueued stay). False when there was none. */
  public boolean delete(String name) {
    checkName(name);
    return update("delete schedule " + name, ScheduleSql.DELETE, name);
  }

  /** The schedule of this name, if any. */
  public Optional<ScheduleStatus> get(String name) {
    checkName(name);
    return inTransaction("read schedule " + name, c -> read(c, ScheduleSql.GET, name));
  }

  /** Every schedule, by name. */
  public List<ScheduleStatus> list() {
    return inTransaction("list schedules", c -> {
      List<ScheduleStatus> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(ScheduleSql.LIST); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(status(rs));
        }
      }
      return out;
    });
  }

  /**
   * The next {@code count} times the schedule fires, from now: its pending tick first when one is
   * due and not yet enqueued (at most one job is enqueued for it, whatever was missed), then the
   * ticks after now. For a disabled schedule, the ticks after now, as if it were enabled now.
   *
   * @throws IllegalArgumentException when there is no schedule of this name, or count is not 0 to 10000
   */
  public List<Instant> nextFireTimes(String name, int count) {
    if (count < 0 || count > 10_000) {
      throw new IllegalArgumentException("count: must be 0 to 10000, got " + count);
    }
    ScheduleStatus s = get(name).orElseThrow(() -> new IllegalArgumentException("name: no schedule '" + name + "'"));
    Instant now = now();
    if (s.enabled() && !s.nextRunAt().isAfter(now) && count > 0) {
      List<Instant> out = new ArrayList<>(count);
      out.add(s.nextRunAt());
      out.addAll(s.schedule().nextFireTimes(now, count - 1));
      return List.copyOf(out);
    }
    return s.schedule().nextFireTimes(s.enabled() && s.nextRunAt().isAfter(now) ? s.nextRunAt().minusNanos(1000) : now, count);
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  private boolean update(String what, String sql, String name) {
    return inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, name);
        return ps.executeUpdate() == 1;
      }
    });
  }

  static Optional<ScheduleStatus> read(Connection c, String sql, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(status(rs)) : Optional.empty();
      }
    }
  }

  /** A row of {@link ScheduleSql}'s column list. */
  static ScheduleStatus status(ResultSet rs) throws SQLException {
    long every = rs.getLong(4);
    Long everyMicros = rs.wasNull() ? null : every;
    Schedule s = Schedule.stored(rs.getString(1), rs.getString(2), rs.getString(3), everyMicros, rs.getString(5),
        rs.getString(6), rs.getString(7), rs.getInt(8), rs.getString(9));
    return new ScheduleStatus(s, rs.getBoolean(10), instant(rs, 11), instant(rs, 12), rs.getString(13),
        instant(rs, 14), instant(rs, 15));
  }

  static Instant instant(ResultSet rs, int column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  private static void checkName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name: must not be blank");
    }
  }

  private <T> T inTransaction(String what, Tx.Work<T> work) {
    return Tx.run(dataSource, what, work);
  }
}
