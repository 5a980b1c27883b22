package io.quejava.cli;

/** {@link WorkJarIT} on schema 7. */
class ModernWorkJarIT extends WorkJarIT {
  @Override
  int schemaVersion() {
    return 7;
  }
}
