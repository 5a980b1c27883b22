package io.quejava.compat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.function.Executable;
import org.opentest4j.TestAbortedException;

/**
 * The result matrix "scenario x peer pair -> PASS/FAIL/SKIP". Every scenario runs its body through
 * {@link #cell}; the {@link Printer} extension (on every compat test class) prints the matrix once,
 * when the whole JUnit run ends, and writes it to target/compat-matrix.txt.
 */
final class CompatMatrix {
  /** Rows, in print order. */
  enum Scenario {
    ARGS_JAVA_TO_PEER("1", "args fidelity: Java enqueues, peer works"),
    ARGS_PEER_TO_JAVA("2", "args fidelity: peer enqueues, Java works"),
    MIXED_WORKERS("3", "mixed workers, 5000 jobs, exactly once"),
    LOCK_JAVA_HOLDS("4a", "lock exclusion: Java holds, peer waits"),
    LOCK_PEER_HOLDS("4b", "lock exclusion: peer holds, Java waits"),
    ERROR_JAVA_FIRST("5a", "errors: Java fails, peer retries"),
    ERROR_PEER_FIRST("5b", "errors: peer fails, Java retries"),
    ERROR_READ("5c", "errors: each side reads the other's error", JAVA_RUBY2),
    EXPIRY("5d", "expiry: 16th failure expires, either side", JAVA_RUBY2),
    UNKNOWN_CLASS("6", "unknown job class on each side"),
    ORDERING("7", "order: priority, run_at, id"),
    TX_ROLLBACK("8", "Java transactional enqueue rolled back"),
    SCHEMA_FROM_PEER("9a", "schema: peer migrates, Java accepts"),
    SCHEMA_FROM_JAVA("9b", "schema: Java migrates, peer accepts"),
    TYPED_ARGS("10", "typed args: records both ways");

    final String id;
    final String title;
    /** The columns this scenario has a cell in; empty: every pair column. */
    final List<String> only;

    Scenario(String id, String title, String... only) {
      this.id = id;
      this.title = title;
      this.only = List.of(only);
    }

    /** Whether this row has a cell in {@code column}. */
    boolean applies(String column) {
      if (!only.isEmpty()) {
        return only.contains(column);
      }
      return !column.equals(ALL_THREE) || this == MIXED_WORKERS;
    }
  }

  static final String JAVA_GO = "java<->go";
  static final String JAVA_RUBY = "java<->ruby";
  static final String JAVA_RUBY2 = "java<->ruby2";
  static final String ALL_THREE = "java+go+ruby";
  static final List<String> COLUMNS = List.of(JAVA_GO, JAVA_RUBY, JAVA_RUBY2, ALL_THREE);

  enum Status { PASS, FAIL, SKIP, RUNNING }

  record Cell(Status status, String note, long millis) {}

  private static final Map<Scenario, Map<String, Cell>> CELLS = new LinkedHashMap<>();

  private CompatMatrix() {}

  /** The column of the pair Java + {@code peer}. */
  static String pair(Peer peer) {
    return "java<->" + peer.name;
  }

  /** Runs one scenario cell and records PASS, FAIL or SKIP (a JUnit assumption) for it. */
  static void cell(Scenario scenario, String column, Executable body) throws Throwable {
    long start = System.nanoTime();
    put(scenario, column, new Cell(Status.RUNNING, "", 0));
    try {
      body.execute();
      put(scenario, column, new Cell(Status.PASS, "", elapsed(start)));
    } catch (TestAbortedException e) {
      put(scenario, column, new Cell(Status.SKIP, e.getMessage(), elapsed(start)));
      throw e;
    } catch (Throwable t) {
      String msg = String.valueOf(t.getMessage()).lines().findFirst().orElse(t.getClass().getName());
      put(scenario, column, new Cell(Status.FAIL, msg, elapsed(start)));
      throw t;
    }
  }

