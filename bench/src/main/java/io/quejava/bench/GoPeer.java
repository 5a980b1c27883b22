package io.quejava.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Go compat peer ({@code compat-tests/go/peer}, real que-go v1.0.1 on pgx v3) in its bench
 * mode: {@code bench-enqueue} and {@code bench-work}. The script builds the binary on first use.
 */
final class GoPeer {
  private final Path executable;
  private final String unavailable;

  private GoPeer(Path executable, String unavailable) {
    this.executable = executable;
    this.unavailable = unavailable;
  }

  /** Probes the peer (building it if needed): it prints its usage and exits 2 when it works. */
  static GoPeer find(Path repoRoot) {
    String override = System.getenv("QUE_COMPAT_PEER_GO");
    Path exe = override != null && !override.isBlank() ? Path.of(override)
        : repoRoot.resolve("compat-tests").resolve("go").resolve("peer");
    if (!Files.isExecutable(exe)) {
      return new GoPeer(exe, exe + " is not an executable file");
    }
    try {
      Proc.Result r = Proc.run(List.of(exe.toString()), null, Map.of(), Duration.ofMinutes(10));
      if (r.exit() == 2 && r.stderr().contains("bench-work")) {
        return new GoPeer(exe, null);
      }
      return new GoPeer(exe, "the Go peer does not run here (exit " + r.exit() + "): " + r.tail());
    } catch (RuntimeException e) {
      return new GoPeer(exe, "the Go peer does not run here: " + e.getMessage());
    }
  }

  boolean available() {
    return unavailable == null;
  }

  /** Why the peer is unavailable, or null. */
  String unavailableReason() {
    return unavailable;
  }

  Proc start(String command, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(executable.toString());
    cmd.add(command);
    cmd.addAll(args);
    return Proc.start(Cpu.timed(cmd), null, Map.of());
  }

  /**
   * Runs a bench command and returns the key=value pairs of its last output line, plus {@code
   * cpu_ms}: the CPU time the peer used.
   */
  Map<String, String> run(String command, List<String> args, Duration timeout) {
    return result(start(command, args).await(timeout));
  }

  static Map<String, String> result(Proc.Result r) {
    if (r.exit() != 0) {
      throw new IllegalStateException("Go peer exited " + r.exit() + ": " + r.tail());
    }
    String last = r.stdout().strip().lines().reduce((a, b) -> b).orElse("");
    Map<String, String> kv = new HashMap<>();
    for (String part : last.split("\\s+")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        kv.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    if (kv.isEmpty()) {
      throw new IllegalStateException("Go peer printed no result: " + r.tail());
    }
    kv.put("cpu_ms", Double.toString(Cpu.childMs(r.stderr())));
    return kv;
  }
}
