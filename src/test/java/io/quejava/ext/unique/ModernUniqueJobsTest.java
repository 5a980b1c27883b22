package io.quejava.ext.unique;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.UniqueOptions;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.WorkerConfig;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** The unique-job tests on the modern table (schema 7, Ruby Que 2.x), plus finish, expire and kwargs. */
class ModernUniqueJobsTest extends UniqueJobsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }

  @Test
  void finishingOrExpiringTheJobBySqlReleasesTheKey() throws SQLException {
    Job a = client.enqueue(NewJob.of("Fin", 1).unique(BY_ARGS));
    exec("UPDATE que_jobs SET finished_at = now() WHERE id = ?", a.id()); // Que 2.x's finish
    assertEquals(0, keys());
    assertFalse(client.enqueue(NewJob.of("Fin", 1).unique(BY_ARGS)).isDuplicate());

    Job b = client.enqueue(NewJob.of("Exp", 1).unique(BY_ARGS));
    exec("UPDATE que_jobs SET error_count = error_count + 1, expired_at = now() WHERE id = ?", b.id()); // Que's expire
    assertFalse(client.enqueue(NewJob.of("Exp", 1).unique(BY_ARGS)).isDuplicate());
    assertEquals(4, jobCount());
  }

  @Test
  void aJobThatExpiresAfterItsLastRetryReleasesItsKey() throws SQLException {
    client.enqueue(NewJob.of("Doomed", 1).unique(BY_ARGS));
    Worker w = new Worker(client, WorkMap.of("Doomed", job -> {
      throw new IllegalStateException("no");
    }), WorkerConfig.custom().maxRetryCount(0).build());
    try {
      assertTrue(w.workOne());
    } finally {
      w.shutdown();
    }
    assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE expired_at IS NOT NULL"));
    assertEquals(0, keys());
  }

  @Test
  void kwargsArePartOfTheDerivedKey() throws SQLException {
    Job a = client.enqueue(NewJob.of("Kw", 1).kwargsJson("{\"copy\": true, \"to\": \"a\"}").unique(BY_ARGS));
    assertTrue(client.enqueue(NewJob.of("Kw", 1).kwargsJson("{\"to\":\"a\",\"copy\":true}").unique(BY_ARGS)).isDuplicate());
    assertFalse(client.enqueue(NewJob.of("Kw", 1).kwargsJson("{\"copy\": false, \"to\": \"a\"}").unique(BY_ARGS)).isDuplicate());
    assertTrue(client.enqueue(NewJob.of("Kw", 1).kwargsJson("{\"copy\": true, \"to\": \"a\"}").unique(BY_ARGS)).id() == a.id());
  }

  @Test
  void tagsAreNotPartOfTheDerivedKey() throws SQLException {
    client.enqueue(NewJob.of("Tagged", 1).tags("a").unique(BY_ARGS));
    assertTrue(client.enqueue(NewJob.of("Tagged", 1).tags("b").unique(UniqueOptions.byArgs())).isDuplicate());
  }
}
