# frozen_string_literal: true

require "spec_helper"
require "open3"
require "rbconfig"

module TaskerApiSpecHandlers
  # Everything the Tasker API hands a handler, as one result.
  class Reflect < TaskerCore::StepHandler::Base
    def call(task, sequence, step)
      step.results["written"] = true
      { "task_id" => task.task_id, "task_uuid" => task.task_uuid, "context" => task.context,
        "namespace" => task.namespace, "name" => task.name, "step" => [step.name, step.step_name],
        "inputs" => step.inputs, "config" => config, "attempts" => step.attempts,
        "a" => sequence.get_results("a"), "b_total" => sequence.get_result("b", "total"),
        "b_missing" => sequence.get_result("b", "nope"), "names" => sequence.names,
        "has" => [sequence.has?("a"), sequence.has?(:zzz)], "brackets" => sequence["a"],
        "logger" => logger.equal?(TaskerCore.logger) }
    end
  end

  # A Tasker handler with its own argument-less initialize.
  class OwnInitialize < TaskerCore::StepHandler::Base
    def initialize
      super
      @prefix = "own"
    end

    def process(_task, _sequence, step)
      "#{@prefix} #{step.name} #{config.fetch("greeting")}"
    end
  end

  # tasker-core-rs handlers often take (and pass up) keywords.
  class KeywordInitialize < TaskerCore::StepHandler::Base
    def initialize(config: {}, logger: nil)
      super
      @own_logger = logger
    end

    def call(*)
      [config["greeting"], @own_logger.nil?]
    end
  end

  class WritesOnly < TaskerCore::StepHandler::Base
    def call(_task, _sequence, step)
      step.results["only"] = 1
      nil
    end
  end

  class HashFailure < TaskerCore::StepHandler::Base
    def call(*)
      { "success" => false, "error_type" => "Overdrawn", "message" => "no funds", "retryable" => true }
    end
  end

  # A native handler: a Hash with "success" is its result, untouched.
  class NativeHash
    def call(*)
      { "success" => true, "result" => 5 }
    end
  end

  class NativeCallResult
    def call(*)
      TaskerCore::Types::StepHandlerCallResult.success(result: 9, metadata: { "m" => 1 })
    end
  end
end

