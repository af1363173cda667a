# frozen_string_literal: true

# Lets a spec hold a step in progress until it says go.
class SpecGatedStep < TaskerCore::StepHandler
  @gate = Queue.new
  class << self
    attr_reader :gate
  end

  def call(_task, _sequence, step)
    self.class.gate.pop if step.name == "gated"
    { "step" => step.name }
  end
end

# TaskerCore.pause / resume / paused?: stored in the database, every worker stops claiming the
# namespace's steps, running steps finish, resume wakes the workers.
RSpec.describe "pause and resume a namespace", db: true do
  def register(namespace, steps)
    TaskerCore.register_templates!([{ "namespace" => namespace, "name" => "flow", "version" => "1",
                                      "steps" => steps }])
  end

  def step_states(task)
    TaskerCore.task_status(task.uuid).steps.to_h { |step| [step.name, step.state] }
  end

  before do
    reset_tasker_database!
    SpecGatedStep.gate.clear
    register("paused_ns", [{ "name" => "gated", "handler" => "SpecGatedStep" },
                           { "name" => "after", "handler" => "SpecGatedStep", "depends_on" => ["gated"] }])
    register("other_ns", [{ "name" => "only", "handler" => "SpecGatedStep" }])
    start_orchestrator!
  end

  after { stop_orchestrator! }

  it "lets running steps finish, claims nothing of the namespace while paused, and resumes" do
    with_worker(namespaces: %w[paused_ns other_ns], concurrency: 2) do
      task = TaskerCore.create_task(namespace: "paused_ns", name: "flow")
      wait_until(message: "gated step running") { step_states(task)["gated"] == "in_progress" }

      expect(TaskerCore.pause("paused_ns", actor: "alice", reason: "maintenance")).to be(true)
      expect(TaskerCore.pause("paused_ns")).to be(false)
      expect(TaskerCore.paused?("paused_ns")).to be(true)
      expect(TaskerCore.paused?("other_ns")).to be(false)

      SpecGatedStep.gate << :go
      wait_until(message: "running step finished") { step_states(task)["gated"] == "complete" }
      wait_until(message: "next step enqueued") { step_states(task)["after"] == "enqueued" }

      # The other namespace's task is created after the paused one's step was enqueued and runs
      # to the end: the worker read both queues since, and claimed nothing of the paused one.
      other = TaskerCore.create_task(namespace: "other_ns", name: "flow")
      expect(TaskerCore.wait_for_task(other.uuid, timeout: 10).state).to eq("complete")
      expect(step_states(task)["after"]).to eq("enqueued")
      expect(queue_messages("paused_ns_queue").map { |m| m["read_ct"].to_i }).to eq([0])

      expect(TaskerCore.resume("paused_ns", actor: "bob")).to be(true)
      expect(TaskerCore.resume("paused_ns")).to be(false)
      expect(TaskerCore.wait_for_task(task.uuid, timeout: 10).state).to eq("complete")
    end
    history = with_pg do |conn|
      conn.exec("SELECT namespace, action, actor, reason FROM tasker.namespace_controls ORDER BY id").to_a
    end
    expect(history).to eq([
                            { "namespace" => "paused_ns", "action" => "pause", "actor" => "alice",
                              "reason" => "maintenance" },
                            { "namespace" => "paused_ns", "action" => "resume", "actor" => "bob", "reason" => nil }
                          ])
  end

  it "is stored in the database: a worker started later claims nothing while paused" do
    TaskerCore.pause("paused_ns", actor: "alice")
    expect(TaskerCore.paused_namespaces.map { |row| row.slice("namespace", "paused_by") })
      .to eq([{ "namespace" => "paused_ns", "paused_by" => "alice" }])
    SpecGatedStep.gate << :go
    task = TaskerCore.create_task(namespace: "paused_ns", name: "flow")
    with_worker(namespaces: %w[paused_ns other_ns]) do
      other = TaskerCore.create_task(namespace: "other_ns", name: "flow")
      expect(TaskerCore.wait_for_task(other.uuid, timeout: 10).state).to eq("complete")
      expect(step_states(task)["gated"]).to eq("enqueued")
      TaskerCore.resume("paused_ns")
      expect(TaskerCore.wait_for_task(task.uuid, timeout: 10).state).to eq("complete")
    end
    expect(TaskerCore.paused_namespaces).to eq([])
  end

  it "refuses a namespace that is not a valid name" do
    expect { TaskerCore.pause("Bad Name") }.to raise_error(TaskerCore::ArgumentError, /invalid namespace "Bad Name"/)
    expect { TaskerCore.resume(nil) }.to raise_error(TaskerCore::ArgumentError, /invalid namespace ""/)
  end
end
