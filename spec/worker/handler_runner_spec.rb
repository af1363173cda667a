# frozen_string_literal: true

require "spec_helper"

module RunnerSpecHandlers
  class Sum < TaskerCore::StepHandler
    def call(task, sequence, step)
      task.context["base"] + step.depends_on.sum { |name| sequence.get(name) }
    end
  end

  class Retry < TaskerCore::StepHandler
    def call(*)
      raise TaskerCore::RetryableError.new("busy", retry_after: 7)
    end
  end

  class Permanent < TaskerCore::StepHandler
    def call(*)
      raise TaskerCore::PermanentError.new("never", error_code: "NOPE")
    end
  end

  class Crash < TaskerCore::StepHandler
    def call(*)
      raise IOError, "disk"
    end
  end

  class Exits < TaskerCore::StepHandler
    def call(*)
      exit 3
    end
  end

  class Raises < TaskerCore::StepHandler
    ERRORS = { "Interrupt" => Interrupt.new, "SignalException" => SignalException.new("TERM"),
               "NoMemoryError" => NoMemoryError.new("no room"), "Exception" => Exception.new("plain") }.freeze

    def call(task, *)
      raise ERRORS.fetch(task.context.fetch("error"))
    end
  end

  class NotJson < TaskerCore::StepHandler
    def call(*)
      { "when" => Time.at(0) }
    end
  end

  class BadConfig < TaskerCore::StepHandler
    def initialize(config:)
      super
      raise ArgumentError, "config needs a url" unless config["url"]
    end

    def call(*) = 1
  end
end

RSpec.describe TaskerCore::Worker::HandlerRunner do
  subject(:runner) { described_class.new(logger: logger) }

  let(:log) { StringIO.new }
  let(:logger) { Logger.new(log) }

  def context(handler, timeout: 30, task_context: { "base" => 100 })
    TaskerCore::Types::ExecutionContext.new(
      "attempt" => 1,
      "task" => { "uuid" => "0190b3a0-1111-7000-8000-000000000001", "namespace" => "spec", "name" => "run",
                  "version" => "1.0.0", "context" => task_context },
      "step" => { "uuid" => "0190b3a0-2222-7000-8000-000000000002", "name" => "the_step", "handler" => handler,
                  "config" => {}, "attempt" => 1, "max_attempts" => 3, "timeout_seconds" => timeout,
                  "depends_on" => %w[a b] },
      "ancestors" => { "a" => 1, "b" => 2, "root" => 0 }
    )
  end

  it "returns the handler's value with its duration" do
    outcome = runner.run(context("RunnerSpecHandlers::Sum"))
    expect(outcome).to be_success
    expect(outcome.result).to eq(103)
    expect(outcome.duration_ms).to be >= 0
  end

  it "turns each kind of exception into the right error" do
    expect(runner.run(context("RunnerSpecHandlers::Retry")).error)
      .to include("class" => "TaskerCore::RetryableError", "retryable" => true, "retry_after" => 7)
    expect(runner.run(context("RunnerSpecHandlers::Permanent")).error)
      .to include("retryable" => false, "error_code" => "NOPE")
    expect(runner.run(context("RunnerSpecHandlers::Crash")).error).to include("class" => "IOError", "retryable" => true)
    expect(runner.run(context("RunnerSpecHandlers::BadConfig")).error)
      .to include("class" => "ArgumentError", "message" => "config needs a url")
  end

  it "does not let a handler's exit take the thread down" do
    outcome = nil
    Thread.new { outcome = runner.run(context("RunnerSpecHandlers::Exits")) }.join
    expect(outcome.error).to include("class" => "SystemExit", "retryable" => false)
  end

  it "fails a non-JSON result with SerializationError naming step, class and path" do
    error = runner.run(context("RunnerSpecHandlers::NotJson")).error
    expect(error).to include("class" => "TaskerCore::SerializationError", "retryable" => false)
    expect(error["message"]).to include('"the_step"', "Time", "$.when")
  end

  it "fails an unknown handler permanently" do
    error = runner.run(context("RunnerSpecHandlers::Missing")).error
    expect(error).to include("class" => "TaskerCore::UnknownHandlerError", "retryable" => false)
  end

  it "turns any Exception into a retryable failure and keeps the thread alive" do
    thread = Thread.new do
      RunnerSpecHandlers::Raises::ERRORS.keys.map do |name|
        runner.run(context("RunnerSpecHandlers::Raises", task_context: { "error" => name })).error
      end
    end
    outcomes = thread.value
    expect(thread.status).to be(false) # finished normally, not by an exception
    expect(outcomes.map { |e| [e["class"], e["retryable"]] })
      .to eq([["Interrupt", true], ["SignalException", true], ["NoMemoryError", true], ["Exception", true]])
  end
end
