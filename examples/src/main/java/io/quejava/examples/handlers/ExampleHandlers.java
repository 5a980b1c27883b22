package io.quejava.examples.handlers;

import io.quejava.HandlerProvider;
import io.quejava.WorkMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handlers of the example application, for {@code que work --classpath
 * examples/target/que-java-examples-<version>.jar}: found through
 * {@code META-INF/services/io.quejava.HandlerProvider}, one typed and one plain.
 */
public final class ExampleHandlers implements HandlerProvider {
  private static final Logger log = LoggerFactory.getLogger(ExampleHandlers.class);

  /** The args of {@code SendWelcome}: {@code ["ada@example.com", "Ada"]}. */
  public record Welcome(String email, String name) {}

  @Override
  public void register(WorkMap.Builder work) {
    work.put("SendWelcome", Welcome.class, (welcome, job) ->
        log.info("welcome mail to {} ({}), job {}", welcome.email(), welcome.name(), job.job().id()));
    work.put("Sum", job -> {
      long sum = 0;
      for (var n : job.job().args()) {
        sum += n.asLong();
      }
      log.info("sum of job {}: {}", job.job().id(), sum);
    });
  }
}
