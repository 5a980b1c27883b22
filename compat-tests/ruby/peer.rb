# frozen_string_literal: true

# Ruby peer of the que-java cross-language compat suite.
# Run it through the `peer` script next to this file, which locates ruby, pg
# and que and sets QUE_PEER_TARGET / QUE_PEER_SOURCE.
#
#   peer migrate --url URL
#   peer enqueue --url URL --class C (--args JSON | --args-file PATH|-) [--queue Q]
#                [--priority P] [--run-at ISO8601] [--count N] [--kwargs JSON]
#   peer work    --url URL [--queue Q] [--workers N] [--until-empty | --seconds S]
#                [--interval-ms MS] [--no-listen] [--name NAME]
#
# --kwargs and --no-listen exist on the que2 target only, --name (the worker
# column of FaultEffect's fault_effects rows) on the 0.14.3 target only.
#
# Exit codes: 0 ok, 1 runtime/connection error, 2 bad flags, 3 skipped.

# Bundler first, so that pg/que come from the bundle (QUE_PEER_SOURCE set by `peer`).
require "bundler/setup" if ENV["QUE_PEER_SOURCE"] == "bundler"
require "json"
require "time"
require "pg"

module CompatPeer
  EXIT_ERROR = 1
  EXIT_USAGE = 2
  EXIT_SKIPPED = 3

  class UsageError < StandardError; end

  # Supported que targets. A target names the file under lib/compat_peer that
  # implements migrate/enqueue/work against that que generation, and the que
  # versions it accepts.
  TARGETS = {
    "0.14.3" => { file: "que0", version: /\A0\.14\./ },
    "que2" => { file: "que2", version: /\A2\.([4-9]|\d{2,})\./ },
  }.freeze

  # Flags per command: name => :value or :switch.
  COMMANDS = {
    "migrate" => { "url" => :value },
    "enqueue" => {
      "url" => :value, "class" => :value, "args" => :value, "args-file" => :value,
      "queue" => :value, "priority" => :value, "run-at" => :value, "count" => :value,
      "kwargs" => :value,
    },
    "work" => {
      "url" => :value, "queue" => :value, "workers" => :value, "until-empty" => :switch,
      "seconds" => :value, "interval-ms" => :value, "no-listen" => :switch, "name" => :value,
    },
  }.freeze

  module_function

  def main(argv)
    command = argv.first
    raise UsageError, "missing command (migrate, enqueue or work)" if command.nil?
    spec = COMMANDS[command] or raise UsageError, "unknown command #{command.inspect}"
    opts = parse_flags(argv.drop(1), spec)
    raise UsageError, "--url is required" unless opts["url"]
    unless target_name == "que2"
      %w[kwargs no-listen].each do |flag|
        raise UsageError, "--#{flag} needs the que2 target (que #{target_name} has none)" if opts[flag]
      end
    end
    if target_name == "que2" && opts["name"]
      raise UsageError, "--name needs the 0.14.3 target (the que2 target has no FaultEffect job)"
    end

    target = load_que
    case command
    when "migrate" then target.migrate(opts["url"])
    when "enqueue" then target.enqueue(opts["url"], enqueue_options(opts))
    when "work"    then target.work(opts["url"], work_options(opts))
    end
    0
  end

  def parse_flags(args, spec)
    opts = {}
    i = 0
    while i < args.length
      arg = args[i]
      raise UsageError, "unexpected argument #{arg.inspect}" unless arg.start_with?("--")
      name, inline = arg[2..].split("=", 2)
      kind = spec[name] or raise UsageError, "unknown flag --#{name}"
      raise UsageError, "--#{name} given twice" if opts.key?(name)
      if kind == :switch
        raise UsageError, "--#{name} takes no value" if inline
        opts[name] = true
      elsif inline
        opts[name] = inline
      else
        i += 1
        raise UsageError, "--#{name} needs a value" if i >= args.length
        opts[name] = args[i]
      end
      i += 1
    end
    opts
  end

  def integer(opts, name, min: nil)
    v = opts[name]
    return nil if v.nil?
    n = Integer(v, 10) rescue raise(UsageError, "--#{name} must be an integer, got #{v.inspect}")
    raise UsageError, "--#{name} must be >= #{min}" if min && n < min
    n
  end

  def number(opts, name)
    v = opts[name]
    return nil if v.nil?
    n = Float(v) rescue raise(UsageError, "--#{name} must be a number, got #{v.inspect}")
    raise UsageError, "--#{name} must be > 0" unless n.positive? && n.finite?
    n
  end

  def enqueue_options(opts)
    raise UsageError, "--class is required" unless opts["class"]
    raise UsageError, "--args and --args-file are mutually exclusive" if opts["args"] && opts["args-file"]

    text =
      if opts["args-file"]
        path = opts["args-file"]
        begin
          path == "-" ? $stdin.binmode.read : File.binread(path)
        rescue SystemCallError => e
          raise UsageError, "cannot read --args-file: #{e.message}"
        end
      else
        opts["args"] || "[]"
      end
    args = parse_json("args", text)
    raise UsageError, "args must be a JSON array" unless args.is_a?(Array)

    kwargs = nil
    if opts["kwargs"]
      kwargs = parse_json("kwargs", opts["kwargs"])
      raise UsageError, "kwargs must be a JSON object" unless kwargs.is_a?(Hash)
    end

    run_at = nil
    if opts["run-at"]
      run_at = begin
        Time.iso8601(opts["run-at"])
      rescue ArgumentError
        raise UsageError, "--run-at must be ISO 8601 with a zone, got #{opts['run-at'].inspect}"
      end
    end

    {
      job_class: opts["class"],
      args: args,
      queue: opts["queue"],
      priority: integer(opts, "priority"),
      run_at: run_at,
      count: integer(opts, "count", min: 1) || 1,
      kwargs: kwargs,
    }
  end

  def parse_json(what, text)
    text = text.dup.force_encoding(Encoding::UTF_8)
    raise UsageError, "#{what} are not valid UTF-8" unless text.valid_encoding?
    JSON.parse(text, create_additions: false)
  rescue JSON::ParserError => e
    raise UsageError, "#{what} are not valid JSON: #{e.message.lines.first.strip}"
  end

  def work_options(opts)
    if opts["until-empty"] && opts["seconds"]
      raise UsageError, "--until-empty and --seconds are mutually exclusive"
    end
    {
      queue: opts["queue"],
      workers: integer(opts, "workers", min: 1) || 2,
      until_empty: !!opts["until-empty"],
      seconds: number(opts, "seconds"),
      interval: (integer(opts, "interval-ms", min: 1) || 100) / 1000.0,
      listen: !opts["no-listen"],
      name: opts["name"],
    }
  end

  def target_name
    ENV.fetch("QUE_PEER_TARGET", "0.14.3")
  end

  # Loads que as located by the `peer` script and returns the target module.
  def load_que
    target = TARGETS[target_name] or raise UsageError, "unsupported que target #{target_name.inspect}"

    case ENV["QUE_PEER_SOURCE"]
    when "bundler" then nil # bundler/setup already required at the top
    when "gem"     then gem "que", ENV.fetch("QUE_PEER_GEM_REQ")
    when "lib"     then $LOAD_PATH.unshift(File.expand_path(ENV.fetch("QUE_PEER_LIB")))
    else
      # Run directly (not via `peer`): try the target's lib variable, else whatever `require` finds.
      lib = ENV[target_name == "que2" ? "QUE_RUBY2_LIB" : "QUE_RUBY_LIB"]
      $LOAD_PATH.unshift(File.expand_path(lib)) if lib
    end
    require "que"

    # que 0.x names its version Que::Version, que 1.x/2.x Que::VERSION.
    version = %i[VERSION Version].find { |c| Que.const_defined?(c, false) }&.then { |c| Que.const_get(c) }
    unless version =~ target[:version]
      raise "loaded que #{version} from #{$LOADED_FEATURES.grep(%r{/que\.rb\z}).first}, " \
            "but target #{target_name} needs #{target[:version].source}"
    end

    require_relative "lib/compat_peer/#{target[:file]}"
    CompatPeer.const_get(target[:file].capitalize)
  end
end

if $PROGRAM_NAME == __FILE__
  $stdout.sync = true
  begin
    exit CompatPeer.main(ARGV)
  rescue CompatPeer::UsageError => e
    warn "peer: #{e.message}"
    exit CompatPeer::EXIT_USAGE
  rescue PG::Error => e
    warn "peer: database error: #{e.class}: #{e.message.strip}"
    exit CompatPeer::EXIT_ERROR
  rescue LoadError => e
    warn "peer: #{e.message}"
    exit CompatPeer::EXIT_ERROR
  rescue StandardError => e
    warn "peer: #{e.class}: #{e.message}"
    warn e.backtrace.first(5).map { |l| "  #{l}" }.join("\n") if ENV["QUE_PEER_VERBOSE"]
    exit CompatPeer::EXIT_ERROR
  end
end
