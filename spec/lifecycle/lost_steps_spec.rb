# frozen_string_literal: true

# Echoes its step's config: the handler of the lost-step specs.
class LostStepsEcho < TaskerCore::StepHandler
  def call(_task, _sequence, step)
    { "attempt" => step.attempt }
  end
end

# The recovery sweep: a step whose message is gone (no message in its queue, no result on the
# results queue) past its timeout and claim_grace_seconds is sent again (or failed when its
# attempts are used up). The move back to enqueued goes through the step writer like every
# other move, so the state machine must allow it from each state a lost step can be in.
RSpec.describe "recovery of steps whose message was lost", db: true do
  let(:queue) { "lost_queue" }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "lost", "name" => "one", "version" => "1",
                                      "steps" => [{ "name" => "only", "handler" => "LostStepsEcho",
                                                    "timeout_seconds" => 1 }] }])
    config = TaskerCore.configuration
    @saved = [config.sweep_interval, config.claim_grace_seconds]
    config.sweep_interval = 0.2
    config.claim_grace_seconds = 0
  end

  after do
    stop_orchestrator!
    TaskerCore.configuration.sweep_interval, TaskerCore.configuration.claim_grace_seconds = @saved
  end

  def lose_messages
    with_pg { |conn| conn.exec("DELETE FROM pgmq.q_#{queue}") }
  end

  def transitions(task)
    with_pg do |conn|
      conn.exec_params("SELECT from_state, to_state, reason FROM tasker.step_transitions " \
                       "WHERE task_uuid = $1 ORDER BY id", [task.uuid]).to_a
    end
  end

  it "sends again the message of an enqueued step, and the step runs" do
    task = TaskerCore.create_task(namespace: "lost", name: "one", version: "1")
    lose_messages
    start_orchestrator!
    with_worker(namespaces: %w[lost]) do
      status = TaskerCore.wait_for_task(task.uuid, timeout: 20)
      expect(status.state).to eq("complete")
      expect(status.step("only").results).to eq("attempt" => 1)
    end
    expect(transitions(task)).to include("from_state" => "enqueued", "to_state" => "enqueued",
                                         "reason" => "message lost; re-enqueued")
  end

  it "sends again the message of a claimed step whose message vanished, as its next attempt" do
    task = TaskerCore.create_task(namespace: "lost", name: "one", version: "1")
    with_pg do |conn|
      claim = conn.exec_params(TaskerCore::Worker::QueueClient.claim_sql(queue), [30, 1, 25]).first
      expect(JSON.parse(claim["claim"])).to include("status" => "claimed")
    end
    lose_messages
    start_orchestrator!
    with_worker(namespaces: %w[lost]) do
      status = TaskerCore.wait_for_task(task.uuid, timeout: 20)
      expect(status.state).to eq("complete")
      expect(status.step("only").results).to eq("attempt" => 2)
    end
    expect(transitions(task)).to include("from_state" => "in_progress", "to_state" => "enqueued",
                                         "reason" => "message lost; re-enqueued")
  end
end
