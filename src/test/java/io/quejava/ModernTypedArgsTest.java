package io.quejava;

/** Every test of {@link TypedArgsTest}, against schema 7 (jsonb args, kwargs). */
class ModernTypedArgsTest extends TypedArgsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
