# frozen_string_literal: true

require_relative "../faults/support/fault_report"

require_relative "support"

# Every setting's default, range and check come from the core (src/config/settings.rs):
# Ruby keeps no copy, so Ruby and Rust cannot disagree, and nothing a setting can hold makes
# a loop of the core panic later.
RSpec.describe "settings: defaults and validation from the core" do
  def refused(key, value)
    config = TaskerCore::Configuration.new
    config.public_send(:"#{key}=", value)
    expect { config.validate! }.to raise_error(TaskerCore::ConfigurationError, /\A#{key} must be /)
  end

  it "refuses infinite, NaN, negative, huge and mistyped values, naming the key" do
    refused(:sweep_interval, Float::INFINITY)
    refused(:poll_interval, Float::INFINITY)
    refused(:claim_grace_seconds, Float::INFINITY)
    refused(:backoff_base_seconds, 1e300)
    refused(:visibility_timeout, 2**40)
    refused(:pool_size, 2**40)
    refused(:pool_size, 2**100)
    refused(:orchestrator_pool_size, 0)
    refused(:poll_interval, Float::NAN)
    refused(:sweep_interval, -1)
    refused(:pool_size, "5")
    refused(:visibility_timeout, 1.5)
    refused(:poll_interval, nil)
    refused(:log_level, "loud")
    refused(:database_url, "mysql://u:pw@h/db")
    refused(:max_create_batch, 0)
    refused(:max_create_batch, 100_001)
    FaultReport.record(name: "Infinite or out-of-range settings",
                       how: "sweep_interval/poll_interval Infinity, NaN, negative, 2**40, wrong types: " \
                            "ConfigurationError naming the key, at configure time",
                       tasks: 0, completed: 0, duplicates: 0, lost: 0)
  end

  it "shows what it got, and never a password" do
    config = TaskerCore::Configuration.new
    config.sweep_interval = Float::INFINITY
    expect { config.validate! }.to raise_error(
      TaskerCore::ConfigurationError,
      "sweep_interval must be a finite number of seconds above 0 and at most 3600, got Infinity"
    )
    config = TaskerCore::Configuration.new
    config.database_url = "postgresql://u:hunter2@/db?host=h&port=x&password=hunter3"
    expect { config.validate! }.to raise_error(TaskerCore::ConfigurationError, /\Adatabase_url .*port/) { |e|
      expect(e.message).not_to include("hunter")
    }
  end

  it "is enforced by the core itself, whatever Ruby hands it" do
    native = TaskerCore::Configuration.new.to_native
    expect { TaskerCore::Internal::Orchestrator.start(native.merge("sweep_interval" => Float::INFINITY)) }
      .to raise_error(TaskerCore::ConfigurationError, /\Asweep_interval must be/)
    expect { TaskerCore::Internal::Client.templates(native.merge("visibility_timeout" => 2**40)) }
      .to raise_error(TaskerCore::ConfigurationError, /\Avisibility_timeout must be an integer between 1 and 86400/)
    expect { TaskerCore::Internal::Client.templates(native.merge("colour" => 1)) }
      .to raise_error(TaskerCore::ConfigurationError, /unknown configuration key "colour"/)
  end

  it "accepts what the core accepts: a zero claim grace, Integer seconds, every default" do
    config = TaskerCore::Configuration.new
    expect(config.validate!).to be(config)
    config.claim_grace_seconds = 0
    config.poll_interval = 2
    expect(config.validate!).to be(config)
  end

  it "takes its defaults from the core" do
    config = TaskerCore::Configuration.new
    TaskerCore::Internal::Config.defaults(true).each do |key, value|
      next if key == "database_url" && ENV.key?("DATABASE_URL")
      next if key == "log_level" && ENV.key?("TASKER_LOG_LEVEL")

      expect(config.public_send(key)).to eq(value)
    end
    expect(config.orchestrator_pool_size).to eq(4)
    expect(config.claim_grace_seconds).to eq(30.0)
  end

  it "checks the worker's options by the same rules" do
    url = TaskerCore.configuration.database_url
    expect { TaskerCore::Worker::Settings.new(namespaces: %w[a], database_url: url, poll_interval: Float::INFINITY) }
      .to raise_error(TaskerCore::ArgumentError, /\Apoll_interval must be a finite number/)
    expect { TaskerCore::Worker::Settings.new(namespaces: %w[a], database_url: url, visibility_timeout: 2**40) }
      .to raise_error(TaskerCore::ArgumentError, /\Avisibility_timeout must be an integer between 1 and 86400/)
    expect { TaskerCore::Worker::Settings.new(namespaces: %w[a], database_url: url, max_reads: Float::NAN) }
      .to raise_error(TaskerCore::ArgumentError, /\Amax_reads must be/)
    with_configuration(poll_interval: Float::INFINITY) do
      expect { TaskerCore::Worker::Settings.new(namespaces: %w[a], database_url: url) }
        .to raise_error(TaskerCore::ConfigurationError, /\Apoll_interval must be/)
    end
    settings = TaskerCore::Worker::Settings.new(namespaces: %w[a], database_url: url, poll_interval: 2)
    expect(settings.poll_interval).to eq(2.0)
    expect(settings.concurrency).to eq(TaskerCore::Internal::Config.defaults(false).fetch("concurrency"))
  end

  it "checks the process plan (workers, shutdown_timeout) by the same rules" do
    plan = ->(settings) { TaskerCore::Runtime::Plan.new(settings, "workers" => "TASKER_WORKER_*") }
    expect { plan.call("workers" => { "namespaces" => "a", "poll_interval" => Float::INFINITY }) }
      .to raise_error(TaskerCore::ConfigurationError,
                      "workers.poll_interval must be a finite number of seconds above 0 and at most 3600, " \
                      "got Infinity (set in TASKER_WORKER_*)")
    expect { plan.call("shutdown_timeout" => Float::NAN) }
      .to raise_error(TaskerCore::ConfigurationError, /\Ashutdown_timeout must be a finite number/)
    expect(plan.call("workers" => { "namespaces" => "a", "concurrency" => "3" }).workers)
      .to eq(namespaces: ["a"], concurrency: 3)
    expect(plan.call({}).shutdown_timeout).to eq(25.0)
  end

  it "gives the two poison limits distinct names, each defined once in the core" do
    expect(TaskerCore::Worker::Settings::DEFAULT_MAX_READS).to eq(TaskerCore::Internal::STEP_MAX_READS)
    expect(TaskerCore::Internal::STEP_MAX_READS).to eq(25)
  end

  it "never panics on a timeout no clock can hold" do
    expect { TaskerCore.wait_for_task("0190d6f2-0000-7000-8000-000000000000", timeout: 1e300) }
      .to raise_error(TaskerCore::ArgumentError, /timeout must be a non-negative finite number/)
    expect(TaskerCore::Orchestrator.stop(timeout: 1e300)).to be(false)
  end
end

RSpec.describe "rules exported by the core" do
  it "defines the state lists from the state machines, frozen" do
    states = TaskerCore::States
    expect(states::TASK).to eq(%w[pending in_progress complete error cancelled resolved_manually])
    expect(states::STEP).to eq(%w[pending enqueued in_progress complete waiting_for_retry error cancelled
                                  resolved_manually skipped])
    expect(states::TASK_FINISHED).to eq(%w[complete error cancelled resolved_manually])
    expect(states::STEP_FINISHED).to eq(%w[complete error cancelled resolved_manually skipped])
    [states::TASK, states::STEP, states::TASK_FINISHED, states::STEP_FINISHED].each do |list|
      expect(list).to be_frozen
      expect(list).to all(be_frozen)
    end
    expect(TaskerCore::TaskStatus::FINISHED).to equal(states::TASK_FINISHED)
  end

  it "has one queue-name rule, the core's" do
    expect(TaskerCore::QUEUE_NAME.source).to eq("\\A#{TaskerCore::Internal::QUEUE_NAME_PATTERN}\\z")
    expect(TaskerCore::QUEUE_NAME).to match("a#{"b" * 46}")
    expect(TaskerCore::QUEUE_NAME).not_to match("a#{"b" * 47}")
    expect { TaskerCore::Worker::Settings.new(namespaces: ["a#{"b" * 41}"]) }
      .to raise_error(TaskerCore::ArgumentError, /invalid namespace/)
  end

  it "redacts a password in the userinfo and in every secret query parameter" do
    expect(TaskerCore.redact_url("postgresql://bob:pw1@h:5432/db?user=u&password=pw2&sslpassword=pw3&sslmode=disable"))
      .to eq("postgresql://bob:***@h:5432/db?user=u&password=***&sslpassword=***&sslmode=disable")
    config = TaskerCore::Configuration.new
    config.database_url = "postgresql://u:pw1@/db?host=h&password=pw2"
    expect(config.inspect).not_to include("pw1")
    expect(config.inspect).not_to include("pw2")
    expect(config.inspect).to include("postgresql://u:***@/db?host=h&password=***")
    config.read_database_url = "postgresql://r:pw4@replica/db"
    expect(config.inspect).to include("read_database_url=\"postgresql://r:***@replica/db\"")
    expect(config.redacted_read_url).to eq("postgresql://r:***@replica/db")
    expect(TaskerCore::Worker::Settings.new(namespaces: %w[a], database_url: config.database_url)
      .redacted_database_url).to eq("postgresql://u:***@/db?host=h&password=***")
  end
end
