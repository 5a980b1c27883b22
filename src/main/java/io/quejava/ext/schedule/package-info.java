/**
 * Cron and interval schedules that enqueue ordinary jobs into {@code que_jobs}, so any language's
 * worker runs them.
 *
 * <p>Opt-in and independent of the core: schedules live in the table {@code que_schedules}
 * (extension {@code schedule}, installed with {@link io.quejava.ext.ExtensionMigrator}), are managed
 * with {@link io.quejava.ext.schedule.Schedules}, and are turned into jobs by a
 * {@link io.quejava.ext.schedule.Scheduler}, a {@link io.quejava.PoolExtension} that any number of
 * processes may run at once: each tick is enqueued exactly once. Cron expressions need the optional
 * dependency {@code com.cronutils:cron-utils}; interval schedules do not.
 */
package io.quejava.ext.schedule;
