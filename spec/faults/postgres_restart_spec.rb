# frozen_string_literal: true

require_relative "support/faults"

RSpec.describe "fault: PostgreSQL restarted mid-run", :fault do
  {
    "fast" => "PostgreSQL restarted (pg_ctl restart -m fast) mid-run",
    "immediate" => "PostgreSQL crashed and restarted (pg_ctl restart -m immediate: WAL recovery) mid-run"
  }.each do |mode, title|
    it "reconnects orchestrator and workers with backoff and completes every task (#{mode})" do
      restart_mid_run(mode, title)
    end
  end

  def restart_mid_run(mode, title)
    with_fault_database do
      TaskerCore::Orchestrator.start
      2.times { spawn_fault_process("worker") }
      uuids = create_fault_tasks(200, "max_sleep" => 0.05)
      sleep 1.0
      finished_before = count_finished(uuids)
      FaultCluster.restart!(mode: mode)
      recovery = wait_for_all(uuids, timeout: 120)
      result = audit(uuids)
      status = TaskerCore::Orchestrator.status

      record_restart(title, finished_before, status, result, recovery)
      expect(finished_before).to be < 200
      expect(result).to include(completed: 200, wrong_results: 0, double_completions: 0, double_enqueues: 0)
      expect(status).to include("disconnects" => be_positive, "last_error" => a_kind_of(String), "connected" => true)
    end
  end

  def record_restart(title, finished_before, status, result, recovery)
    FaultReport.record(name: title,
                       how: "in-process orchestrator, 2 worker processes; restart 1 s in " \
                            "(#{finished_before} of 200 done); orchestrator saw #{status["disconnects"]} " \
                            "disconnects; #{result[:reruns]} handler re-runs of steps whose result was cut off",
                       tasks: result[:tasks], completed: result[:completed],
                       duplicates: result[:double_completions] + result[:double_enqueues],
                       lost: result[:tasks] - result[:completed] + result[:wrong_results],
                       recovery: format("%.1f s after the restart", recovery))
  end
end
