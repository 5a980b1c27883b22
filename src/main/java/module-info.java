/**
 * que-java: the Que job-queue protocol on PostgreSQL.
 *
 * <p>Only {@code io.quejava} is exported; {@code io.quejava.internal} (dialects, SQL, schema
 * detection) may change in any release.
 */
module io.quejava {
  // Transitive: their types are part of the API (DataSource, Connection; Job.args() and kwargs() are
  // Jackson JsonNodes; JobContext.logger() is an slf4j Logger), so an application that requires
  // io.quejava reads them too. ModulePathTest checks that every exported signature is covered.
  requires transitive java.sql;
  requires transitive com.fasterxml.jackson.databind;
  requires transitive org.slf4j;
  requires org.postgresql.jdbc;
  // Optional (cron schedules only): an application that wants them requires com.cronutils itself.
  requires static com.cronutils;
  // Optional (io.quejava.metrics only): an application that binds the meters has Micrometer itself.
  requires static micrometer.core;

  exports io.quejava;
  exports io.quejava.ext;
  exports io.quejava.ext.deadletter;
  exports io.quejava.ext.schedule;
  exports io.quejava.ext.notify;
  exports io.quejava.ext.heartbeat;
  exports io.quejava.ext.timeout;
  exports io.quejava.ext.unique;
  exports io.quejava.metrics;
}
