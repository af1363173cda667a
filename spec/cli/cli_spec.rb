# frozen_string_literal: true

require "stringio"
require "tmpdir"
require_relative "support/cli_helpers"

RSpec.describe "exe/tasker-core: usage, help, exit codes and errors" do
  it "prints an overview with --help (exit 0) and without a command (exit 2, on stderr)" do
    help = tasker_core("--help")
    expect(help.code).to eq(0)
    expect(help.out).to include("usage: tasker-core", "migrate", "orchestrator", "worker", "status", "task",
                                "graph", "templates", "schedules", "namespaces", "purge", "demo", "web",
                                "--database-url", "Exit status")

    bare = tasker_core
    expect(bare.code).to eq(2)
    expect(bare.out).to be_empty
    expect(bare.err).to include("Commands:")
  end

  it "prints the version" do
    result = tasker_core("--version")
    expect([result.code, result.out.strip]).to eq([0, "tasker-core #{TaskerCore::VERSION}"])
  end

  it "has --help for every command, also as `help COMMAND`, with the global options" do
    expect(tasker_core("help", "worker").out).to include("--namespaces", "--concurrency", "--require")
    expect(tasker_core("graph", "--help").out).to include("--format", "--png")
    # Every other command in this process (the same code path, without a process start each).
    require "tasker_core/cli"
    %w[migrate orchestrator worker status task graph templates schedules namespaces purge demo web].each do |command|
      out = StringIO.new
      err = StringIO.new
      expect(TaskerCore::CLI.start([command, "--help"], out: out, err: err)).to eq(0), err.string
      expect(out.string).to start_with("usage: tasker-core #{command}")
      expect(out.string).to include("Global options:", "--database-url", "--trace")
    end
  end

  it "exits 2 with one line and a hint on a usage error" do
    unknown = tasker_core("frobnicate")
    expect(unknown.code).to eq(2)
    expect(unknown.err.lines.first).to eq("tasker-core: unknown command \"frobnicate\" (commands: migrate, " \
                                          "orchestrator, worker, status, task, graph, templates, schedules, " \
                                          "namespaces, purge, demo, web, help)\n")

    bad_option = tasker_core("status", "--frobnicate")
    expect(bad_option.code).to eq(2)
    expect(bad_option.err).to eq("tasker-core: invalid option: --frobnicate\n" \
                                 "Run `tasker-core help status` for usage.\n")

    expect(tasker_core("--log-level", "loud", "status").code).to eq(2)
    expect(tasker_core("task").err).to start_with("tasker-core: task: expected a task UUID, got nothing")
    expect(tasker_core("worker").err).to start_with("tasker-core: worker: --namespaces is required")
  end

  it "exits 1 with one line (no backtrace unless --trace) when the database cannot be reached" do
    url = "postgresql://nobody@127.0.0.1:1/none"
    result = tasker_core("status", "--database-url", url)
    expect(result.code).to eq(1)
    expect(result.err.lines.size).to eq(1)
    expect(result.err).to start_with("tasker-core: cannot connect to #{url}:")

    traced = tasker_core("status", "--database-url", url, "--trace")
    expect(traced.code).to eq(1)
    expect(traced.err.lines.size).to be > 3
    expect(traced.err).to include("queries.rb")
  end

  it "names the bad key and where it was set: config file, TASKER_* variables" do
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "tasker.yml"), "production:\n  pool_sise: 3\n")
      result = tasker_core("status", "--config", File.join(dir, "tasker.yml"), "--environment", "production")
      expect(result.code).to eq(1)
      expect(result.err).to eq("tasker-core: #{dir}/tasker.yml [production]: unknown key \"pool_sise\" " \
                               "(did you mean \"pool_size\"?)\n")

      File.write(File.join(dir, "tasker.yml"), "pool_size: <%= 2 - 2 %>\n")
      zero = tasker_core("status", "--config", File.join(dir, "tasker.yml"))
      expect(zero.err).to eq("tasker-core: pool_size must be an integer between 1 and 1000, got 0 " \
                             "(set in #{dir}/tasker.yml [development])\n")

      expect(tasker_core("status", "--config", File.join(dir, "missing.yml")).err)
        .to eq("tasker-core: config file #{dir}/missing.yml not found\n")
    end

    env = tasker_core("status", env: { "TASKER_VISIBILITY_TIMEOUT" => "soon" })
    expect(env.code).to eq(1)
    expect(env.err).to eq("tasker-core: visibility_timeout must be an integer, got \"soon\" " \
                          "(set in environment (TASKER_*))\n")
  end

  it "names TASKER_WEB_CSRF_SECRET when it is too short to sign the dashboard's forms" do
    result = tasker_core("web", "--actions", "--port", "0", env: { "TASKER_WEB_CSRF_SECRET" => "short" }, timeout: 15)
    expect(result.code).to eq(1)
    expect(result.err).to start_with("tasker-core: TASKER_WEB_CSRF_SECRET must be a String of at least 32 bytes " \
                                     "(got 5 bytes)")
  end

  it "reads ./config/tasker_core.yml from the working directory, and flags win over it" do
    Dir.mktmpdir do |dir|
      Dir.mkdir(File.join(dir, "config"))
      File.write(File.join(dir, "config", "tasker_core.yml"),
                 "test:\n  database_url: postgresql://nobody@127.0.0.1:1/from_file\n")
      from_file = tasker_core("status", env: { "RAILS_ENV" => "test" }, chdir: dir)
      expect(from_file.err).to include("cannot connect to postgresql://nobody@127.0.0.1:1/from_file")

      flag = tasker_core("status", "--database-url", "postgresql://nobody@127.0.0.1:1/from_flag",
                         env: { "RAILS_ENV" => "test" }, chdir: dir)
      expect(flag.err).to include("from_flag")
      env = tasker_core("status", env: { "RAILS_ENV" => "test",
                                         "TASKER_DATABASE_URL" => "postgresql://nobody@127.0.0.1:1/from_env" },
                                  chdir: dir)
      expect(env.err).to include("from_env")
    end
  end
end
