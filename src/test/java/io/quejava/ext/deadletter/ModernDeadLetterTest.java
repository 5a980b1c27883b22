package io.quejava.ext.deadletter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The deadletter extension on schema 7 (Ruby Que 2.x): dead jobs are expired que_jobs rows. */
class ModernDeadLetterTest extends DeadLetterTestBase {
  @Override
  int schemaVersion() {
    return 7;
  }

  @Test
  void jobsRubyExpiredAreDeadLettersTooAndReplayLikeQue() throws SQLException {
    long id = (Long) sql.one("INSERT INTO que_jobs (queue, job_class, args, job_schema_version, error_count,"
        + " last_error_message, last_error_backtrace, expired_at)"
        + " VALUES ('ruby', 'Billing::Charge', '[5]', 2, 16, 'Billing::CardDeclined: no', 'app/jobs/charge.rb:3', now())"
        + " RETURNING id");
    List<DeadJob> list = dead.list(DeadJobFilter.all().queue("ruby"));
    assertEquals(1, list.size());
    assertEquals("Billing::CardDeclined", list.get(0).errorType());
    assertEquals(java.util.Map.of("Billing::CardDeclined", 1L), dead.countByErrorType(DeadJobFilter.all().queue("ruby")));
    assertEquals(1, dead.count(DeadJobFilter.all().errorContains("charge.rb")), "the backtrace is searched too");
    assertEquals(List.of(id), dead.replay(List.of(id)));
    assertEquals(1, sql.count("SELECT count(*) FROM que_jobs WHERE id = ? AND expired_at IS NULL AND error_count = 0"
        + " AND run_at <= now() AND job_schema_version = 2", id));
  }
}
