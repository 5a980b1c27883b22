package io.quejava.ext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.ext.deadletter.DeadLetters;
import io.quejava.ext.schedule.Schedules;
import io.quejava.testing.TestDatabase;
import io.quejava.testing.TestSql;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each table-owning extension's migration up, down and up again leaves que_jobs exactly as it was:
 * the same catalog (columns, constraints, indexes, triggers, comment, the table's oid) and the same
 * rows, on schema 3 and on schema 7.
 */
class ExtensionMigrationTest {

  static Stream<Arguments> cases() {
    Function<DataSource, ExtensionMigrator> deadletter = DeadLetters::migrator;
    Function<DataSource, ExtensionMigrator> schedule = Schedules::migrator;
    return Stream.of(
        Arguments.of("deadletter", deadletter, "que_dead_jobs", 3),
        Arguments.of("deadletter", deadletter, "que_dead_jobs", 7),
        Arguments.of("schedule", schedule, "que_schedules", 3),
        Arguments.of("schedule", schedule, "que_schedules", 7));
  }

  @ParameterizedTest(name = "{0} on que_jobs at schema {3}")
  @MethodSource("cases")
  void upDownUpLeavesQueJobsUntouched(String extension, Function<DataSource, ExtensionMigrator> migrator,
      String table, int schemaVersion) throws Exception {
    DataSource ds = TestDatabase.newSchema(extension + "_mig_" + schemaVersion);
    if (schemaVersion == 3) {
      Migrator.create(ds).migrate();
    } else {
      Migrator.create(ds).migrateTo(schemaVersion);
    }
    TestSql sql = new TestSql(ds);
    Client.create(ds).enqueue("Survivor", 1);
    List<String> before = sql.queJobsCatalog();
    List<Object[]> rowsBefore = sql.rows("SELECT to_json(j)::text FROM que_jobs j");
    assertTrue(before.size() > 8, "a real listing: " + before);
    String tableCount = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?";

    ExtensionMigrator m = migrator.apply(ds);
    assertEquals(extension, m.extension());
    assertEquals(1, m.migrate());
    assertEquals(1, sql.count(tableCount, table));
    assertEquals(0, m.migrateTo(0));
    assertEquals(0, sql.count(tableCount, table));
    assertEquals(1, m.migrate());
    assertEquals(1, m.currentVersion());
    assertEquals(schemaVersion, Migrator.create(ds).currentVersion(), "que_jobs' version comment");

    assertEquals(before, sql.queJobsCatalog());
    assertEquals(rowsBefore.stream().map(r -> r[0]).toList(),
        sql.rows("SELECT to_json(j)::text FROM que_jobs j").stream().map(r -> r[0]).toList());
  }
}
