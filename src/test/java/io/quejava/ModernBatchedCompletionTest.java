package io.quejava;

/** Every test of {@link BatchedCompletionTest}, against schema 7: the table of Ruby Que 2.1+. */
class ModernBatchedCompletionTest extends BatchedCompletionTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
