# frozen_string_literal: true

require "logger"
require "open3"
require "stringio"
require_relative "../cli/support/cli_helpers"

RSpec.describe TaskerCore::Notifications do
  after { @subscriptions&.each { |s| described_class.unsubscribe(s) } }

  def subscribe(pattern = nil, &)
    (@subscriptions ||= []) << described_class.subscribe(pattern, &)
    @subscriptions.last
  end

  it "delivers events to subscribers by name, pattern or to all tasker_core events, with symbol keys" do
    seen = []
    subscribe("task.failed.tasker_core") { |name, payload| seen << [:exact, name, payload] }
    subscribe(/\Astep\./) { |name, _| seen << [:regexp, name] }
    subscribe { |name, _| seen << [:all, name] }

    described_class.instrument("task.failed.tasker_core", "task_uuid" => "u1", "state" => "error")
    described_class.instrument("step.started.tasker_core", task_uuid: "u2")
    described_class.instrument("something.else", {})

    expect(seen).to eq([[:exact, "task.failed.tasker_core", { task_uuid: "u1", state: "error" }],
                        [:all, "task.failed.tasker_core"],
                        [:regexp, "step.started.tasker_core"], [:all, "step.started.tasker_core"]])
  end

  it "stops delivering after unsubscribe, and a raising subscriber never breaks the caller" do
    log = StringIO.new
    allow(TaskerCore).to receive(:logger).and_return(Logger.new(log))
    calls = 0
    subscription = subscribe { calls += 1 }
    subscribe { raise "boom" }
    expect { described_class.instrument("task.created.tasker_core", {}) }.not_to raise_error
    described_class.unsubscribe(subscription)
    described_class.instrument("task.created.tasker_core", {})
    expect(calls).to eq(1)
    expect(log.string).to include("a subscriber to task.created.tasker_core raised RuntimeError: boom")
  end

  it "has a log subscriber that writes one line per event at the event's level" do
    io = StringIO.new
    logger = Logger.new(io, formatter: ->(severity, _, _, message) { "#{severity} #{message}\n" })
    subscriber = TaskerCore::Notifications::LogSubscriber.new(logger: logger)
    subscriber.call("task.completed.tasker_core", namespace: "shop", name: "checkout", task_uuid: "u1",
                                                  state: "complete")
    subscriber.call("step.failed.tasker_core", namespace: "shop", name: "checkout", step_name: "charge",
                                               task_uuid: "u1", attempt: 1, max_attempts: 3, duration_ms: 12.34,
                                               error: { class: "Timeout", message: "slow\nmore" })
    subscriber.call("step.retried.tasker_core", namespace: "shop", step_name: "charge", task_uuid: "u1",
                                                attempt: 1, delay_seconds: 2.0)
    logger.level = Logger::INFO
    subscriber.call("step.started.tasker_core", namespace: "shop", name: "checkout", step_name: "charge")
    expect(io.string).to eq(<<~LOG)
      INFO tasker-core task.completed shop/checkout u1 (complete)
      WARN tasker-core step.failed shop/checkout charge u1 attempt 1/3 in 12.3 ms Timeout: slow
      INFO tasker-core step.retried shop charge u1 attempt 1 next attempt in 2.0 s
    LOG
  end

  it "goes through ActiveSupport::Notifications when ActiveSupport is loaded" do
    script = <<~'RUBY'
      require "active_support"
      require "active_support/notifications"
      require "tasker_core"
      seen = []
      ActiveSupport::Notifications.subscribe("task.completed.tasker_core") { |*args| seen << [:as, args.first, args.last] }
      TaskerCore::Notifications.subscribe { |name, payload| seen << [:ours, name, payload] }
      TaskerCore::Notifications.instrument("task.completed.tasker_core", "task_uuid" => "u1")
      p seen
    RUBY
    out, status = Open3.capture2e(cli_env, RbConfig.ruby, "-I", CliHelpers::LIB, "-e", script)
    expect(status.success?).to be(true), out
    expect(out.strip).to eq('[[:as, "task.completed.tasker_core", {:task_uuid=>"u1"}], ' \
                            '[:ours, "task.completed.tasker_core", {:task_uuid=>"u1"}]]')
  end
end
