package io.quejava.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The examples run in CI, each in a fresh schema of the test database, and must see what they show. */
class ExampleTest {
  @Test
  void quickStartRunsToTheEnd() throws Exception {
    String out = run(QuickStartExample::run);
    assertTrue(out.contains("ok on attempt 2"), out);
    assertTrue(out.contains("done: 3 jobs worked, 1 failure(s) retried"), out);
  }

  @Test
  void aJobEnqueuedInATransactionExistsOnlyIfItCommits() throws Exception {
    String out = run(TransactionalEnqueueExample::run);
    assertTrue(out.contains("before the commit a worker finds a job: false"), out);
    assertTrue(out.matches("(?s).*job \\d+ exists after the rollback: false.*"), out);
    assertTrue(out.matches("(?s).*order \\d+ shipped: true; its job deleted: true; jobs worked: 1.*"), out);
  }

  /** Runs an example on a fresh schema; fails the test when the example reports failure. */
  private static String run(Examples.Example example) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    boolean ok = example.run(TestDatabase.newSchema("example"), new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertTrue(ok, out);
    return out;
  }
}
