package io.quejava.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The examples run in CI, against the test database. */
class ExampleTest {
  @Test
  void quickStartRunsToTheEnd() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    boolean ok = QuickStartExample.run(TestDatabase.newSchema("example"), new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertTrue(ok, out);
    assertTrue(out.contains("ok on attempt 2"), out);
    assertTrue(out.contains("done: 3 jobs worked, 1 failure(s) retried"), out);
  }
}
