# frozen_string_literal: true

require_relative "support/faults"

RSpec.describe "fault: the orchestrator process killed with SIGKILL and started again", :fault do
  it "completes every task with no step enqueued twice" do
    with_fault_database do
      orchestrator = spawn_fault_process("orchestrator")
      2.times { spawn_fault_process("worker") }
      # Half the tasks, then the kill once some have finished, then the other half: the kill
      # lands mid-run however fast the machine is (no task finishes without an orchestrator).
      uuids = create_fault_tasks(100, "max_sleep" => 0.02)
      wait_for_some(uuids, 10, timeout: 60)
      kill9(orchestrator)
      finished_at_kill = count_finished(uuids)
      uuids += create_fault_tasks(100, "max_sleep" => 0.02)
      sleep 1.0
      spawn_fault_process("orchestrator")
      recovery = wait_for_all(uuids, timeout: 120)
      result = audit(uuids)

      FaultReport.record(name: "Orchestrator process killed (SIGKILL), restarted 1 s later",
                         how: "separate orchestrator process killed once 10 of the first 100 tasks were " \
                              "done (#{finished_at_kill} at the kill), 100 more created while it was " \
                              "down, 2 worker processes",
                         tasks: result[:tasks], completed: result[:completed],
                         duplicates: result[:double_completions] + result[:double_enqueues] + result[:reruns],
                         lost: result[:tasks] - result[:completed] + result[:wrong_results],
                         recovery: format("%.1f s after the kill", recovery + 1.0))
      expect(finished_at_kill).to be < 200 # the kill landed mid-run
      expect(result).to include(completed: 200, wrong_results: 0, double_completions: 0, double_enqueues: 0,
                                reruns: 0)
    end
  end
end
