package io.quejava.spring;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.ext.deadletter.DeadLetters;
import io.quejava.ext.heartbeat.Heartbeats;
import io.quejava.ext.notify.NotifyWakeups;
import io.quejava.ext.schedule.Schedules;
import io.quejava.ext.timeout.Timeouts;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;

/**
 * que-java for a Spring Boot application with a {@link DataSource}: a {@link Client}, a {@link
 * QueTemplate} whose enqueue joins the caller's transaction, optionally the migration of que_jobs
 * ({@code que.migrate=true}), and a worker pool for the handler beans ({@link QueJob}, {@link
 * io.quejava.HandlerProvider}) that starts and stops with the context ({@link QueWorkerLifecycle}).
 * Every bean backs off when the application defines its own; {@code que.enabled=false} turns it
 * all off.
 */
@AutoConfiguration(afterName = {
    "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
    "org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
    "org.springframework.boot.autoconfigure.liquibase.LiquibaseAutoConfiguration"})
@ConditionalOnBean(DataSource.class)
@ConditionalOnProperty(prefix = "que", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(QueProperties.class)
public class QueAutoConfiguration {

  /** Creates que_jobs at start-up when {@code que.migrate=true}, before the {@link Client} reads it. */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = "que", name = "migrate", havingValue = "true")
  @DependsOnDatabaseInitialization
  public QueMigration queMigration(DataSource dataSource) {
    return new QueMigration(Migrator.create(dataSource).migrate());
  }

  @Bean
  @ConditionalOnMissingBean
  @DependsOnDatabaseInitialization
  public Client queClient(DataSource dataSource, ObjectProvider<QueMigration> migration,
      ObjectProvider<QueClientCustomizer> customizers) {
    migration.ifAvailable(m -> { });
    Client.Builder builder = Client.builder(dataSource);
    customizers.orderedStream().forEach(c -> c.customize(builder));
    return builder.build();
  }

  /**
   * Installs the SQL of the extensions switched on under {@code que.worker.extensions} when
   * {@code que.migrate-extensions=true}, after que_jobs exists. Each install is idempotent.
   */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = "que", name = "migrate-extensions", havingValue = "true")
  @DependsOnDatabaseInitialization
  public QueExtensionsMigration queExtensionsMigration(DataSource dataSource, QueProperties properties,
      ObjectProvider<QueMigration> migration) {
    migration.ifAvailable(m -> { });
    QueProperties.Extensions ext = properties.getWorker().getExtensions();
    List<String> installed = new ArrayList<>();
    if (ext.isNotify()) {
      NotifyWakeups.install(dataSource);
      installed.add(NotifyWakeups.EXTENSION);
    }
    if (ext.isHeartbeats()) {
      Heartbeats.install(dataSource);
      installed.add(Heartbeats.EXTENSION);
    }
    if (ext.getDeadLetterMaxAttempts() != null) {
      DeadLetters.migrator(dataSource).migrate();
      installed.add(DeadLetters.EXTENSION);
    }
    if (ext.getTimeout() != null) {
      Timeouts.install(dataSource);
      installed.add(Timeouts.EXTENSION);
    }
    if (ext.isSchedules()) {
      Schedules.migrator(dataSource).migrate();
      installed.add("schedule");
    }
    return new QueExtensionsMigration(List.copyOf(installed));
  }

  @Bean
  @ConditionalOnMissingBean
  public QueTemplate queTemplate(Client client, DataSource dataSource) {
    return new QueTemplate(client, dataSource);
  }

  /** Static: a bean post-processor, created before the application's beans. */
  @Bean
  @ConditionalOnMissingBean
  public static QueJobHandlers queJobHandlers() {
    return new QueJobHandlers();
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = "que.worker", name = "enabled", havingValue = "true", matchIfMissing = true)
  public QueWorkerLifecycle queWorkerLifecycle(Client client, QueJobHandlers handlers, QueProperties properties,
      ObjectProvider<QueWorkerPoolCustomizer> customizers, ObjectProvider<QueExtensionsMigration> extensions) {
    extensions.ifAvailable(m -> { });
    return new QueWorkerLifecycle(client, handlers, properties.getWorker(), customizers.orderedStream().toList());
  }

  /**
   * The outcome of {@code que.migrate=true}: the version of que_jobs after
   * {@link Migrator#migrate()}.
   *
   * @param version the version of que_jobs
   */
  public record QueMigration(int version) {}

  /**
   * The outcome of {@code que.migrate-extensions=true}: the extensions whose SQL was installed or
   * found up to date.
   *
   * @param extensions their names (notify, heartbeat, deadletter, timeout, schedule)
   */
  public record QueExtensionsMigration(List<String> extensions) {}
}
