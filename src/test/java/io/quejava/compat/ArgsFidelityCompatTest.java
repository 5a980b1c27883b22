package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.compat.CompatMatrix.Scenario;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenarios 1 and 2: job args cross the language boundary intact, both ways: Unicode of every kind,
 * integers beyond 2^53 and 2^64, decimals, nesting, null, empty containers, a 1 MB string (through
 * --args-file). With a peer on schema 7 (Ruby que2), kwargs make the same trip, both ways, and a job
 * enqueued without them arrives with {@code {}}.
 */
@Tag("compat")
@Timeout(120)
class ArgsFidelityCompatTest extends CompatTestBase {

  /** 1: Java enqueues (Client with raw JSON and with Java values, the Java peer with --args-file); the peer works. */
  @ParameterizedTest(name = "java -> {0}")
  @MethodSource("others")
  void javaEnqueuesPeerWorks(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.ARGS_JAVA_TO_PEER, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("args_j2" + peer.name)) {
        Client client = javaSchema(db, peer);
        Map<Long, String> expected = new LinkedHashMap<>();
        Map<Long, String> kwargs = new LinkedHashMap<>();
        Map<Long, String> label = new LinkedHashMap<>();

        NewJob rawJob = NewJob.ofJson("CompatRecord", ArgsCorpus.VALUES);
        Job raw = client.enqueue(peer.modern() ? rawJob.kwargsJson(ArgsCorpus.KWARGS) : rawJob);
        assertEquals(ArgsCorpus.VALUES, raw.argsJson(), "Client.enqueue returns the args as sent");
        expected.put(raw.id(), ArgsCorpus.VALUES);
        kwargs.put(raw.id(), ArgsCorpus.KWARGS);
        label.put(raw.id(), "hand-written JSON via Client.enqueue(NewJob.ofJson)");

        NewJob objectJob = NewJob.of("CompatRecord", ArgsCorpus.javaValues().toArray());
        Job objects = client.enqueue(peer.modern() ? objectJob.kwargs(ArgsCorpus.javaKwargs()) : objectJob);
        expected.put(objects.id(), objects.argsJson());
        kwargs.put(objects.id(), objects.kwargsJson().orElse(null));
        label.put(objects.id(), "Java values via Client.enqueue(NewJob.of)");

        Path bigFile = ArgsCorpus.file(ArgsCorpus.bigJson());
        List<Long> bigIds = JAVA.cmd(db, "enqueue", "--class", "CompatRecord", "--args-file", bigFile.toString())
            .ok().ids();
        assertEquals(1, bigIds.size(), "the Java peer prints the id of the job it enqueued");
        expected.put(bigIds.get(0), ArgsCorpus.bigJson());
        kwargs.put(bigIds.get(0), "{}");
        label.put(bigIds.get(0), "1 MB string via the Java peer --args-file");

        Peer.PeerResult work = peer.cmd(db, "work", "--until-empty").ok();
        assertEquals(new Peer.Summary(3, 0, work.summary().elapsedMs()), work.summary(), work.describe());

        assertRecorded(db, peer, expected, peer.modern() ? kwargs : null, label, mode(JAVA, peer));
      }
    });
  }

  /** 2: the peer enqueues (--args-file, and --args on the command line); Java works and records what it got. */
  @ParameterizedTest(name = "{0} -> java")
  @MethodSource("others")
  void peerEnqueuesJavaWorks(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.ARGS_PEER_TO_JAVA, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("args_" + peer.name + "2j")) {
        peerSchema(peer, db);
        List<String> sent = List.of(ArgsCorpus.VALUES, ArgsCorpus.bigJson(), ArgsCorpus.INLINE);
        // On schema 7 the first and last jobs carry kwargs (given on the command line).
        List<String> sentKwargs = List.of(ArgsCorpus.KWARGS, "{}", "{\"inline\":\"ünï 😀\",\"n\":[9007199254740993,1.5]}");
        List<String> labels = List.of("hand-written JSON via --args-file", "1 MB string via --args-file",
            "Unicode via --args");
        for (int i = 0; i < sent.size(); i++) {
          List<String> flags = new java.util.ArrayList<>(List.of("--class", "CompatRecord"));
          if (i < 2) {
            flags.addAll(List.of("--args-file", ArgsCorpus.file(sent.get(i)).toString()));
          } else {
            flags.addAll(List.of("--args", sent.get(i)));
          }
          if (peer.modern() && !sentKwargs.get(i).equals("{}")) {
            flags.addAll(List.of("--kwargs", sentKwargs.get(i)));
          }
          peer.cmd(db, "enqueue", flags.toArray(String[]::new)).ok();
        }

        // que-go returns no ids: the jobs are matched by enqueue order, i.e. id order.
        List<Long> ids = db.jobs().stream().map(CompatDb.JobRow::id).sorted().collect(Collectors.toList());
        assertEquals(3, ids.size(), "jobs enqueued by " + peer.name);
        Map<Long, String> expected = new LinkedHashMap<>();
        Map<Long, String> kwargs = new LinkedHashMap<>();
        Map<Long, String> label = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
          expected.put(ids.get(i), sent.get(i));
          kwargs.put(ids.get(i), sentKwargs.get(i));
          label.put(ids.get(i), labels.get(i));
        }

        Peer.PeerResult work = JAVA.cmd(db, "work", "--until-empty").ok();
        assertEquals(3, work.summary().worked(), work.describe());
        assertEquals(0, work.summary().failed(), work.describe());

        assertRecorded(db, JAVA, expected, peer.modern() ? kwargs : null, label, mode(peer, JAVA));
      }
    });
  }

  /**
   * Every expected job was recorded once by {@code worker} with these args (and, unless
   * {@code kwargs} is null, these kwargs), and que_jobs is empty.
   */
  private static void assertRecorded(CompatDb db, Peer worker, Map<Long, String> expected, Map<Long, String> kwargs,
      Map<Long, String> label, JsonCompare.Mode mode) throws Exception {
    List<CompatDb.Run> runs = db.runs();
    Map<Long, CompatDb.Run> byId = runs.stream().collect(Collectors.toMap(CompatDb.Run::jobId, r -> r));
    assertEquals(expected.keySet(), byId.keySet(), "job ids recorded in compat_runs (each once)");
    assertEquals(expected.size(), runs.size(), "compat_runs rows");
    for (Map.Entry<Long, String> e : expected.entrySet()) {
      CompatDb.Run run = byId.get(e.getKey());
      assertEquals(worker.name, run.peer(), "peer that recorded job " + e.getKey());
      assertEquals("CompatRecord", run.jobClass());
      assertEquals(0, run.errorCount());
      JsonCompare.assertSame("job " + e.getKey() + " (" + label.get(e.getKey()) + ") worked by " + worker.name,
          e.getValue(), run.args(), mode);
      if (kwargs != null) {
        JsonCompare.assertSame("kwargs of job " + e.getKey() + " (" + label.get(e.getKey()) + ") worked by "
            + worker.name, kwargs.get(e.getKey()), run.kwargs(), mode);
      }
    }
    assertEquals(0, db.jobCount(), "que_jobs is empty afterwards");
  }
}
