package io.quejava.ext.notify;

import java.lang.reflect.Field;
import java.sql.Connection;
import org.postgresql.core.BaseConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes about a millisecond off every wake-up, on the listening connection only.
 *
 * <p>pgjdbc's {@code getNotifications(timeout)} returns a notification only after it has asked the
 * socket whether more bytes follow: {@code PGStream.hasMessagePending()} reads with a 1 ms socket
 * timeout, and it is meant to do so at most once a second ({@code nextStreamAvailableCheckTime}),
 * but the timed-out read returns before that time is set, so every notification waits out the full
 * millisecond (pgjdbc 42.7.4 and 42.7.10, measured: the bytes were in the socket 0.1 ms after the
 * sender's call and {@code getNotifications} returned 1.1 ms later; with that time set, 0.006 ms).
 * Setting the time far ahead on the listening connection's stream keeps the cheap check (bytes
 * already received, {@code available()}) and skips only the timed read; the loop still reads every
 * notification already in the socket. A listening connection runs no queries while it waits, so
 * nothing else depends on that check.
 *
 * <p>The fields are pgjdbc's internals, reached by reflection. When they are not there (another
 * driver version or a wrapper that does not unwrap) nothing changes: notifications arrive as before,
 * a millisecond later. {@code -Dque.notify.peekWorkaround=false} turns it off.
 */
final class NotificationPeek {
  private static final Logger log = LoggerFactory.getLogger(NotificationPeek.class);

  static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("que.notify.peekWorkaround"));

  private NotificationPeek() {}

  /** Applies the workaround to this pgjdbc connection; answers whether it did. Never throws. */
  static boolean skipTimedPeek(Connection c) {
    if (!ENABLED) {
      return false;
    }
    try {
      Object executor = c.unwrap(BaseConnection.class).getQueryExecutor();
      Field streamField = field(executor.getClass(), "pgStream");
      streamField.setAccessible(true);
      Object stream = streamField.get(executor);
      Field next = field(stream.getClass(), "nextStreamAvailableCheckTime");
      if (next.getType() != long.class) {
        throw new NoSuchFieldException("nextStreamAvailableCheckTime is not a long");
      }
      next.setAccessible(true);
      next.setLong(stream, Long.MAX_VALUE);
      return true;
    } catch (Exception | LinkageError e) {
      log.debug("pgjdbc's notification check left as it is ({}): wake-ups take about 1 ms longer", e.toString());
      return false;
    }
  }

  private static Field field(Class<?> type, String name) throws NoSuchFieldException {
    for (Class<?> t = type; t != null; t = t.getSuperclass()) {
      try {
        return t.getDeclaredField(name);
      } catch (NoSuchFieldException e) {
        // look in the superclass
      }
    }
    throw new NoSuchFieldException(type.getName() + "." + name);
  }
}
