package io.quejava.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quejava.Migrator;
import io.quejava.ext.ExtensionMigrator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

@Command(name = "schema", description = "Show the que_jobs schema version, its dialect, and the que-java extensions installed.")
final class SchemaCommand extends Cli {
  /** The extensions this release ships, by their migration names. */
  static final List<String> EXTENSIONS = List.of("deadletter", "heartbeat", "notify", "schedule", "timeout");

  @Override
  public Integer call() throws SQLException {
    int version = Migrator.create(dataSource()).currentVersion();
    String table;
    try (Connection c = dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT coalesce((SELECT n.nspname FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace"
                + " WHERE t.oid = to_regclass('que_jobs')), current_schema()), current_database(), current_setting('server_version')");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      table = rs.getString(1) + ".que_jobs";
      String server = rs.getString(3);
      Map<String, Integer> ext = new LinkedHashMap<>();
      for (String name : EXTENSIONS) {
        ExtensionMigrator m = db.schema == null ? ExtensionMigrator.create(dataSource(), name)
            : ExtensionMigrator.create(dataSource(), db.schema, name);
        int v = m.currentVersion();
        if (v > 0) {
          ext.put(name, v);
        }
      }
      String dialect = version == 0 ? "none" : version == 3 ? "classic (Ruby Que 0.x, que-go)" : "modern (Ruby Que " + (version <= 5 ? "1.x" : "2.x") + ")";
      if (json) {
        ObjectNode o = object().put("table", table).put("exists", version > 0).put("version", version)
            .put("dialect", version == 0 ? "none" : version == 3 ? "classic" : "modern").put("server_version", server)
            .put("database", rs.getString(2));
        ObjectNode e = o.putObject("extensions");
        ext.forEach(e::put);
        printJson(o);
      } else {
        println("table:      " + Text.safe(table) + (version == 0 ? " (does not exist: que migrate creates it)" : ""));
        println("version:    " + version);
        println("dialect:    " + dialect);
        println("extensions: " + (ext.isEmpty() ? "none" : String.join(", ",
            ext.entrySet().stream().map(x -> x.getKey() + " " + x.getValue()).toList())));
        println("server:     PostgreSQL " + Text.safe(server));
      }
    }
    return Que.OK;
  }
}
