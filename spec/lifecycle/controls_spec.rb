# frozen_string_literal: true

# Fails until the spec flips the switch; lets a test make a task fail and then succeed.
class SpecSwitchableStep < TaskerCore::StepHandler
  @succeed = false
  class << self
    attr_accessor :succeed
  end

  def call(_task, sequence, step)
    raise TaskerCore::PermanentError.new("switched off", error_code: "OFF") unless self.class.succeed

    { "step" => step.name, "parents" => sequence.parents }
  end
end

# Never finishes on its own within a spec: used to hold a step in progress.
class SpecSlowStep < TaskerCore::StepHandler
  def call(_task, _sequence, _step)
    sleep 1.5
    "slow result"
  end
end

# cancel_task, retry_task and resolve_step against the real database, with their audit rows.
RSpec.describe "operator controls", db: true do
  def register(name, steps)
    TaskerCore.register_templates!([{ "namespace" => "ops", "name" => name, "version" => "1", "steps" => steps }])
  end

  def transitions(task_uuid)
    with_pg do |conn|
      conn.exec_params("SELECT from_state, to_state, reason, metadata::text FROM tasker.step_transitions
                         WHERE task_uuid = $1 ORDER BY id", [task_uuid]).to_a
    end
  end

  before do
    reset_tasker_database!
    SpecSwitchableStep.succeed = false
    start_orchestrator!
  end

  after { stop_orchestrator! }

  describe "cancel_task" do
    before do
      register("chain", [{ "name" => "first", "handler" => "SpecSlowStep" },
                         { "name" => "second", "handler" => "SpecSlowStep", "depends_on" => ["first"] }])
    end

    it "cancels queued steps and removes their messages" do
      task = TaskerCore.create_task(namespace: "ops", name: "chain")
      expect(queue_messages("ops_queue").size).to eq(1)
      expect(TaskerCore.cancel_task(task.uuid, actor: "alice", reason: "customer asked")).to eq("cancelled")
      status = TaskerCore.task_status(task.uuid)
      expect(status.state).to eq("cancelled")
      expect(status.steps.map(&:state)).to eq(%w[cancelled cancelled])
      expect(queue_messages("ops_queue")).to be_empty
      audit = transitions(task.uuid).select { |t| t["to_state"] == "cancelled" }
      expect(audit.size).to eq(2)
      expect(JSON.parse(audit.first["metadata"])).to include("actor" => "alice", "reason" => "customer asked")
    end

    it "ignores the result of a step that was running when the task was cancelled" do
      task = TaskerCore.create_task(namespace: "ops", name: "chain")
      with_worker(namespaces: %w[ops]) do
        wait_until(message: "first step running") do
          TaskerCore.task_status(task.uuid).step("first").state == "in_progress"
        end
        TaskerCore.cancel_task(task.uuid)
        ignored_before = TaskerCore::Orchestrator.status["results_ignored"]
        wait_until(timeout: 10, message: "late result ignored") do
          TaskerCore::Orchestrator.status["results_ignored"] > ignored_before
        end
      end
      status = TaskerCore.task_status(task.uuid)
      expect(status.state).to eq("cancelled")
      expect(status.step("first")).to have_attributes(state: "cancelled", results: nil)
      expect(status.step("second").attempts).to eq(0)
    end

    it "refuses to cancel a finished task" do
      register("one", [{ "name" => "only", "handler" => "SpecSwitchableStep" }])
      SpecSwitchableStep.succeed = true
      task = TaskerCore.create_task(namespace: "ops", name: "one")
      with_worker(namespaces: %w[ops]) { TaskerCore.wait_for_task(task.uuid, timeout: 10) }
      expect { TaskerCore.cancel_task(task.uuid) }
        .to raise_error(TaskerCore::ArgumentError, /is complete and cannot be cancelled/)
    end
  end

  describe "retry_task" do
    before do
      register("pair", [{ "name" => "flip", "handler" => "SpecSwitchableStep", "retry" => { "max_attempts" => 2 } },
                        { "name" => "after", "handler" => "SpecSwitchableStep", "depends_on" => ["flip"] }])
    end

    it "gives failed steps fresh attempts and finishes the task" do
      task = TaskerCore.create_task(namespace: "ops", name: "pair")
      with_worker(namespaces: %w[ops]) do
        expect(TaskerCore.wait_for_task(task.uuid, timeout: 10).state).to eq("error")
        SpecSwitchableStep.succeed = true
        expect(TaskerCore.retry_task(task.uuid, actor: "bob")).to eq("in_progress")
        status = TaskerCore.wait_for_task(task.uuid, timeout: 10)
        expect(status.state).to eq("complete")
        expect(status.step("flip")).to have_attributes(state: "complete", attempts: 1)
        expect(status.step("after").results).to eq("step" => "after", "parents" => { "flip" => { "step" => "flip",
                                                                                                 "parents" => {} } })
      end
      task_audit = with_pg do |conn|
        conn.exec_params("SELECT from_state, to_state FROM tasker.task_transitions WHERE task_uuid = $1 ORDER BY id",
                         [task.uuid]).map { |r| [r["from_state"], r["to_state"]] }
      end
      expect(task_audit).to eq([[nil, "pending"], %w[pending in_progress], %w[in_progress error],
                                %w[error in_progress], %w[in_progress complete]])
    end

    it "refuses a task that is not in error" do
      task = TaskerCore.create_task(namespace: "ops", name: "pair")
      expect { TaskerCore.retry_task(task.uuid) }
        .to raise_error(TaskerCore::ArgumentError, /only a task in error can be retried/)
    end
  end

  describe "resolve_step" do
    before do
      register("pair", [{ "name" => "flip", "handler" => "SpecSwitchableStep" },
                        { "name" => "after", "handler" => "SpecSwitchableStep", "depends_on" => ["flip"] }])
    end

    it "satisfies dependents with the given results" do
      task = TaskerCore.create_task(namespace: "ops", name: "pair")
      with_worker(namespaces: %w[ops]) do
        expect(TaskerCore.wait_for_task(task.uuid, timeout: 10).state).to eq("error")
        SpecSwitchableStep.succeed = true
        TaskerCore.resolve_step(task.uuid, "flip", results: { "fixed" => "by hand" }, actor: "carol")
        status = TaskerCore.wait_for_task(task.uuid, timeout: 10)
        expect(status.state).to eq("complete")
        expect(status.step("flip")).to have_attributes(state: "resolved_manually", results: { "fixed" => "by hand" })
        expect(status.step("after").results["parents"]).to eq("flip" => { "fixed" => "by hand" })
      end
      resolved = transitions(task.uuid).find { |t| t["to_state"] == "resolved_manually" }
      expect(resolved["from_state"]).to eq("error")
      expect(JSON.parse(resolved["metadata"])).to include("actor" => "carol")
    end

    it "names the missing step" do
      task = TaskerCore.create_task(namespace: "ops", name: "pair")
      expect { TaskerCore.resolve_step(task.uuid, "nope", results: {}) }
        .to raise_error(TaskerCore::NotFoundError, /has no step "nope"/)
    end
  end

  it "reports unknown task uuids clearly" do
    uuid = "01890000-0000-7000-8000-000000000000"
    expect { TaskerCore.cancel_task(uuid) }.to raise_error(TaskerCore::NotFoundError, /no task with uuid #{uuid}/)
    expect { TaskerCore.task_status(uuid) }.to raise_error(TaskerCore::NotFoundError)
    expect { TaskerCore.task_status("not-a-uuid") }.to raise_error(TaskerCore::ArgumentError, /not a task uuid/)
  end
end
