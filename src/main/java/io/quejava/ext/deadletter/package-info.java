/**
 * Dead letters: jobs that failed their last allowed attempt, kept apart from the live queue, with
 * replay.
 *
 * <p>Opt-in and independent of the core: {@link io.quejava.ext.deadletter.DeadLetterInterceptor}
 * is a {@link io.quejava.JobInterceptor} given to a pool, and
 * {@link io.quejava.ext.deadletter.DeadLetters} lists, counts, replays, deletes and purges what it
 * kept. On schema 3 (Ruby Que 0.x, que-go) dead jobs move to the table {@code que_dead_jobs}
 * (extension {@code deadletter}, installed with {@link io.quejava.ext.ExtensionMigrator}); on
 * schemas 4 to 7 they stay in {@code que_jobs} with Que's own {@code expired_at}. No column of
 * {@code que_jobs} is ever changed.
 */
package io.quejava.ext.deadletter;
