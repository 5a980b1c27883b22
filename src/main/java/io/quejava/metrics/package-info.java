/**
 * Micrometer meters for que-java: attempts, run time and queue wait from the workers' job events,
 * enqueues from the client, busy and idle workers per pool, and per queue the figures of
 * {@link io.quejava.Statistics}. Start at {@link io.quejava.metrics.QueMetrics}.
 *
 * <p>Optional: micrometer-core is an optional dependency of que-java ({@code requires static
 * micrometer.core}). Add it to the application (Spring Boot and most frameworks have it already);
 * nothing else in que-java loads these classes, so applications without Micrometer are unaffected.
 */
package io.quejava.metrics;
