# frozen_string_literal: true

require_relative "support/faults"

# A concurrency key's slot is the count of its in_progress tasks, changed only by committed
# task transitions: killed workers and a killed orchestrator cannot leak one.
RSpec.describe "fault: concurrency keys with workers and the orchestrator killed", :fault do
  def keyed_template
    FaultWorkflow::TEMPLATE.merge("name" => "keyed", "concurrency" => { "key" => "account", "limit" => 1 })
  end

  # [started, finished] of each task, from its committed transitions, grouped by key.
  def runs_by_key(uuids)
    fault_sql("SELECT t.concurrency_key AS key, extract(epoch FROM s.created_at)::float8 AS started,
                      extract(epoch FROM t.completed_at)::float8 AS finished
                 FROM tasker.tasks t
                 JOIN tasker.task_transitions s ON s.task_uuid = t.task_uuid AND s.to_state = 'in_progress'
                WHERE t.task_uuid = ANY ($1::uuid[]) ORDER BY t.concurrency_key, s.created_at",
              [PG::TextEncoder::Array.new.encode(uuids)]).group_by { |row| row["key"] }
  end

  it "completes every task with no two tasks of one key in progress at once, and no slot leaked" do
    with_fault_database do
      TaskerCore.register_templates!([keyed_template])
      orchestrator = spawn_fault_process("orchestrator")
      workers = Array.new(2) { spawn_fault_process("worker") }
      uuids = Array.new(30) do |i|
        TaskerCore.create_task(namespace: "faults", name: "keyed", version: "1",
                               context: { "account" => i % 3, "max_sleep" => 0.1 }).uuid
      end
      3.times do
        sleep 0.7
        victim = workers.delete(workers.sample)
        kill9(victim)
        workers << spawn_fault_process("worker")
      end
      kill9(orchestrator)
      sleep 0.5
      spawn_fault_process("orchestrator")
      wait_for_all(uuids, timeout: 120)

      states = fault_sql("SELECT state, count(*)::int AS n FROM tasker.tasks WHERE task_uuid = ANY ($1::uuid[])
                           GROUP BY state", [PG::TextEncoder::Array.new.encode(uuids)])
      expect(states).to eq([{ "state" => "complete", "n" => "30" }])
      runs = runs_by_key(uuids)
      expect(runs.keys).to contain_exactly("account=0", "account=1", "account=2")
      runs.each_value do |rows|
        expect(rows.size).to eq(10)
        rows.each_cons(2) do |a, b|
          expect(Float(b["started"]) >= Float(a["finished"])).to be(true), "#{a} overlaps #{b}"
        end
      end
    end
  end
end
