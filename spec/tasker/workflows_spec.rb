# frozen_string_literal: true

require "spec_helper"
require_relative "support"
require_relative "../../examples/tasker_demo"

# The examples in examples/tasker: the Tasker format's squaring workflows.
RSpec.describe "Tasker-format workflows run as written" do
  before(:all) do
    TaskerTestDatabase.prepare!
    TaskerDemo.load_handlers
    start_orchestrator!
  end

  after(:all) { stop_orchestrator! }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!(TaskerDemo.template_paths)
  end

  def run_task(name, context = {})
    task = TaskerCore.create_task(namespace: "tasker_squares", name: name, context: context)
    TaskerCore.wait_for_task(task.uuid, timeout: 30)
  end

  {
    "square_linear" => ["sixth", { "first" => 4, "second" => 16, "third" => 256, "fourth" => 65_536,
                                   "fifth" => 2**32, "sixth" => 2**64 }],
    "square_diamond" => ["finish", { "start" => 256, "left" => 65_536, "right" => 65_536, "finish" => 2**64 }],
    "square_tree" => ["finish", { "root" => 4, "branch_a" => 16, "branch_b" => 16, "leaf_a1" => 256,
                                  "leaf_a2" => 256, "leaf_b1" => 256, "leaf_b2" => 256, "finish" => 2**64 }]
  }.each do |name, (last, expected)|
    it "#{name} squares its input up to 2**64, exactly, with the handlers' metadata beside the results" do
      with_worker(namespaces: ["tasker_squares"]) do
        status = run_task(name)
        expect(status.state).to eq("complete"), -> { status.to_h.inspect }
        expect(status.steps.to_h { |step| [step.name, step.results] }).to eq(expected)
        expect(status.step(last).results).to be_a(Integer)
        steps = status.to_h["steps"]
        expect(steps.first["result_metadata"]).to eq("operation" => "square", "input" => status.context["even_number"])
        expect(steps.last["result_metadata"]).to eq("parents" => steps.last["depends_on"].size)
      end
    end
  end

  it "reads version 1.0.0 when the template has none and merges default_context under the context" do
    registered = TaskerCore.templates.to_h { |t| [t["name"], t] }
    expect(registered["square_diamond"]["version"]).to eq("1.0.0")
    expect(registered["square_linear"]["template"]["tasker"]).to include(
      "module_namespace" => "TaskerExamples", "task_handler_class" => "SquareLinearTask",
      "default_dependent_system" => "math", "named_steps" => %w[first second third fourth fifth sixth]
    )
    with_worker(namespaces: ["tasker_squares"]) do
      status = run_task("square_linear", { "even_number" => 4, "note" => "mine" })
      expect(status.context).to eq("even_number" => 4, "note" => "mine")
      expect(status.step("first").results).to eq(16)
      defaulted = run_task("square_diamond", { "note" => "x" })
      expect(defaulted.context).to eq("even_number" => 16, "note" => "x")
    end
  end
end
