package io.quejava;

import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A database of its own on the test PostgreSQL, dropped on close. Tests that LISTEN need one: NOTIFY
 * channels are per database, so in a shared database other tests' (and other people's) que_state
 * notifications would arrive too.
 */
final class ScratchDatabase implements AutoCloseable {
  final TestDatabase.Endpoint endpoint;
  final PGSimpleDataSource dataSource;

  ScratchDatabase(String prefix) {
    endpoint = TestDatabase.newDatabase(prefix);
    dataSource = endpoint.dataSource();
  }

  @Override
  public void close() {
    try (Connection c = TestDatabase.endpoint().connect(); Statement st = c.createStatement()) {
      // TestDatabase builds the name from [a-z0-9_] only.
      st.execute("DROP DATABASE IF EXISTS " + endpoint.database() + " WITH (FORCE)");
    } catch (SQLException e) {
      System.err.println("[tests] could not drop database " + endpoint.database() + ": " + e.getMessage());
    }
  }
}
