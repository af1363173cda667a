# frozen_string_literal: true

require_relative "support/faults"

RSpec.describe "fault: duplicate and late result messages", :fault do
  def send_result(step_uuid, attempt, value)
    fault_sql("SELECT pgmq.send('tasker_step_results', $1::jsonb)",
              [JSON.generate("task_uuid" => nil, "step_uuid" => step_uuid, "attempt" => attempt,
                             "status" => "success", "result" => value, "error" => nil,
                             "metadata" => { "forged" => true }, "duration_ms" => 1.0)])
  end

  def step_row(uuid, name)
    fault_sql("SELECT step_uuid, attempts, results::text FROM tasker.workflow_steps WHERE task_uuid = $1 AND name = $2",
              [uuid, name]).first
  end

  it "changes nothing" do
    with_fault_database do
      TaskerCore::Orchestrator.start
      spawn_fault_process("worker")
      # step a fails its first attempt, so attempt 1's result is a late one once attempt 2 won
      uuids = create_fault_tasks(10, "fail_message" => "first attempt fails")
      wait_for_all(uuids, timeout: 60)
      before = TaskerCore::Orchestrator.status["results_ignored"]
      uuids.each do |uuid|
        a = step_row(uuid, "a")
        d = step_row(uuid, "d")
        send_result(a["step_uuid"], 1, 999)                          # late: attempt 1 of a
        send_result(d["step_uuid"], Integer(d["attempts"]), 777)     # duplicate of d's winning attempt
      end
      Timeout.timeout(20) { sleep 0.1 until TaskerCore::Orchestrator.status["results_ignored"] >= before + 20 }
      result = audit(uuids)
      tasks_changed = uuids.count do |uuid|
        TaskerCore.task_status(uuid).then do |s|
          s.state != "complete" || s.step("a").results != 1 || s.step("d").results != 5
        end
      end

      FaultReport.record(name: "Duplicate and late result messages",
                         how: "10 finished tasks; a late success for attempt 1 of a step that won on attempt 2, " \
                              "and a duplicate success for the winning attempt of another, each with a different value",
                         tasks: 10, completed: result[:completed],
                         duplicates: tasks_changed + result[:double_completions],
                         lost: result[:tasks] - result[:completed] + result[:wrong_results])
      expect(tasks_changed).to eq(0)
      expect(result).to include(completed: 10, wrong_results: 0, double_completions: 0)
      expect(fault_sql("SELECT count(*) FROM pgmq.q_tasker_step_results").first["count"]).to eq("0")
    end
  end
end
