# frozen_string_literal: true

require "spec_helper"
require_relative "../web/web_helper"

module BigIntegerSpecHandlers
  # Returns the context's big integers and one larger still, with big metadata.
  class Grow < TaskerCore::StepHandler::Base
    def call(task, _sequence, _step)
      values = task.context.values_at("two", "four", "ten")
      TaskerCore::Types::StepHandlerCallResult.success(result: { "values" => values, "next" => values.last * 10 },
                                                       metadata: { "max" => values.max })
    end
  end

  class NeedsAHuman < TaskerCore::StepHandler::Base
    def call(*)
      raise TaskerCore::Errors::PermanentError, "resolve me by hand"
    end
  end

  # Adds what the sequence hands it from both parents.
  class Sum < TaskerCore::StepHandler::Base
    def call(_task, sequence, _step)
      sequence.get_result("manual",
                          "r") + sequence.get_result("grow", "next") + sequence.get_results("grow")["values"].sum
    end
  end
end

RSpec.describe "Integers of any size, end to end", db: true do
  include Rack::Test::Methods

  let(:app) { WebSpec.mounted(TaskerCore::Web.new(actions: false)) }
  let(:context) { { "two" => 2**64, "four" => 4**64, "ten" => 10**30 } }

  before(:all) { start_orchestrator! }
  after(:all) { stop_orchestrator! }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{
                                     "name" => "big", "namespace_name" => "big_numbers",
                                     "step_templates" => [
                                       { "name" => "grow", "handler_class" => "BigIntegerSpecHandlers::Grow" },
                                       { "name" => "manual", "handler_class" => "BigIntegerSpecHandlers::NeedsAHuman" },
                                       { "name" => "sum", "handler_class" => "BigIntegerSpecHandlers::Sum",
                                         "depends_on_steps" => %w[grow manual] }
                                     ]
                                   }])
  end

  def exact(value, expected)
    expect(value).to eq(expected)
    expect(value).to be_a(Integer)
  end

  it "keeps 2**64, 4**64 and 10**30 exact in the context, results, metadata, resolve_step, sequence and JSON" do
    with_worker(namespaces: ["big_numbers"]) do
      task = TaskerCore.create_task(namespace: "big_numbers", name: "big", context: context)
      status = TaskerCore.wait_for_task(task.uuid, timeout: 30)
      expect(status.state).to eq("error")
      expect(status.context).to eq(context)
      context.each_value { |value| expect(status.context.values).to include(value) }
      grow = status.to_h["steps"].find { |step| step["name"] == "grow" }
      expect(grow["results"]).to eq("values" => [2**64, 4**64, 10**30], "next" => 10**31)
      exact(grow["results"]["next"], 10**31)
      exact(grow["result_metadata"]["max"], 4**64)

      TaskerCore.resolve_step(task.uuid, "manual", results: { "r" => 10**30 })
      done = TaskerCore.wait_for_task(task.uuid, timeout: 30)
      expect(done.state).to eq("complete"), -> { done.to_h.inspect }
      exact(done.step("manual").results["r"], 10**30)
      exact(done.step("sum").results, (10**30) + (10**31) + (2**64) + (4**64) + (10**30))

      get "/tasker/api/tasks/#{task.uuid}"
      expect(last_response.status).to eq(200)
      api = JSON.parse(last_response.body)
      api = api["task"] if api.key?("task")
      expect(api["context"]).to eq(context)
      steps = api["steps"].to_h { |step| [step["name"], step] }
      exact(steps["sum"]["results"], done.step("sum").results)
      exact(steps["grow"]["result_metadata"]["max"], 4**64)
      expect(last_response.body).to include("340282366920938463463374607431768211456") # 4**64

      get "/tasker/tasks/#{task.uuid}"
      expect(last_response.body).to include("Result metadata", "340282366920938463463374607431768211456")
    end
  end
end
