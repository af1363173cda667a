# frozen_string_literal: true

require_relative "support/faults"

# A step whose handler kills the worker process every time: its message comes back after each
# visibility timeout until the attempts run out; then it is archived and the step fails with an
# error that says so, while the other tasks keep flowing.
RSpec.describe "fault: a poison message", :fault do
  it "is archived and its step fails with a clear error; the queue keeps flowing" do
    with_fault_database do
      TaskerCore.register_templates!([{ "namespace" => "faults", "name" => "poison", "version" => "1",
                                        "steps" => [{ "name" => "crash", "handler" => "FaultWorkflow::KillsItsWorker",
                                                      "timeout_seconds" => 1, "retry" => { "max_attempts" => 2 } }] }])
      TaskerCore::Orchestrator.start
      workers = Array.new(2) { spawn_fault_process("worker") }
      poison = TaskerCore.create_task(namespace: "faults", name: "poison", version: "1").uuid
      uuids = create_fault_tasks(50, "max_sleep" => 0.01)
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      deaths = 0
      until TaskerCore.task_status(poison).finished?
        raise "poison step never failed" if Process.clock_gettime(Process::CLOCK_MONOTONIC) - started > 60

        workers.each_with_index do |pid, i|
          next if fault_process_alive?(pid)

          deaths += 1
          workers[i] = spawn_fault_process("worker")
        end
        sleep 0.1
      end
      status = TaskerCore.task_status(poison)
      wait_for_all(uuids, timeout: 60)
      result = audit(uuids)
      archived = fault_sql("SELECT message::text FROM pgmq.a_faults_queue").map { |r| JSON.parse(r["message"]) }
      seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started

      FaultReport.record(name: "Poison message (its handler kills the worker each time)",
                         how: "max_attempts 2, timeout 1 s; #{deaths} worker deaths; " \
                              "archived in pgmq.a_faults_queue; 50 other tasks ran meanwhile",
                         tasks: 51, completed: result[:completed], duplicates: result[:double_completions],
                         lost: result[:tasks] - result[:completed] + result[:wrong_results],
                         recovery: "step failed after #{format("%.1f", seconds)} s")
      crash = status.step("crash")
      expect(status.state).to eq("error")
      expect(crash.state).to eq("error")
      expect(crash.last_error["class"]).to eq("TaskerCore::AttemptsExhausted")
      expect(crash.last_error["message"]).to match(/delivered \d+ times/)
      expect(archived.map { |m| m["step_uuid"] }).to include(crash["step_uuid"])
      expect(result).to include(completed: 50, wrong_results: 0, double_completions: 0)
    end
  end
end
