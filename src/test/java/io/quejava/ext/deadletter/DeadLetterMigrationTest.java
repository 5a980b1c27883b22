package io.quejava.ext.deadletter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Migrator;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.testing.TestDatabase;
import io.quejava.testing.TestSql;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The deadletter extension's migration up, down and up again leaves que_jobs exactly as it was: the same
 * catalog (columns, constraints, indexes, triggers, comment, the table's oid) and the same rows.
 */
class DeadLetterMigrationTest {
  @ParameterizedTest(name = "que_jobs at schema {0}")
  @ValueSource(ints = {3, 7})
  void upDownUpLeavesQueJobsUntouched(int schemaVersion) throws Exception {
    DataSource ds = TestDatabase.newSchema("deadletter" + "_mig_" + schemaVersion);
    if (schemaVersion == 3) {
      Migrator.create(ds).migrate();
    } else {
      Migrator.create(ds).migrateTo(schemaVersion);
    }
    TestSql sql = new TestSql(ds);
    io.quejava.Client.create(ds).enqueue("Survivor", 1);
    List<String> before = sql.queJobsCatalog();
    List<Object[]> rowsBefore = sql.rows("SELECT to_json(j)::text FROM que_jobs j");
    assertTrue(before.size() > 8, "a real listing: " + before);

    ExtensionMigrator m = DeadLetters.migrator(ds);
    assertEquals("deadletter", m.extension());
    assertEquals(1, m.migrate());
    assertEquals(1, sql.count("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'que_dead_jobs'"));
    assertEquals(0, m.migrateTo(0));
    assertEquals(0, sql.count("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'que_dead_jobs'"));
    assertEquals(1, m.migrate());
    assertEquals(1, m.currentVersion());
    assertEquals(schemaVersion, Migrator.create(ds).currentVersion(), "que_jobs' version comment");

    assertEquals(before, sql.queJobsCatalog());
    assertEquals(rowsBefore.stream().map(r -> r[0]).toList(),
        sql.rows("SELECT to_json(j)::text FROM que_jobs j").stream().map(r -> r[0]).toList());
  }
}
