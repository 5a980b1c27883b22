package io.quejava;

/**
 * Registers an application's job handlers with a process that finds them through
 * {@link java.util.ServiceLoader}: {@code que work --classpath jobs.jar} loads every provider on
 * that class path and runs the handlers they register. An application ships one by naming its
 * class in {@code META-INF/services/io.quejava.HandlerProvider} (or, as a named module,
 * {@code provides io.quejava.HandlerProvider with ...}).
 *
 * <pre>{@code
 * public final class BillingHandlers implements HandlerProvider {
 *   public void register(WorkMap.Builder work) {
 *     work.put("Billing::ChargeCard", ChargeCard.class, (args, job) -> charge(args.orderId()));
 *   }
 * }
 * }</pre>
 *
 * <p>Providers need a public no-argument constructor. Two providers that register the same job class
 * are refused when the map is built.
 */
public interface HandlerProvider {
  /** Adds this application's handlers (plain or typed) to {@code work}. */
  void register(WorkMap.Builder work);
}
