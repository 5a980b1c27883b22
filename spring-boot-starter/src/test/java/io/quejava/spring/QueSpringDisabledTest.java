package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.testing.TestDatabase;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * A whole application with {@code que.enabled=false}: it starts, with handler beans present and
 * no que_jobs table, and has no que-java beans.
 */
@SpringBootTest(classes = QueSpringDisabledTest.App.class, properties = "que.enabled=false")
class QueSpringDisabledTest {
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_disabled");
    }

    @Bean
    QueSpringBootTest.Billing billing() {
      return new QueSpringBootTest.Billing();
    }
  }

  @Autowired ApplicationContext context;

  @Test
  void startsWithoutQueBeans() {
    assertTrue(context.getBeansOfType(Client.class).isEmpty());
    assertTrue(context.getBeansOfType(QueTemplate.class).isEmpty());
    assertTrue(context.getBeansOfType(QueWorkerLifecycle.class).isEmpty());
  }
}
