package io.quejava.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "version", description = "Print the versions of que-java, Java and picocli.")
final class VersionCommand extends Cli {
  static String version() {
    Properties p = new Properties();
    try (InputStream in = VersionCommand.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException ignored) {
      // unknown
    }
    return p.getProperty("version", "unknown");
  }

  @Override
  public Integer call() {
    if (json) {
      printJson(object().put("que_java", version()).put("java", System.getProperty("java.version"))
          .put("picocli", CommandLine.VERSION).put("newest_schema", io.quejava.Migrator.NEWEST_VERSION));
    } else {
      println("que-java " + version() + " (Java " + System.getProperty("java.version") + ", picocli " + CommandLine.VERSION
          + "; speaks que_jobs schema 3 to " + io.quejava.Migrator.NEWEST_VERSION + ")");
    }
    return Que.OK;
  }

  /** For {@code que --version}. */
  static final class Provider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"que-java " + version()};
    }
  }
}
