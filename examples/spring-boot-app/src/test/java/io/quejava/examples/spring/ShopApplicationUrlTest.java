package io.quejava.examples.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** DATABASE_URL as the example reads it into spring.datasource.*. */
class ShopApplicationUrlTest {
  @Test
  void aLibpqUrlBecomesJdbcUrlUserAndPassword() {
    assertEquals(Map.of(
            "spring.datasource.url", "jdbc:postgresql://db.internal:5433/shop?sslmode=disable",
            "spring.datasource.username", "app",
            "spring.datasource.password", "s3cret"),
        ShopApplication.dataSourceProperties("postgres://app:s3cret@db.internal:5433/shop?sslmode=disable"));
  }

  @Test
  void defaultsArePort5432AndThePostgresDatabase() {
    assertEquals(Map.of("spring.datasource.url", "jdbc:postgresql://db.internal:5432/postgres"),
        ShopApplication.dataSourceProperties("postgresql://db.internal"));
  }

  @Test
  void aJdbcUrlIsTakenAsItIs() {
    assertEquals(Map.of("spring.datasource.url", "jdbc:postgresql://h/db?user=u"),
        ShopApplication.dataSourceProperties("jdbc:postgresql://h/db?user=u"));
  }
}
