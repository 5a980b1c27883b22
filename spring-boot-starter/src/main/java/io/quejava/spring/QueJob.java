package io.quejava.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the Que job class a handler bean runs, as stored in {@code que_jobs.job_class} (for instance
 * {@code "Billing::ChargeCard"}, the Ruby class name).
 *
 * <p>On a bean class that implements {@link io.quejava.JobHandler}: the bean handles that job class.
 * On a method of any bean: the method handles it. The method takes, in this order, a record its
 * args bind to (see {@link io.quejava.JobArgs}) and/or the {@link io.quejava.RunningJob}: one of
 * {@code (Args)}, {@code (Args, RunningJob)} or {@code (RunningJob)}. Its return value is ignored;
 * returning means success and throwing means failure, as for any {@link io.quejava.JobHandler}.
 *
 * <pre>{@code
 * record ChargeCard(long orderId, String currency) {}
 *
 * @Component
 * class Billing {
 *   @QueJob("Billing::ChargeCard")
 *   void charge(ChargeCard args, RunningJob job) { ... }
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface QueJob {
  /** The job class. */
  String value();
}