  private static long elapsed(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  private static synchronized void put(Scenario s, String column, Cell cell) {
    CELLS.computeIfAbsent(s, k -> new LinkedHashMap<>()).put(column, cell);
  }

  static synchronized String render() {
    int titleWidth = 4 + java.util.Arrays.stream(Scenario.values()).mapToInt(s -> s.title.length()).max().orElse(10);
    int colWidth = 16;
    StringBuilder b = new StringBuilder();
    b.append("\n=== que-java compat matrix (scenario x peer pair) ===\n");
    b.append(pad("scenario", titleWidth));
    for (String c : COLUMNS) {
      b.append(" | ").append(pad(c, colWidth));
    }
    b.append('\n').append("-".repeat(titleWidth));
    for (int i = 0; i < COLUMNS.size(); i++) {
      b.append("-+-").append("-".repeat(colWidth));
    }
    b.append('\n');
    List<String> notes = new ArrayList<>();
    Map<String, List<String>> skips = new LinkedHashMap<>();
    for (Scenario s : Scenario.values()) {
      Map<String, Cell> row = CELLS.getOrDefault(s, Map.of());
      b.append(pad(s.id + "  " + s.title, titleWidth));
      for (String c : COLUMNS) {
        Cell cell = row.get(c);
        String text;
        if (cell == null) {
          text = s.applies(c) ? "not run" : "";
        } else {
          Status st = cell.status() == Status.RUNNING ? Status.FAIL : cell.status();
          text = st + (cell.millis() > 0 && st != Status.SKIP ? String.format(" %5.1fs", cell.millis() / 1000.0) : "");
          if (cell.status() == Status.RUNNING) {
            notes.add(s.id + " " + c + ": FAIL (did not finish)");
          } else if (cell.status() == Status.SKIP) {
            skips.computeIfAbsent(String.valueOf(cell.note()), k -> new ArrayList<>()).add(s.id + " " + c);
          } else if (cell.status() == Status.FAIL) {
            notes.add(s.id + " " + c + ": FAIL: " + cell.note());
          }
        }
        b.append(" | ").append(pad(text, colWidth));
      }
      b.append('\n');
    }
    for (String n : notes) {
      b.append("  ").append(n).append('\n');
    }
    for (Map.Entry<String, List<String>> e : skips.entrySet()) {
      b.append("  SKIP (").append(e.getValue().size()).append(" cells): ").append(e.getKey()).append('\n');
    }
    long pass = count(Status.PASS);
    long fail = count(Status.FAIL) + count(Status.RUNNING);
    long skip = count(Status.SKIP);
    b.append("cells: ").append(pass).append(" PASS, ").append(fail).append(" FAIL, ").append(skip).append(" SKIP\n");
    return b.toString();
  }

  private static long count(Status st) {
    return CELLS.values().stream().flatMap(m -> m.values().stream()).filter(c -> c.status() == st).count();
  }

  private static String pad(String s, int w) {
    return s.length() >= w ? s : s + " ".repeat(w - s.length());
  }

  /**
   * On every compat test class: probes the peers before the first scenario and prints the matrix
   * when the JUnit run ends (the root context's store closes its resources last).
   */
  static final class Printer implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
      context.getRoot().getStore(ExtensionContext.Namespace.create(CompatMatrix.class))
          .getOrComputeIfAbsent("printer", k -> {
            Peer.probeAll();
            return new PrintAtEnd();
          }, PrintAtEnd.class);
    }
  }

  @SuppressWarnings("deprecation") // CloseableResource: the JUnit 5.11 way; AutoCloseable only from 5.13
  static final class PrintAtEnd implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      String text = render();
      System.out.println(text);
      System.out.flush();
      try {
        Path target = Peer.ROOT.resolve("target");
        Files.createDirectories(target);
        Files.writeString(target.resolve("compat-matrix.txt"), text, StandardCharsets.UTF_8);
      } catch (IOException e) {
        System.err.println("[compat] cannot write target/compat-matrix.txt: " + e.getMessage());
      }
    }
  }
}
