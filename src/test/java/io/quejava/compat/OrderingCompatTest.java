package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.compat.CompatMatrix.Scenario;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 7: one worker of each language works the same mix of jobs (enqueued half by Java, half by
 * the peer, with explicit priorities and past run_at values, ties included) in the same order:
 * priority, then run_at, then id.
 */
@Tag("compat")
@Timeout(120)
class OrderingCompatTest extends CompatTestBase {
  /** One job: its label (the args), priority, run_at as microseconds after the base, and who enqueues it. */
  record Spec(String label, int priority, long offsetMicros, boolean byPeer) {}

  static final List<Spec> SPECS = List.of(
      new Spec("a", 10, 0, false),
      new Spec("b", 10, -60_000_000L, true),
      new Spec("c", 5, 30_000_000L, true),
      new Spec("d", 5, 30_000_000L, false),
      new Spec("e", 5, 30_000_000L, true),
      new Spec("f", 100, -3_600_000_000L, false),
      new Spec("g", -5, 100_000_000L, true),
      new Spec("h", 10, -60_000_000L, false),
      new Spec("i", 1, 0, true),
      new Spec("j", 100, -7_200_000_000L, true),
      new Spec("k", 32767, -10_000_000L, false),
      new Spec("l", -32768, 50_000_000L, true),
      new Spec("m", 10, -60_000_001L, true),
      new Spec("n", 10, -59_999_999L, false));

  @ParameterizedTest(name = "java and {0}")
  @MethodSource("others")
  void sameOrderOnEveryPeer(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.ORDERING, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("order_" + peer.name)) {
        Client client = javaSchema(db, peer);
        OffsetDateTime base = micros(db.now().toInstant()).minusHours(1);

        // The same jobs in two queues, enqueued in the same sequence: one queue per worker.
        String javaQueue = "order_java";
        String peerQueue = "order_" + peer.name;
        for (String queue : List.of(javaQueue, peerQueue)) {
          for (Spec s : SPECS) {
            OffsetDateTime runAt = base.plusNanos(s.offsetMicros() * 1000);
            String args = "[\"" + s.label() + "\"]";
            if (s.byPeer()) {
              peer.cmd(db, "enqueue", "--class", "CompatRecord", "--queue", queue, "--priority",
                  String.valueOf(s.priority()), "--run-at", iso(runAt), "--args", args).ok();
            } else {
              client.enqueue(NewJob.ofJson("CompatRecord", args).queue(queue).priority(s.priority())
                  .runAt(runAt.toInstant()));
            }
          }
        }

        // What each enqueuer stored is what was asked for, to the microsecond.
        List<CompatDb.JobRow> stored = db.jobs();
        assertEquals(2 * SPECS.size(), stored.size());
        for (CompatDb.JobRow row : stored) {
          Spec s = spec(label(row.args()));
          String who = s.byPeer() ? peer.name : "java";
          assertEquals(s.priority(), row.priority(), "priority of " + s.label() + " enqueued by " + who);
          assertEquals(base.plusNanos(s.offsetMicros() * 1000).toInstant(), row.runAt().toInstant(),
              "run_at of " + s.label() + " enqueued by " + who);
        }

        // Expected: priority, run_at, then enqueue sequence (= id order).
        List<String> expected = new ArrayList<>();
        SPECS.stream()
            .sorted(Comparator.comparingInt(Spec::priority).thenComparingLong(Spec::offsetMicros)
                .thenComparingInt(SPECS::indexOf))
            .forEach(s -> expected.add(s.label()));
        for (String queue : List.of(javaQueue, peerQueue)) {
          List<String> dbOrder = stored.stream().filter(r -> r.queue().equals(queue))
              .map(r -> label(r.args())).collect(Collectors.toList());
          assertEquals(expected, dbOrder, "ORDER BY priority, run_at, job_id in queue " + queue);
        }

        // One worker each, both at once, on their own queue.
        db.createCompatRuns();
        try (Peer.Running j = JAVA.start(db.url(), "work", "--queue", javaQueue, "--workers", "1", "--until-empty");
            Peer.Running p = peer.start(db.url(), "work", "--queue", peerQueue, "--workers", "1", "--until-empty")) {
          assertEquals(SPECS.size(), j.await(Duration.ofSeconds(60)).ok().summary().worked());
          assertEquals(SPECS.size(), p.await(Duration.ofSeconds(60)).ok().summary().worked());
        }

        List<CompatDb.Run> runs = db.runs();
        List<String> javaOrder = runs.stream().filter(r -> r.peer().equals("java")).map(r -> label(r.args()))
            .collect(Collectors.toList());
        List<String> peerOrder = runs.stream().filter(r -> r.peer().equals(peer.name)).map(r -> label(r.args()))
            .collect(Collectors.toList());
        assertEquals(expected, javaOrder, "order in which Java worked its queue");
        assertEquals(expected, peerOrder, "order in which " + peer.name + " worked its queue");
        assertEquals(0, db.jobCount());
      }
    });
  }

  private static String label(String args) {
    return JsonCompare.parse(args).get(0).asText();
  }

  private static Spec spec(String label) {
    return SPECS.stream().filter(s -> s.label().equals(label)).findFirst().orElseThrow();
  }
}
