package io.quejava.dashboard;

import io.quejava.JobEvent;
import io.quejava.JobListener;
import io.quejava.JobOutcome;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Attempts heard from this process's worker pools, per minute over the last hour: worked
 * (succeeded) and failed (failed, expired or dead). Lock-free: each minute has a slot in a ring of
 * 60, cleared when its minute comes round again.
 */
final class Throughput implements JobListener {
  static final int MINUTES = 60;

  private final Clock clock;
  private final AtomicLongArray minuteOf = new AtomicLongArray(MINUTES);
  private final AtomicLongArray worked = new AtomicLongArray(MINUTES);
  private final AtomicLongArray failed = new AtomicLongArray(MINUTES);

  Throughput(Clock clock) {
    this.clock = clock;
    for (int i = 0; i < MINUTES; i++) {
      minuteOf.set(i, -1);
    }
  }

  /** One minute's counts. */
  record Minute(long epochMinute, long worked, long failed) {}

  @Override
  public void jobEnded(JobEvent event) {
    JobOutcome o = event.outcome();
    if (o == JobOutcome.SUCCEEDED) {
      add(worked);
    } else if (o == JobOutcome.FAILED || o == JobOutcome.EXPIRED || o == JobOutcome.DEAD) {
      add(failed);
    }
  }

  private void add(AtomicLongArray counts) {
    long minute = clock.millis() / 60_000;
    int slot = (int) (minute % MINUTES);
    long seen = minuteOf.get(slot);
    if (seen != minute) {
      synchronized (this) {
        if (minuteOf.get(slot) != minute) {
          worked.set(slot, 0);
          failed.set(slot, 0);
          minuteOf.set(slot, minute);
        }
      }
    }
    counts.incrementAndGet(slot);
  }

  /** The last 60 minutes, oldest first, the current minute last. */
  List<Minute> lastHour() {
    long now = clock.millis() / 60_000;
    List<Minute> out = new ArrayList<>(MINUTES);
    for (long m = now - MINUTES + 1; m <= now; m++) {
      int slot = (int) (m % MINUTES);
      synchronized (this) {
        boolean ours = minuteOf.get(slot) == m;
        out.add(new Minute(m, ours ? worked.get(slot) : 0, ours ? failed.get(slot) : 0));
      }
    }
    return out;
  }
}
