package io.quejava;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What Ruby Que 2.4's own migrations leave behind, recorded from a real run (see {@link
 * MigratorRubyParityTest}) into {@code src/test/resources/que-ruby-2.4/}: catalog listings
 * ({@link QueCatalog}) and scenario transcripts ({@link QueScenarios}). The files are facts about
 * Ruby Que's schema, written by test code; Que's own SQL is never stored in this repository.
 *
 * <ul>
 *   <li>{@code catalog-N.txt}: after {@code Que.migrate!(version: N)} on an empty database, N = 3..7;
 *   <li>{@code catalog-3-after-down.txt}: after going from 7 back down to 3;
 *   <li>{@code behaviour-N.txt}: {@link QueScenarios#behaviour} on a fresh table at N = 4..7;
 *   <li>{@code data-round-trip.txt}: {@link QueScenarios#dataRoundTrip}.
 * </ul>
 *
 * Each file starts with {@code #} lines saying where it came from; those are not compared.
 */
final class RubyQueExpectations {
  static final String DIR = "que-ruby-2.4";

  private RubyQueExpectations() {}

  /** The recorded lines of {@code name}, without the leading comment lines. */
  static List<String> load(String name) {
    String path = "/" + DIR + "/" + name + ".txt";
    try (InputStream in = RubyQueExpectations.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new AssertionError(path + " is missing; record it with MigratorRubyParityTest"
            + " (QUE_RUBY2_LIB=<que 2.4 lib dir> QUE_RECORD_RUBY_EXPECTATIONS=1)");
      }
      List<String> lines = new ArrayList<>(Arrays.asList(
          new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1)));
      if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
        lines.remove(lines.size() - 1);
      }
      while (!lines.isEmpty() && lines.get(0).startsWith("#")) {
        lines.remove(0);
      }
      return lines;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code name} into the source tree (not target/), with {@code header} as comment lines. */
  static void record(String name, List<String> header, List<String> lines) {
    Path dir = projectRoot().resolve("src/test/resources").resolve(DIR);
    List<String> all = new ArrayList<>();
    header.forEach(h -> all.add("# " + h));
    all.addAll(lines);
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(name + ".txt"), String.join("\n", all) + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.err.println("[ruby-parity] recorded " + dir.resolve(name + ".txt"));
  }

  private static Path projectRoot() {
    Path p = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.exists(q.resolve("pom.xml")) && Files.isDirectory(q.resolve("migrations"))) {
        return q;
      }
    }
    return p;
  }
}
