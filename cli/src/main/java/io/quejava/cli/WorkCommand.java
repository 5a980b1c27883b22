package io.quejava.cli;

import picocli.CommandLine.Command;

@Command(name = "work", description = "Run the job handlers an application ships (not built yet).")
final class WorkCommand extends Cli {
  @Override
  public Integer call() {
    throw new CliException(Que.FAILED, "que work is not built yet");
  }
}
