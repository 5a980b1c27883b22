package io.quejava.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CPU time, to see where a 2-core machine's cycles go: this JVM's, a child process's (through the
 * shell's {@code times}), and a PostgreSQL server's when it runs on this machine (its postmaster's
 * own time, its live processes' and its exited backends', from /proc).
 */
final class Cpu {
  private static final double TICK_MS = 10; // USER_HZ is 100 on Linux

  private Cpu() {}

  /** CPU milliseconds this JVM has used. */
  static double jvmMs() {
    return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e6).orElse(Double.NaN);
  }

  /**
   * Wraps {@code command} in bash so that, after it ends, the shell prints the CPU time its children
   * used on stderr ({@code times}); {@link #childMs} reads it back.
   */
  static List<String> timed(List<String> command) {
    List<String> cmd = new java.util.ArrayList<>(List.of("bash", "-c", "\"$@\"; rc=$?; times >&2; exit $rc", "bench"));
    cmd.addAll(command);
    return cmd;
  }

  private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s (\\d+)m([0-9.]+)s\\s*$");

  /** The children's user + system milliseconds from the last line of a {@link #timed} command's stderr. */
  static double childMs(String stderr) {
    String[] lines = stderr.strip().split("\n");
    Matcher m = TIMES.matcher(lines[lines.length - 1]);
    if (!m.find()) {
      return Double.NaN;
    }
    return (Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2))
        + Long.parseLong(m.group(3)) * 60 + Double.parseDouble(m.group(4))) * 1000;
  }

  /** Strips the {@code times} lines that {@link #timed} added to stderr. */
  static String withoutTimes(String stderr) {
    String[] lines = stderr.strip().split("\n");
    int keep = lines.length >= 2 && TIMES.matcher(lines[lines.length - 1]).find() ? lines.length - 2 : lines.length;
    return String.join("\n", java.util.Arrays.copyOf(lines, Math.max(0, keep)));
  }

  /**
   * CPU milliseconds of a process tree rooted at {@code pid} (the postmaster): its own time, its live
   * children's, and its exited children's (which the kernel adds to it when it reaps them). NaN when
   * /proc cannot tell.
   */
  static double treeMs(long pid) {
    long[] root = stat(pid);
    if (root == null) {
      return Double.NaN;
    }
    long ticks = root[1] + root[2] + root[3] + root[4];
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        long[] s = stat(Long.parseLong(name));
        if (s != null && s[0] == pid) {
          ticks += s[1] + s[2];
        }
      }
    } catch (IOException e) {
      return Double.NaN;
    }
    return ticks * TICK_MS;
  }

  /** ppid, utime, stime, cutime, cstime of a process, or null. */
  private static long[] stat(long pid) {
    try {
      String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // f[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
      return new long[] {Long.parseLong(f[1]), Long.parseLong(f[11]), Long.parseLong(f[12]),
          Long.parseLong(f[13]), Long.parseLong(f[14])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The postmaster's pid, when the server runs on this machine and /proc shows it; else -1. */
  static long postmaster(Env env) {
    try {
      long checkpointer = env.queryLong("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
      String comm = Files.readString(Path.of("/proc", Long.toString(checkpointer), "comm")).strip();
      long[] s = stat(checkpointer);
      // A server elsewhere has pids of its own: only trust a postgres process of this machine.
      return s == null || !comm.equals("postgres") ? -1 : s[0];
    } catch (java.sql.SQLException | IOException e) {
      return -1;
    }
  }
}
