# frozen_string_literal: true

require "spec_helper"

RSpec.describe TaskerCore::Worker::ResultBuilder do
  subject(:builder) { described_class.new(worker_id: "host-1-abcd", hostname: "host", pid: 1) }

  let(:job) { TaskerCore::Worker::Job.new(queue: "fulfillment_queue", msg_id: 42, read_ct: 2, payload: "{}") }
  let(:message) do
    TaskerCore::Types::StepMessage.new(
      "task_uuid" => "0190b3a0-1111-7000-8000-000000000001", "step_uuid" => "0190b3a0-2222-7000-8000-000000000002",
      "namespace" => "fulfillment", "task_name" => "process_order", "step_name" => "ship",
      "handler" => "Ship", "attempt" => 2
    )
  end

  def raised(error)
    raise error
  rescue Exception => e # rubocop:disable Lint/RescueException
    e
  end

  it "builds a success message with the worker's metadata" do
    result = builder.success(job, message, attempt: 2, result: { "ok" => true }, duration_ms: 12.6)
    expect(JSON.parse(described_class.dump(result))).to eq(
      "task_uuid" => message.task_uuid, "step_uuid" => message.step_uuid, "attempt" => 2,
      "status" => "success", "result" => { "ok" => true }, "error" => nil, "duration_ms" => 12.6,
      "metadata" => { "worker_id" => "host-1-abcd", "hostname" => "host", "pid" => 1,
                      "queue" => "fulfillment_queue", "msg_id" => 42, "read_ct" => 2 }
    )
  end

  it "keeps big integers exact in the JSON text" do
    result = builder.success(job, message, attempt: 1, result: 2**64, duration_ms: 0)
    expect(described_class.dump(result)).to include('"result":18446744073709551616')
  end

  describe ".error_for" do
    it "makes a RetryableError retryable with its retry_after and error_code" do
      error = described_class.error_for(raised(TaskerCore::RetryableError.new("slow down", retry_after: 30,
                                                                                           error_code: "RATE")))
      expect(error).to include("class" => "TaskerCore::RetryableError", "message" => "slow down",
                               "retryable" => true, "retry_after" => 30, "error_code" => "RATE")
      expect(error["backtrace"]).not_to be_empty
    end

    it "makes a PermanentError final with its error_code" do
      error = described_class.error_for(raised(TaskerCore::PermanentError.new("declined", error_code: :CARD)))
      expect(error).to include("retryable" => false, "error_code" => "CARD", "retry_after" => nil)
    end

    it "retries any other StandardError but not errors in the handler's own code" do
      expect(described_class.error_for(raised(KeyError.new("k")))).to include("class" => "KeyError",
                                                                              "retryable" => true)
      expect(described_class.error_for(raised(NotImplementedError.new("todo")))["retryable"]).to be(false)
    end

    it "keeps at most 20 backtrace lines and survives odd messages" do
      error = RuntimeError.new("bad \xFF bytes".dup.force_encoding("UTF-8"))
      error.set_backtrace(Array.new(50) { |i| "file.rb:#{i}" })
      built = described_class.error_for(error)
      expect(built["backtrace"].size).to eq(20)
      expect(built["message"]).to eq("bad ? bytes")
      expect { JSON.generate(built) }.not_to raise_error
    end

    it "ignores a retry_after that is not a usable number" do
      error = TaskerCore::RetryableError.new("x", retry_after: "soon")
      expect(described_class.error_for(error)["retry_after"]).to be_nil
    end
  end

  it "escapes NUL characters in an error's message, error_code and backtrace" do
    error = described_class.error("RuntimeError", "bad\u0000news", retryable: true, error_code: "E\u0000",
                                                                   backtrace: ["a.rb:1:in `x\u0000'"])
    expect(error).to include("message" => "bad\\u0000news", "error_code" => "E\\u0000",
                             "backtrace" => ["a.rb:1:in `x\\u0000'"])
  end

  it "makes the message of a result exactly as deep as JsonValue allows" do
    deep = TaskerCore::Worker::JsonValue::MAX_DEPTH.times.reduce(1) { |inner, _| [inner] }
    value = TaskerCore::Worker::JsonValue.normalize(deep)
    result = builder.success(job, message, attempt: 1, result: value, duration_ms: 0)
    expect(JSON.parse(described_class.dump(result), max_nesting: false)["result"]).to eq(deep)
    expect { TaskerCore::Worker::JsonValue.normalize([deep]) }.to raise_error(TaskerCore::Worker::JsonValue::NotJson)
  end

  it "reads a claim whose ancestors' results are as deep as allowed" do
    deep = TaskerCore::Worker::JsonValue::MAX_DEPTH.times.reduce(1) { |inner, _| [inner] }
    text = JSON.generate({ "ancestors" => { "a" => deep } }, max_nesting: false)
    claim = TaskerCore::Worker::QueueClient.parse_claim(text)
    expect(claim["ancestors"]["a"]).to eq(deep)
  end
end
