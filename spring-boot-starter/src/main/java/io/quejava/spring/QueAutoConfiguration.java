package io.quejava.spring;

import io.quejava.Client;
import io.quejava.Migrator;
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
  public Client queClient(DataSource dataSource, ObjectProvider<QueMigration> migration) {
    migration.ifAvailable(m -> { });
    return Client.create(dataSource);
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
      ObjectProvider<QueWorkerPoolCustomizer> customizers) {
    return new QueWorkerLifecycle(client, handlers, properties.getWorker(), customizers.orderedStream().toList());
  }

  /**
   * The outcome of {@code que.migrate=true}: the version of que_jobs after
   * {@link Migrator#migrate()}.
   *
   * @param version the version of que_jobs
   */
  public record QueMigration(int version) {}
}
