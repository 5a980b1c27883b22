package io.quejava.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** A child process (pgbench, the Go peer, git) with its output collected and a time limit. */
final class Proc {
  /** What a finished process left: exit status and its two streams. */
  record Result(int exit, String stdout, String stderr) {
    /** The last lines of stderr (or stdout), for error messages. */
    String tail() {
      String s = stderr.isBlank() ? stdout : stderr;
      return s.length() <= 1500 ? s.strip() : "..." + s.substring(s.length() - 1500).strip();
    }
  }

  private final Process process;
  private final List<String> command;
  private final CompletableFuture<String> out;
  private final CompletableFuture<String> err;

  private Proc(List<String> command, Process process) {
    this.command = command;
    this.process = process;
    this.out = drain(process.getInputStream());
    this.err = drain(process.getErrorStream());
  }

  /** Starts {@code command} in {@code dir} (null: the current directory) with these extra variables. */
  static Proc start(List<String> command, Path dir, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(command);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().putAll(env);
    try {
      return new Proc(command, pb.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
  }

  /** Runs {@code command} to its end; a process still running after {@code timeout} is killed. */
  static Result run(List<String> command, Path dir, Map<String, String> env, Duration timeout) {
    return start(command, dir, env).await(timeout);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Waits for the end; kills the process (and fails) after {@code timeout}. */
  Result await(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout.toSeconds()
            + " s; killed. Output so far: " + new Result(-1, out.getNow(""), err.getNow("")).tail());
      }
      return new Result(process.exitValue(), out.join(), err.join());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException("interrupted while waiting for " + command.get(0), e);
    }
  }

  /** One thread per stream: the common pool may have a single thread on a 2-core machine. */
  private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "bench-proc-reader");
    t.setDaemon(true);
    return t;
  });

  private static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    }, READERS);
  }
}
