package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.JobArgs;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.compat.CompatMatrix.Scenario;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 10: records bound to args across the language boundary. Java enqueues records (the
 * positional form and the one-hash form); the peer works them and records the args it was handed,
 * which must be exactly the JSON Ruby's {@code run(a, b)} and que-go's {@code Args} read. The peer
 * enqueues plain JSON args, positional and one hash in snake_case as Ruby apps write them; a typed
 * Java handler binds them to records.
 */
@Tag("compat")
@Timeout(120)
class TypedArgsCompatTest extends CompatTestBase {

  record Charge(long orderId, String currency, BigDecimal amount) {}

  @JobArgs(shape = JobArgs.Shape.OBJECT)
  record Mail(String toAddress, int retryLimit, List<String> ccList) {}

  @ParameterizedTest(name = "java <-> {0}")
  @MethodSource("others")
  void recordsCrossBothWays(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.TYPED_ARGS, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("typed_" + peer.name)) {
        Client client = javaSchema(db, peer);

        // Java -> peer: the peer records the args it got; they must be the positional array / one hash.
        long charge = client.enqueue("CompatRecord", new Charge(1042, "EUR", new BigDecimal("19.90"))).id();
        long mail = client.enqueue("CompatRecord", new Mail("a@example.com", 3, List.of("b@example.com"))).id();
        Peer.PeerResult work = peer.cmd(db, "work", "--until-empty").ok();
        assertEquals(2, work.summary().worked(), work.describe());
        Map<Long, String> got = db.runs().stream().collect(Collectors.toMap(CompatDb.Run::jobId, CompatDb.Run::args));
        JsonCompare.Mode mode = mode(JAVA, peer);
        JsonCompare.assertSame("a positional record as " + peer.name + " read it", "[1042,\"EUR\",19.90]",
            got.get(charge), mode);
        JsonCompare.assertSame("an OBJECT record as " + peer.name + " read it",
            "[{\"to_address\":\"a@example.com\",\"retry_limit\":3,\"cc_list\":[\"b@example.com\"]}]",
            got.get(mail), mode);

        // peer -> Java: plain JSON from the peer binds to records in a typed Java handler.
        peer.cmd(db, "enqueue", "--class", "TypedCharge", "--args", "[7, \"USD\", 5.25]").ok();
        peer.cmd(db, "enqueue", "--class", "TypedMail",
            "--args", "[{\"to_address\": \"x@example.com\", \"retry_limit\": 1, \"from_ruby\": true}]").ok();
        List<Object> bound = new ArrayList<>();
        WorkMap map = WorkMap.builder()
            .put("TypedCharge", Charge.class, (args, job) -> bound.add(args))
            .put("TypedMail", Mail.class, (args, job) -> bound.add(args))
            .build();
        Worker worker = new Worker(client, map);
        while (worker.workOne()) {
          // drain
        }
        assertEquals(0, worker.jobsFailed(), "both bound");
        assertTrue(bound.contains(new Charge(7, "USD", new BigDecimal("5.25"))), bound.toString());
        assertTrue(bound.contains(new Mail("x@example.com", 1, null)), bound.toString());
        assertEquals(0, db.jobCount());
      }
    });
  }
}
