# frozen_string_literal: true

require_relative "support/faults"

RSpec.describe "fault: the orchestrator killed while it expands fan_out steps", :fault do
  let(:elements) { 250 }
  let(:tasks) { 20 }

  def instance_counts(uuids)
    fault_sql("SELECT task_uuid, count(*) FILTER (WHERE element_of = 'item') AS instances,
                      count(DISTINCT name) FILTER (WHERE element_of = 'item') AS names,
                      count(*) FILTER (WHERE name = 'item') AS templates
                 FROM tasker.workflow_steps WHERE task_uuid = ANY($1::uuid[]) GROUP BY task_uuid",
              [PG::TextEncoder::Array.new.encode(uuids)])
  end

  it "leaves exactly N instances per task, and the right total" do
    with_fault_database do
      orchestrator = spawn_fault_process("orchestrator")
      2.times { spawn_fault_process("worker") }
      uuids = Array.new(tasks) do
        TaskerCore.create_task(namespace: "faults", name: "fan_out", version: "1",
                               context: { "elements" => elements }).uuid
      end
      kills = 0
      3.times do
        sleep 0.7
        kill9(orchestrator)
        kills += 1
        orchestrator = spawn_fault_process("orchestrator")
      end
      finished_at_last_kill = count_finished(uuids)
      recovery = wait_for_all(uuids, timeout: 180)
      counts = instance_counts(uuids)
      totals = uuids.map { |uuid| TaskerCore.task_status(uuid).step("total")&.results }
      exact = [elements.to_s, elements.to_s, "0"]
      wrong = counts.count { |row| row.values_at("instances", "names", "templates") != exact }
      wrong_totals = totals.count { |t| t != { "count" => elements, "sum" => elements * (elements + 1) / 2 } }

      FaultReport.record(name: "Orchestrator killed (SIGKILL) while expanding fan_out steps",
                         how: "#{tasks} tasks fanning out to #{elements} instances each; the orchestrator process " \
                              "killed #{kills} times, 0.7 s apart, and started again at once",
                         tasks: tasks, completed: tasks - wrong_totals, duplicates: wrong,
                         lost: wrong_totals, recovery: format("%.1f s after the last kill", recovery))
      expect(finished_at_last_kill).to be < tasks # the kills landed mid-run
      expect(counts.size).to eq(tasks)
      expect(wrong).to eq(0)
      expect(wrong_totals).to eq(0)
    end
  end
end
