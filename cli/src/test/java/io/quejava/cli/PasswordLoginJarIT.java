package io.quejava.cli;

import io.quejava.cli.CliTestBase.Run;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link PasswordLoginTestBase} through the built jar ({@code java -jar}), as a child process whose
 * environment holds no QUE_*, PG* or DATABASE_URL variable but the test's.
 */
class PasswordLoginJarIT extends PasswordLoginTestBase {
  @Override
  Run que(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", CliTestBase.jar().toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("QUE_") || k.startsWith("PG") || k.equals("DATABASE_URL"));
    pb.environment().putAll(env);
    Path out = Files.createTempFile("que-pw-it", ".out");
    Path err = Files.createTempFile("que-pw-it", ".err");
    try {
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      pb.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process p = pb.start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError("que " + String.join(" ", args) + " did not finish in 60 s");
      }
      return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
