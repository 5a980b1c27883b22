/**
 * que-java: the Que job-queue protocol on PostgreSQL.
 *
 * <p>Only {@code io.quejava} is exported; {@code io.quejava.internal} (dialects, SQL, schema
 * detection) may change in any release.
 */
module io.quejava {
  requires transitive java.sql;
  requires org.postgresql.jdbc;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;
  requires static com.cronutils;

  exports io.quejava;
  exports io.quejava.ext;
  exports io.quejava.ext.deadletter;
  exports io.quejava.ext.schedule;
  exports io.quejava.ext.notify;
  exports io.quejava.ext.heartbeat;
  exports io.quejava.ext.timeout;
}
