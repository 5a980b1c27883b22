package io.quejava;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * How a record binds to a job's args, on enqueue ({@link NewJob#of(String, Record)}) and in a typed
 * handler ({@link WorkMap.Builder#put(String, Class, TypedJobHandler)}). Without this annotation a
 * record binds {@link Shape#POSITIONAL positionally}: {@code record ChargeCard(long orderId, String
 * currency)} is stored as {@code [1042, "EUR"]}, what Ruby's {@code run(order_id, currency)} and
 * que-go's {@code Args} read.
 *
 * <pre>{@code
 * @JobArgs(shape = JobArgs.Shape.OBJECT)           // stored as [{"order_id": 1042, "currency": "EUR"}]
 * record ChargeCard(long orderId, String currency) {}
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface JobArgs {
  /** How the record's components map to the args array. Default: {@link Shape#POSITIONAL}. */
  Shape shape() default Shape.POSITIONAL;

  /**
   * How component names become JSON keys in the {@link Shape#OBJECT} shape and in kwargs. Default:
   * {@link Naming#SNAKE_CASE}, what Ruby writes ({@code orderId} is {@code "order_id"}).
   */
  Naming naming() default Naming.SNAKE_CASE;

  /** The two shapes Que jobs' args take in practice. */
  enum Shape {
    /** Component i is arg i: {@code [1042, "EUR"]}. */
    POSITIONAL,
    /** One hash holds every component by name: {@code [{"order_id": 1042, "currency": "EUR"}]}. */
    OBJECT
  }

  /** Component name to JSON key. */
  enum Naming {
    /** {@code orderId} is {@code "order_id"}, {@code httpURL} is {@code "http_url"}. */
    SNAKE_CASE,
    /** The component name as declared. */
    AS_DECLARED
  }
}
