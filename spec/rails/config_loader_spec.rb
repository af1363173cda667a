# frozen_string_literal: true

require "tmpdir"

# The configuration surface shared by the Railtie and the CLI: YAML per environment (ERB),
# Ruby settings, TASKER_* variables, validation naming the key and where it was set.
RSpec.describe TaskerCore::ConfigLoader do
  subject(:loader) { described_class.new(TaskerCore::Configuration.new) }

  def yaml(text)
    dir = Dir.mktmpdir
    path = File.join(dir, "tasker_core.yml")
    File.write(path, text)
    path
  end

  it "reads the environment's section, merged over `shared`, with ERB, and the process keys" do
    path = yaml(<<~YAML)
      shared:
        pool_size: 4
        log_level: info
      production:
        pool_size: <%= 6 + 1 %>
        template_paths: [app/workflows]
        workers: {namespaces: [billing], concurrency: 8}
        orchestrator: false
      development:
        pool_size: 2
    YAML
    loader.load_file(path, environment: "production")
    config = loader.configuration
    expect([config.pool_size, config.log_level, config.template_paths]).to eq([7, "info", ["app/workflows"]])
    expect(loader.plan.to_h).to include(orchestrator: false, workers: { namespaces: ["billing"], concurrency: 8 },
                                        start: :auto, shutdown_timeout: 25.0)
    expect(loader.source_of(:pool_size)).to eq("#{path} [production]")
  end

  it "treats a file of settings as one for every environment, and a missing section as empty" do
    loader.load_file(yaml("visibility_timeout: 45\n"), environment: "staging")
    expect(loader.configuration.visibility_timeout).to eq(45)
    loader.load_file(yaml("production:\n  pool_size: 3\n"), environment: "test")
    expect(loader.configuration.pool_size).to eq(10)
  end

  it "lets each layer override the one before: file, Ruby, then TASKER_* variables" do
    loader.load_file(yaml("pool_size: 3\nlog_level: info\nbackoff_jitter: 0.2\n"), environment: "x")
    loader.load_hash({ pool_size: 5, log_level: nil }, source: "config.tasker_core")
    loader.load_env("TASKER_POOL_SIZE" => "9", "TASKER_TEMPLATE_PATHS" => "a/*.yml:b", "TASKER_START" => "1",
                    "TASKER_WORKER_NAMESPACES" => "x, y", "TASKER_WORKER_CONCURRENCY" => "3",
                    "TASKER_POLL_INTERVAL" => "0.25", "TASKER_LOG_LEVEL" => "")
    config = loader.configuration
    expect([config.pool_size, config.log_level, config.backoff_jitter]).to eq([9, "info", 0.2])
    expect([config.template_paths, config.poll_interval]).to eq([["a/*.yml", "b"], 0.25])
    expect(loader.plan.to_h).to include(start: :always, workers: { namespaces: %w[x y], concurrency: 3 })
    expect(loader.source_of("pool_size")).to eq("environment (TASKER_*)")
  end

  it "names the key, suggests a spelling and says where a bad value was set" do
    expect { loader.load_hash({ pool_sise: 1 }, source: "config.tasker_core") }
      .to raise_error(TaskerCore::ConfigurationError,
                      'config.tasker_core: unknown key "pool_sise" (did you mean "pool_size"?)')
    expect { loader.load_env("TASKER_POOL_SIZE" => "many") }
      .to raise_error(TaskerCore::ConfigurationError,
                      'pool_size must be an integer, got "many" (set in environment (TASKER_*))')

    path = yaml("production:\n  backoff_jitter: 3\n")
    loader.load_file(path, environment: "production")
    expect { loader.validate! }
      .to raise_error(TaskerCore::ConfigurationError,
                      "backoff_jitter must be between 0 and 1, got 3 (set in #{path} [production])")

    expect { described_class.new.load_file(yaml("- a\n- b\n"), environment: "x") }
      .to raise_error(TaskerCore::ConfigurationError, /expected a mapping at the top level, got Array/)
    expect { described_class.new.load_file(yaml("production: 3\n"), environment: "production") }
      .to raise_error(TaskerCore::ConfigurationError, /section "production" must be a mapping/)
    expect { described_class.new.load_file(yaml("a: [\n"), environment: "x") }
      .to raise_error(TaskerCore::ConfigurationError, /invalid YAML/)
  end

  it "validates the process keys, naming them" do
    bad = {
      { "start" => "sometimes" } => "start must be one of auto, true, false, after_fork, got \"sometimes\"",
      { "orchestrator" => "maybe" } => "orchestrator must be true or false, got \"maybe\"",
      { "workers" => { "namespaces" => [] } } => "workers.namespaces must list at least one namespace, got []",
      { "workers" => { "namespaces" => ["a"], "concurrency" => 0 } } =>
        "workers.concurrency must be an integer between 1 and 1000, got 0",
      { "workers" => { "namespaces" => ["a"], "threads" => 2 } } => /workers has unknown key\(s\) threads/,
      { "workers" => ["a"] } => /workers must be a mapping/,
      { "shutdown_timeout" => -1 } =>
        "shutdown_timeout must be a finite number of seconds above 0 and at most 86400, got -1"
    }
    bad.each do |settings, message|
      expect { described_class.new.load_hash(settings, source: "config.tasker_core").plan }
        .to raise_error(TaskerCore::ConfigurationError,
                        message.is_a?(String) ? "#{message} (set in config.tasker_core)" : message)
    end
    plan = described_class.new.load_hash({ "start" => "false", "workers" => false }, source: "x").plan
    expect([plan.start, plan.workers, plan.runs_something?]).to eq([:never, nil, true])
    expect(described_class.environment_variables).to include("TASKER_DATABASE_URL", "TASKER_WORKER_NAMESPACES")
  end
end
