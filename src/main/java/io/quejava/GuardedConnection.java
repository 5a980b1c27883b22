package io.quejava;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;

/**
 * The connection a handler gets from {@link RunningJob#connection()}: the real one, except that
 * {@code close()} and {@code abort()} do nothing. The connection holds the job's advisory lock, so
 * a handler's {@code try (Connection c = job.connection())} must not hand it back to a pool (or end
 * the session) while the job is still unresolved.
 */
final class GuardedConnection {
  private GuardedConnection() {}

  static Connection wrap(Connection real) {
    InvocationHandler h = (proxy, method, args) -> {
      switch (method.getName()) {
        case "close", "abort" -> {
          if (method.getParameterCount() <= 1) {
            return null;
          }
        }
        case "equals" -> {
          return proxy == args[0];
        }
        case "hashCode" -> {
          return System.identityHashCode(proxy);
        }
        default -> { }
      }
      try {
        return method.invoke(real, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
    return (Connection) Proxy.newProxyInstance(
        GuardedConnection.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
  }
}
