package io.quejava.cli;

/** {@link QueJarIT} on schema 7. */
class ModernQueJarIT extends QueJarIT {
  @Override
  int schemaVersion() {
    return 7;
  }
}
