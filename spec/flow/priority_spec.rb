# frozen_string_literal: true

# Records the order in which tasks' steps ran (by the context's label).
class SpecPriorityStep < TaskerCore::StepHandler
  @ran = Queue.new
  class << self
    attr_reader :ran
  end

  def call(task, _sequence, _step)
    self.class.ran << task.context["label"]
    { "label" => task.context["label"] }
  end
end

# priority: under a backlog, steps of higher-priority tasks are claimed first; equal
# priorities in creation order.
RSpec.describe "priority", db: true do
  before do
    reset_tasker_database!
    SpecPriorityStep.ran.clear
    TaskerCore.register_templates!([{ "namespace" => "prio", "name" => "one", "version" => "1",
                                      "steps" => [{ "name" => "only", "handler" => "SpecPriorityStep" }] }])
    start_orchestrator!
  end

  after { stop_orchestrator! }

  it "claims a backlog highest priority first, equal priorities first come first served" do
    backlog = [["a", 0], ["b", 5], ["c", 1], ["d", 5], ["e", -2], ["f", 0], ["g", 1]]
    tasks = backlog.map do |label, priority|
      TaskerCore.create_task(namespace: "prio", name: "one", context: { "label" => label }, priority: priority)
    end
    expect(queue_messages("prio_queue").map { |m| m["message"]["priority"] }).to eq([0, 5, 1, 5, -2, 0, 1])

    with_worker(namespaces: ["prio"], concurrency: 1) do
      tasks.each { |task| expect(TaskerCore.wait_for_task(task.uuid, timeout: 20).state).to eq("complete") }
    end
    ran = Array.new(backlog.size) { SpecPriorityStep.ran.pop }
    expect(ran).to eq(%w[b d c g a f e])
  end
end
