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

  @Test
  void aLargeBatchIsCopiedWithEachIdTiedToItsJobInsideTheTransaction() throws Exception {
    String out = run(BatchEnqueueExample::run);
    assertTrue(out.contains("after the rollback: 0 jobs in examples-batch"), out);
    assertTrue(out.contains("enqueued 1000 jobs; 1000 in examples-batch; every returned id holds its own job's args: true"), out);
  }

  @Test
  void recordsBindByPositionAsAHashAndAsKwargsAndABindFailureIsRetried() throws Exception {
    String out = run(TypedJobsExample::run);
    assertTrue(out.contains("Billing::ChargeCard [1042,\"EUR\"]"), out);
    assertTrue(out.contains("ShipOrder [{\"order_id\":1042,\"shipping_method\":\"express\"}]"), out);
    assertTrue(out.contains("Sum [[1,2,3]]"), out);
    assertTrue(out.contains("  charge order 1043 in USD"), out);
    assertTrue(out.contains("  ship order 7 by post"), out);
    assertTrue(out.contains("  sum of [1, 2, 3] = 6"), out);
    assertTrue(out.matches("(?s).*failed 1 time\\(s\\), runs again in [34] s; last error: io\\.quejava\\.JobArgsException: "
        + "args of Billing::ChargeCard do not bind to ChargeCard: arg 0 \\(orderId\\).*"), out);
    assertTrue(out.contains("kwargs {\"send_copy\":true,\"locale\":\"de\"}"), out);
    assertTrue(out.contains("  receipt for order 1042 in locale de, with a copy"), out);
  }

  @Test
  void aListenerHearsEveryAttemptWithItsOutcomeRunTimeAndQueueWait() throws Exception {
    String out = run(JobEventsExample::run);
    assertTrue(out.matches("(?s).*attempt 1: FAILED, ran \\d+ ms after \\d+ ms in the queue \\(java\\.io\\.IOException: not an image: broken\\.png\\).*"), out);
    assertTrue(out.contains("attempts started: 4; outcomes: {SUCCEEDED=3, FAILED=1, EXPIRED=0"), out);
  }

  @Test
  void batchedCompletionDeletesEverySucceededJobAndTellsListenersAfterTheCommit() throws Exception {
    String out = run(BatchedCompletionExample::run);
    assertTrue(out.contains("page views counted: 500; jobs succeeded: 500; jobs left: 0;"
        + " a job's row still there when its SUCCEEDED was heard: 0"), out);
  }

  @Test
  void onePoolServesTwoQueuesWithALimitAndIsWokenByNotify() throws Exception {
    String out = run(MultiQueuePoolExample::run);
    assertTrue(out.contains("pool on [examples-reports, examples-mailers] (mailers at most 1 worker), listening and idle"), out);
    assertTrue(out.contains("most mailers at once: 1"), out);
    assertTrue(out.contains("mail to user4@example.com") && out.contains("report weekly-4"), out);
  }

  @Test
  void aLockedJobIsResolvedInTheCallersTransactionAndUnlockedOnClose() throws Exception {
    String out = run(LockJobExample::run);
    assertTrue(out.contains("locked job 1: SendInvoice[invoiceId=501, email=ada@example.com]"), out);
    assertTrue(out.contains("meanwhile another lockJob got job 2 and recorded an error; resolved: true, deleted: false"), out);
    assertTrue(out.contains("sent invoice 501 and deleted job 1 in one transaction; resolved: true, deleted: true"), out);
    assertTrue(out.contains("lockJob now finds: nothing ready"), out);
    assertTrue(out.contains("last error: mailbox full: full@example.com"), out);
  }

  @Test
  void aJobThatFailsItsLastAttemptDiesAndIsReplayedUnderItsId() throws Exception {
    String out = run(DeadLettersExample::run);
    assertTrue(out.contains("  job 1 attempt 1: FAILED\n  job 1 attempt 2: DEAD\n"), out);
    assertTrue(out.contains("dead: job 1 Billing::ChargeCard [1042,\"EUR\"] after 2 attempts (max_attempts): "
        + "java.net.SocketTimeoutException: payment gateway timed out"), out);
    assertTrue(out.contains("dead jobs by error type: {java.net.SocketTimeoutException=1}"), out);
    assertTrue(out.contains("replayed [1]\n  charged order 1042 in EUR\n  job 1 attempt 1: SUCCEEDED"), out);
    assertTrue(out.contains("dead jobs left: 0"), out);
  }

  @Test
  void anIntervalScheduleEnqueuesOneJobPerTick() throws Exception {
    String out = run(SchedulesExample::run);
    assertTrue(out.matches("(?s).*  job \\d+ for the tick at \\S+: refresh rates against EUR\n.*"), out);
    assertTrue(out.contains(", no errors"), out);
    assertTrue(out.contains("deleted the schedule"), out);
  }

  @Test
  void inFlightListsAJobWithItsHeartbeatAndOneHeldOnlyByItsLock() throws Exception {
    String out = run(HeartbeatsExample::run);
    assertTrue(out.matches("(?s).*in flight: job 1 Reports::Monthly from HEARTBEAT, lock held by backend \\d+, "
        + "worker que-worker-1 on .*, progress 40%, last beat .*, hung: false\n.*"), out);
    assertTrue(out.matches("(?s).*in flight: job 2 Reports::Monthly from ADVISORY_LOCK, lock held by backend \\d+, "
        + "no heartbeat, hung: false\n.*"), out);
    assertTrue(out.contains("after the jobs ended, in flight: 0"), out);
  }

  @Test
  void aClassTimeoutCancelsTheSlowJobAndRecordsAFailure() throws Exception {
    String out = run(TimeoutsExample::run);
    assertTrue(out.contains("  exported weekly: 3 pages"), out);
    assertTrue(out.matches("(?s).*  job 1 SUCCEEDED after \\d+ ms\n.*"), out);
    assertTrue(out.matches("(?s).*  job 2 FAILED after \\d+ ms\n.*"), out);
    assertTrue(out.contains("job 1 deleted: true"), out);
    assertTrue(out.matches("(?s).*job 2: 1 error\\(s\\), runs again in [34] s; last error: io\\.quejava\\.ext\\.timeout\\."
        + "JobTimeoutException: job 2 \\(Reports::Export\\) timed out after 1 s \\(the timeout for class Reports::Export\\).*"), out);
  }

  @Test
  void theDashboardServesAndMountsBehindBasicAuth() throws Exception {
    String out = run(DashboardExample::run);
    assertTrue(out.contains("GET /que/ without credentials: 401"), out);
    assertTrue(out.contains("GET /que/jobs?queue=examples-dashboard as ops: 200, jobs listed: 2"), out);
    assertTrue(out.contains("handle(GET /que/): 200 text/html; charset=utf-8, CSP: default-src 'none'"), out);
    assertTrue(out.contains("overview shows examples-dashboard: true"), out);
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
