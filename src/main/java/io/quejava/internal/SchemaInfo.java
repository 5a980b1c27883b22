package io.quejava.internal;

import io.quejava.Client;
import io.quejava.QueException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the database says about que_jobs: where it is, its version comment and its columns.
 *
 * <p>The version is Que's: the table comment, read here with a schema-qualified regclass (Que's own
 * query matches any relation named que_jobs in any schema). It is cross-checked against the columns
 * because comments get lost (Rails schema dumps) or are wrong.
 *
 * @param schema the schema that holds (or would hold) que_jobs
 * @param exists whether que_jobs exists there
 * @param comment the table comment, or null
 * @param columns column names in attnum order
 */
public record SchemaInfo(String schema, boolean exists, String comment, List<String> columns) {
  /** Highest schema version this release can speak. */
  public static final int NEWEST_SUPPORTED = 7;

  private static final String RESOLVE_SCHEMA = """
      SELECT coalesce((SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.oid = to_regclass('que_jobs')), current_schema())""";

  private static final String TABLE = """
      SELECT t.oid, obj_description(t.oid, 'pg_class')
      FROM (SELECT to_regclass(format('%I.%I', ?::text, 'que_jobs'))::oid AS oid) t""";

  private static final String COLUMNS =
      "SELECT attname FROM pg_attribute WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped ORDER BY attnum";

  /** The job id column on schemas 4 to 7. */
  public static final String ID = "id";
  /** The job id column on schemas 1 to 3. */
  public static final String JOB_ID = "job_id";

  /**
   * A scalar subquery: the job id column ({@value #JOB_ID} or {@value #ID}) of the relation whose oid
   * is the SQL expression {@code relation} (our own text, never input), or NULL when there is no
   * such relation. For statements that ask the catalog for more in the same round trip; pass what
   * they read to {@link #idColumn(String)}.
   */
  public static String idColumnProbe(String relation) {
    return """
        (SELECT a.attname FROM pg_attribute a
         WHERE a.attrelid = %s AND a.attname IN ('job_id', 'id') AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attname DESC LIMIT 1)""".formatted(relation);
  }

  /** {@link #idColumnProbe} of que_jobs where the connection's search_path finds it. */
  public static final String QUE_JOBS_ID_COLUMN = idColumnProbe("to_regclass('que_jobs')");

