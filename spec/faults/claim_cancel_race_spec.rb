# frozen_string_literal: true

require_relative "../faults/support/fault_report"

# A worker's claim locks the step message, then the step. cancel_task and resolve_step lock the
# task, then its steps, then delete the step's queued messages. When they meet in the middle,
# waiting for the message would be a deadlock (PostgreSQL breaks it after deadlock_timeout, and
# one side fails): the controls skip a message a claim holds, and the claim finds the step moved
# on. The race is made deterministic with a third session that holds the step's lock until both
# sides queue behind it, the control first.
RSpec.describe "a claim racing cancel_task or resolve_step", db: true do
  let(:queue) { "race_queue" }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "race", "name" => "one", "version" => "1",
                                      "steps" => [{ "name" => "only", "handler" => "Race::Only" }] }])
  end

  def waiting_on_locks
    with_pg do |conn|
      Integer(conn.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' " \
                        "AND datname = current_database()").getvalue(0, 0))
    end
  end

  def only_step_uuid(task)
    with_pg do |conn|
      conn.exec_params("SELECT step_uuid FROM tasker.workflow_steps WHERE task_uuid = $1", [task.uuid]).getvalue(0, 0)
    end
  end

  # Runs the control in one thread and a worker's claim in another, both stuck behind a lock on
  # the step until the control is queued first; returns [control's outcome, claim's answer].
  def race(task, &control)
    step = only_step_uuid(task)
    holder = PG.connect(TaskerTestDatabase.url)
    claimer = PG.connect(TaskerTestDatabase.url)
    holder.exec("BEGIN")
    holder.exec_params("SELECT 1 FROM tasker.workflow_steps WHERE step_uuid = $1 FOR UPDATE", [step])
    control_thread = Thread.new do
      control.call
    rescue StandardError => e
      e
    end
    wait_until(message: "the control waiting for the step") { waiting_on_locks == 1 }
    claim_thread = Thread.new do
      row = claimer.exec_params(TaskerCore::Worker::QueueClient.claim_sql(queue), [30, 1, 25]).first
      JSON.parse(row.fetch("claim"))
    rescue StandardError => e
      e
    end
    wait_until(message: "the claim waiting for the step") { waiting_on_locks == 2 }
    holder.exec("ROLLBACK")
    [control_thread.value, claim_thread.value]
  ensure
    holder&.close
    claimer&.close
  end

  it "cancels the task; the claim gets a stale answer, and nothing deadlocks" do
    task = TaskerCore.create_task(namespace: "race", name: "one", version: "1")
    cancelled, claim = race(task) { TaskerCore.cancel_task(task.uuid) }
    expect(cancelled).not_to be_a(Exception)
    expect(claim).to include("status" => "stale", "task_state" => "cancelled")
    status = TaskerCore.task_status(task.uuid)
    expect(status.state).to eq("cancelled")
    expect(status.step("only").state).to eq("cancelled")
    FaultReport.record(name: "Worker claim racing cancel_task",
                       how: "cancel queued first on the step lock, the claim holding the message: no deadlock, " \
                            "the claim answers stale",
                       tasks: 1, completed: 0, duplicates: 0, lost: 0)
  end

  it "resolves the step; the claim gets a stale answer, and nothing deadlocks" do
    task = TaskerCore.create_task(namespace: "race", name: "one", version: "1")
    resolved, claim = race(task) { TaskerCore.resolve_step(task.uuid, "only", results: { "by" => "hand" }) }
    expect(resolved).not_to be_a(Exception)
    expect(claim).to include("status" => "stale", "state" => "resolved_manually")
    status = TaskerCore.task_status(task.uuid)
    expect(status.state).to eq("complete")
    expect(status.step("only").results).to eq("by" => "hand")
    FaultReport.record(name: "Worker claim racing resolve_step",
                       how: "resolve queued first on the step lock, the claim holding the message: no deadlock, " \
                            "the claim answers stale",
                       tasks: 1, completed: 1, duplicates: 0, lost: 0)
  end
end
