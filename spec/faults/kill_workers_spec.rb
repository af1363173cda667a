# frozen_string_literal: true

require_relative "support/faults"

RSpec.describe "fault: workers killed with SIGKILL mid-handler", :fault do
  it "completes every task, records every result once, and re-runs only steps whose worker died" do
    with_fault_database do
      TaskerCore::Orchestrator.start
      workers = Array.new(3) { spawn_fault_process("worker") }
      uuids = create_fault_tasks(200, "max_sleep" => 0.1)
      killed = []
      8.times do
        sleep 0.6
        victim = workers.delete(workers.sample)
        kill9(victim)
        killed << victim
        workers << spawn_fault_process("worker")
      end
      recovery = wait_for_all(uuids, timeout: 120)
      result = audit(uuids, killed_pids: killed)

      FaultReport.record(name: "Worker processes killed (SIGKILL) mid-handler",
                         how: "3 worker processes; 8 kills 0.6 s apart, each replaced; #{result[:reruns]} " \
                              "handler re-runs, all of steps whose worker was killed",
                         tasks: result[:tasks], completed: result[:completed],
                         duplicates: result.values_at(:double_completions, :double_enqueues, :unexplained_reruns).sum,
                         lost: result[:tasks] - result[:completed] + result[:wrong_results],
                         recovery: format("%.1f s after the last kill", recovery))
      expect(result).to include(completed: 200, wrong_results: 0, double_completions: 0, double_enqueues: 0,
                                unexplained_reruns: 0, steps_without_effect: 0)
      expect(result[:reruns]).to be_positive # the kills did land inside handlers
    end
  end
end