  /**
   * The job id column of que_jobs where the connection's search_path finds it: {@value #JOB_ID} on
   * schema 3, {@value #ID} on 4 to 7. One query, for extensions that need no more than that.
   *
   * @throws QueException when there is no que_jobs table there
   */
  public static String idColumn(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + QUE_JOBS_ID_COLUMN);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return idColumn(rs.getString(1));
    }
  }

  /**
   * What an {@link #idColumnProbe} read, as one of the two constants (so that callers may put it in
   * SQL: it is never text from the database).
   *
   * @throws QueException when the probe found no que_jobs table (NULL)
   */
  public static String idColumn(String probed) {
    if (probed == null) {
      throw new QueException("there is no que_jobs table on the connection's search_path");
    }
    return ID.equals(probed) ? ID : JOB_ID;
  }

  /** Reads que_jobs in {@code schema}, or where the search_path finds it when {@code schema} is null. */
  public static SchemaInfo inspect(Connection c, String schema) throws SQLException {
    if (schema == null) {
      try (PreparedStatement ps = c.prepareStatement(RESOLVE_SCHEMA);
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        schema = rs.getString(1);
      }
      if (schema == null) {
        throw new QueException("the connection's search_path names no existing schema to hold que_jobs");
      }
    }
    long oid;
    String comment;
    try (PreparedStatement ps = c.prepareStatement(TABLE)) {
      ps.setString(1, schema);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        oid = rs.getLong(1);
        if (rs.wasNull()) {
          return new SchemaInfo(schema, false, null, List.of());
        }
        comment = rs.getString(2);
      }
    }
    List<String> columns = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(COLUMNS)) {
      ps.setLong(1, oid);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.add(rs.getString(1));
        }
      }
    }
    return new SchemaInfo(schema, true, comment, List.copyOf(columns));
  }

  public String table() {
    return schema + ".que_jobs";
  }

  /**
   * The schema generation the columns alone show: 1 (job_id, no queue), 3 (job_id and queue), 4 (id),
   * 5 (job_schema_version), 6 (kwargs; 6 and 7 share their columns); 0 when they match none.
   */
  public int versionFromColumns() {
    if (columns.contains("job_id")) {
      return columns.contains("queue") ? 3 : 1;
    }
    if (columns.contains("id")) {
      if (columns.contains("kwargs")) {
        return 6;
      }
      return columns.contains("job_schema_version") ? 5 : 4;
    }
    return 0;
  }

  /**
   * The version to speak: the comment (or {@code assumed} when the caller overrides a lost comment),
   * checked against the columns. Throws a {@link QueException} that says what is wrong and how to
   * fix it.
   */
  public int version(Integer assumed) {
    if (!exists) {
      throw new QueException(
          table() + " does not exist: create it with Migrator.create(dataSource).migrate() "
              + "(or Ruby's Que.migrate!, or que-go's schema.sql)");
    }
    int version;
    if (assumed != null) {
      version = assumed;
    } else if (comment == null) {
      int shape = versionFromColumns();
      String guess = shape == 6 ? "6 or 7 (7 when its triggers test que.skip_notify)" : Integer.toString(shape);
      throw new QueException(
          table() + " has no schema-version comment (Rails schema dumps drop it); its columns look like schema "
              + guess + ". Restore it with COMMENT ON TABLE " + table() + " IS '<version>'"
              + " or tell the Client which version to assume (Client.Builder.assumeSchemaVersion)");
    } else {
      try {
        version = Integer.parseInt(comment.trim());
      } catch (NumberFormatException e) {
        throw new QueException(
            table() + " has the comment '" + comment + "', which is not a Que schema version");
      }
    }
    if (version < 1 || version > 7) {
      throw new QueException(
          table() + " reports schema version " + version + ", which no Que release defines (known: 1 to 7)");
    }
    int shape = versionFromColumns();
    boolean consistent =
        switch (version) {
          case 1, 2 -> shape == 1;
          case 6, 7 -> shape == 6;
          default -> shape == version;
        };
    if (!consistent) {
      throw new QueException(
          table() + " says schema version " + version + " but its columns " + columns
              + " do not match that version" + (shape == 0 ? "" : " (they look like schema " + shape + ")"));
    }
    return version;
  }

  /**
   * The dialect {@code client} speaks, for an extension that must write what the client's own
   * workers write (a failure's text, with the dialect's limits and format). Rebuilt from the
   * client's schema and job schema versions, which are all a dialect is made of.
   */
  public static Dialect dialectOf(Client client) {
    return dialectFor(client.schemaVersion(), "que_jobs", client.jobSchemaVersion().orElse(1));
  }

  /** The dialect for a version this release speaks, or a clear refusal. */
  public static Dialect dialectFor(int version, String table, int jobSchemaVersion) {
    return dialectFor(version, table, jobSchemaVersion, false);
  }

  /**
   * The dialect for a version this release speaks, or a clear refusal; {@code stateNotifications}
   * says whether outcome statements on schema 7 let Que's que_state_notify trigger send (see
   * {@link ModernDialect}).
   */
  public static Dialect dialectFor(int version, String table, int jobSchemaVersion, boolean stateNotifications) {
    if (version == 3) {
      return new ClassicDialect();
    }
    if (version >= 4 && version <= 7) {
      return new ModernDialect(version, jobSchemaVersion, stateNotifications);
    }
    throw new QueException(
        table + " is at schema version " + version + " (Que before 0.6); que-java speaks 3 to 7. "
            + "Bring it to 3 with Migrator.migrateTo(3) or Ruby's Que.migrate!");
  }
}
