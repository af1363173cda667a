# frozen_string_literal: true

require "spec_helper"

RSpec.describe TaskerCore::Types do
  let(:task_uuid) { "0190b3a0-1111-7000-8000-000000000001" }
  let(:step_uuid) { "0190b3a0-2222-7000-8000-000000000002" }
  let(:message) do
    { "task_uuid" => task_uuid, "step_uuid" => step_uuid, "namespace" => "fulfillment",
      "task_name" => "process_order", "task_version" => "1.0.0", "step_name" => "validate",
      "handler" => "Fulfillment::Validate", "attempt" => 1, "timeout_seconds" => 30,
      "enqueued_at" => "2026-11-26T20:00:00Z" }
  end

  describe TaskerCore::Types::StepMessage do
    it "reads a step message with string keys and ignores keys it does not know" do
      msg = described_class.new(message.merge("future_field" => 1))
      expect(msg.step_uuid).to eq(step_uuid)
      expect(msg.attempt).to eq(1)
      expect(msg.task_version).to eq("1.0.0")
      expect(msg.to_h).not_to have_key("future_field")
    end

    it "lets optional keys be absent" do
      msg = described_class.new(message.except("task_version", "timeout_seconds", "enqueued_at"))
      expect(msg.timeout_seconds).to be_nil
    end

    it "refuses a missing key, a bad uuid, a string attempt and a non-Hash" do
      expect { described_class.new(message.except("step_uuid")) }
        .to raise_error(TaskerCore::Types::InvalidError, /StepMessage.*step_uuid is missing/)
      expect { described_class.new(message.merge("task_uuid" => "42")) }
        .to raise_error(TaskerCore::Types::InvalidError, /task_uuid/)
      expect { described_class.new(message.merge("attempt" => "1")) }
        .to raise_error(TaskerCore::Types::InvalidError, /attempt/)
      expect { described_class.new(message.merge("attempt" => 0)) }
        .to raise_error(TaskerCore::Types::InvalidError, /attempt/)
      expect { described_class.new("junk") }.to raise_error(TaskerCore::Types::InvalidError, /expects a Hash/)
    end

    it "is a TaskerCore::Error" do
      expect(TaskerCore::Types::InvalidError.ancestors).to include(TaskerCore::Error)
    end
  end

  describe TaskerCore::Types::ExecutionContext do
    let(:claim) do
      { "status" => "claimed", "attempt" => 2,
        "task" => { "uuid" => task_uuid, "namespace" => "fulfillment", "name" => "process_order",
                    "version" => "1.0.0", "context" => { "order_id" => 7 }, "initiator" => nil,
                    "source_system" => "shop", "reason" => nil, "tags" => %w[vip] },
        "step" => { "uuid" => step_uuid, "name" => "ship", "handler" => "Fulfillment::Ship",
                    "config" => { "carrier" => "ups" }, "attempt" => 2, "max_attempts" => 3,
                    "timeout_seconds" => 30, "depends_on" => %w[pack validate] },
        "ancestors" => { "validate" => true, "pack" => { "boxes" => 2 }, "fetch" => [1] } }
    end

    it "builds the task and step objects a handler receives" do
      context = described_class.new(claim)
      expect(context.task).to be_a(TaskerCore::Types::Task)
      expect(context.task.context).to eq("order_id" => 7)
      expect(context.task.tags).to eq(%w[vip])
      expect(context.task.initiator).to be_nil
      expect(context.step.config).to eq("carrier" => "ups")
      expect(context.step.depends_on).to eq(%w[pack validate])
      expect(context.step).not_to be_first_attempt
      expect(context.step).not_to be_last_attempt
    end

    it "gives a Sequence over every ancestor, parents in depends_on order" do
      sequence = described_class.new(claim).sequence
      expect(sequence.get("fetch")).to eq([1])
      expect(sequence.parents.keys).to eq(%w[pack validate])
    end

    it "names the nested field that is wrong" do
      claim["step"].delete("max_attempts")
      expect { described_class.new(claim) }.to raise_error(TaskerCore::Types::InvalidError, /max_attempts/)
    end

    it "defaults tags to an empty list" do
      claim["task"].delete("tags")
      expect(described_class.new(claim).task.tags).to eq([])
    end
  end

  describe TaskerCore::Types::StepResult do
    let(:metadata) do
      { "worker_id" => "w1", "hostname" => "box", "pid" => 12, "queue" => "fulfillment_queue",
        "msg_id" => 5, "read_ct" => 1 }
    end
    let(:base) do
      { task_uuid: task_uuid, step_uuid: step_uuid, attempt: 1, metadata: metadata, duration_ms: 3 }
    end

    it "serializes a success to exactly the orchestrator's shape" do
      result = described_class.new(base.merge(status: "success", result: { "n" => 2**70 }, error: nil))
      expect(JSON.parse(result.to_json)).to eq(
        "task_uuid" => task_uuid, "step_uuid" => step_uuid, "attempt" => 1, "status" => "success",
        "result" => { "n" => 2**70 }, "error" => nil, "metadata" => metadata, "duration_ms" => 3
      )
    end

    it "serializes a failure with every error field" do
      error = { "class" => "Boom", "message" => "no", "retryable" => true, "retry_after" => 5,
                "error_code" => "E1", "backtrace" => ["a.rb:1"] }
      result = described_class.new(base.merge(status: "failure", result: nil, error: error))
      expect(result.error[:class]).to eq("Boom")
      expect(result.error.error_class).to eq("Boom")
      expect(JSON.parse(result.to_json)["error"]).to eq(error)
      expect(result).to be_failure
    end

    it "refuses a failure without an error, a success with one, and an unknown status" do
      expect { described_class.new(base.merge(status: "failure", result: nil, error: nil)) }
        .to raise_error(TaskerCore::Types::InvalidError, /must carry an error/)
      error = { "class" => "X", "message" => "m", "retryable" => false }
      expect { described_class.new(base.merge(status: "success", result: 1, error: error)) }
        .to raise_error(TaskerCore::Types::InvalidError, /must not carry an error/)
      expect { described_class.new(base.merge(status: "done", result: 1, error: nil)) }
        .to raise_error(TaskerCore::Types::InvalidError, /status/)
    end

    it "compares by value" do
      a = described_class.new(base.merge(status: "success", result: 1, error: nil))
      b = described_class.new(a.to_h)
      expect(a).to eq(b)
      expect(a.hash).to eq(b.hash)
    end
  end
end