RSpec.describe "The Tasker handler API" do
  let(:runner) { TaskerCore::Worker::HandlerRunner.new(logger: Logger.new(StringIO.new)) }
  let(:call_result) { TaskerCore::Types::StepHandlerCallResult }

  def context(handler, config: {})
    TaskerCore::Types::ExecutionContext.new(
      "attempt" => 2,
      "task" => { "uuid" => "0190b3a0-1111-7000-8000-000000000001", "namespace" => "spec", "name" => "api",
                  "version" => "1.0.0", "context" => { "big" => 2**64 } },
      "step" => { "uuid" => "0190b3a0-2222-7000-8000-000000000002", "name" => "the_step", "handler" => handler,
                  "config" => config, "attempt" => 2, "max_attempts" => 3, "timeout_seconds" => 30,
                  "depends_on" => %w[b] },
      "ancestors" => { "a" => 4**64, "b" => { "total" => 10**30 } }
    )
  end

  it "gives task, step, sequence, config and logger the Tasker family's names" do
    outcome = runner.run(context("TaskerApiSpecHandlers::Reflect", config: { "greeting" => "hi" }))
    expect(outcome.error).to be_nil
    expect(outcome.result).to eq(
      "task_id" => "0190b3a0-1111-7000-8000-000000000001", "task_uuid" => "0190b3a0-1111-7000-8000-000000000001",
      "context" => { "big" => 2**64 }, "namespace" => "spec", "name" => "api", "step" => %w[the_step the_step],
      "inputs" => { "greeting" => "hi" }, "config" => { "greeting" => "hi" }, "attempts" => 2,
      "a" => 4**64, "b_total" => 10**30, "b_missing" => nil, "names" => %w[a b], "has" => [true, false],
      "brackets" => 4**64, "logger" => true, "written" => true
    )
    expect(outcome.result["a"]).to be_a(Integer)
  end

  it "builds Base handlers with no arguments and hands them the step's config" do
    outcome = runner.run(context("TaskerApiSpecHandlers::OwnInitialize", config: { "greeting" => "hello" }))
    expect(outcome.result).to eq("own the_step hello")
    expect(TaskerApiSpecHandlers::OwnInitialize.new.config).to eq({})
    keywords = runner.run(context("TaskerApiSpecHandlers::KeywordInitialize", config: { "greeting" => "hey" }))
    expect(keywords.result).to eq(["hey", true])
  end

  it "uses what the handler wrote into step.results when it returns nil" do
    expect(runner.run(context("TaskerApiSpecHandlers::WritesOnly")).result).to eq("only" => 1)
  end

  it "reads a Base handler's Hash with success: false as an error call result" do
    outcome = runner.run(context("TaskerApiSpecHandlers::HashFailure"))
    expect(outcome.error).to include("class" => "Overdrawn", "message" => "no funds", "retryable" => true)
  end

  it "leaves a native handler's Hash alone but reads a call result from any handler" do
    expect(runner.run(context("TaskerApiSpecHandlers::NativeHash")).result).to eq("success" => true, "result" => 5)
    outcome = runner.run(context("TaskerApiSpecHandlers::NativeCallResult"))
    expect([outcome.result, outcome.metadata]).to eq([9, { "m" => 1 }])
  end

  describe TaskerCore::Types::StepHandlerCallResult do
    it "builds successes and errors" do
      ok = call_result.success(result: { "x" => 1 }, metadata: { "m" => 2 })
      expect([ok.success?, ok.result, ok.metadata]).to eq([true, { "x" => 1 }, { "m" => 2 }])
      expect(call_result.success(result: 1).metadata).to eq({})
      err = call_result.error(error_type: "Declined", message: "no", error_code: "D1", retryable: true,
                              metadata: { "why" => "card" })
      expect([err.success?, err.error_type, err.message, err.error_code, err.retryable, err.metadata])
        .to eq([false, "Declined", "no", "D1", true, { "why" => "card" }])
      expect(call_result.error(error_type: "X", message: "m").retryable).to be(false)
    end

    it "reads handler output: call results, Hashes with success, anything else as a result" do
      ok = call_result.success(result: 1)
      expect(call_result.from_handler_output(ok)).to equal(ok)
      expect(call_result.from_handler_output(success: true, result: 3, metadata: { "a" => 1 }))
        .to eq(call_result.success(result: 3, metadata: { "a" => 1 }))
      expect(call_result.from_handler_output("success" => false,
                                             "message" => "bad").error_type).to eq("StepHandlerError")
      expect(call_result.from_handler_output(2**64)).to eq(call_result.success(result: 2**64))
      other = { "success" => true, "order" => 1 }
      expect(call_result.from_handler_output(other)).to eq(call_result.success(result: other))
    end
  end

  describe TaskerCore::Errors do
    it "names the native classes, so a rescue for either catches both" do
      expect(TaskerCore::Errors::PermanentError).to equal(TaskerCore::PermanentError)
      expect(TaskerCore::Errors::RetryableError).to equal(TaskerCore::RetryableError)
      invalid = TaskerCore::Errors::ValidationError.new("bad", field: "email")
      expect { raise invalid }.to raise_error(TaskerCore::PermanentError)
      expect([invalid.field, invalid.context]).to eq(["email", { "field" => "email" }])
      expect { raise TaskerCore::Errors::NetworkError.new("down", status_code: 502, retry_after: 3) }
        .to raise_error(TaskerCore::RetryableError) { |e| expect([e.status_code, e.retry_after]).to eq([502, 3]) }
      expect(TaskerCore::Errors::NotFoundError).to equal(TaskerCore::NotFoundError)
      missing = TaskerCore::Errors::NotFoundError.new("no user", resource_type: "user", error_code: "NO_USER",
                                                                 context: { "id" => 1 })
      expect([missing.resource_type, missing.error_code, missing.context]).to eq(["user", "NO_USER", { "id" => 1 }])
      slow = TaskerCore::Errors::TimeoutError.new("slow query", timeout_duration: 30)
      expect([slow.timeout_duration, slow.context]).to eq([30, {}])
      expect { raise TaskerCore::Errors::ValidationError, "x" }.to raise_error(TaskerCore::Errors::ProceduralError)
      expect { raise TaskerCore::Errors::NetworkError, "x" }.to raise_error(TaskerCore::Errors::ProceduralError)
      expect(TaskerCore::Errors::TimeoutError).to equal(TaskerCore::TimeoutError)
      expect(TaskerCore::Errors::ConfigurationError).to equal(TaskerCore::ConfigurationError)
    end

    it "decides retries like the native API, and keeps each error's context" do
      builder = TaskerCore::Worker::ResultBuilder
      permanent = TaskerCore::Errors::PermanentError.new("no", error_code: "E1", context: { "id" => 2**64 })
      expect(builder.error_for(permanent)).to include("retryable" => false, "error_code" => "E1",
                                                      "context" => { "id" => 2**64 })
      expect(builder.error_for(TaskerCore::Errors::NotFoundError.new("gone", error_code: "G")))
        .to include("retryable" => false, "error_code" => "G")
      expect(builder.error_for(TaskerCore::Errors::ConfigurationError.new("key"))["retryable"]).to be(false)
      retryable = TaskerCore::Errors::RetryableError.new("later", retry_after: 5, context: { "n" => 1 })
      expect(builder.error_for(retryable)).to include("retryable" => true, "retry_after" => 5,
                                                      "context" => { "n" => 1 })
      expect(builder.error_for(TaskerCore::Errors::TimeoutError.new("slow"))["retryable"]).to be(true)
      expect(builder.error_for(RuntimeError.new("x"))["context"]).to be_nil
    end

    it "is defined by lib/tasker_core/errors.rb loaded on its own, and the gem loads cleanly after it" do
      lib = File.expand_path("../../lib", __dir__)
      script = <<~RUBY
        require #{File.join(lib, "tasker_core/errors.rb").inspect}
        puts [TaskerCore::Errors::PermanentError, TaskerCore::Errors::ValidationError.superclass,
              defined?(TaskerCore::Worker).inspect].join(" ")
        $LOAD_PATH.unshift(#{lib.inspect})
        require "tasker_core"
        puts TaskerCore::Errors::NetworkError.superclass
      RUBY
      out, status = Open3.capture2e(RbConfig.ruby, "-w", "-e", script)
      expect(status).to be_success, out
      lines = out.lines.map(&:strip)
      expect(lines.grep_v(/warning/)).to eq(["TaskerCore::PermanentError TaskerCore::PermanentError nil",
                                             "TaskerCore::RetryableError"])
      expect(lines.grep(/warning/).grep(%r{tasker_core/|already initialized})).to be_empty
    end
  end
end
