# frozen_string_literal: true

# The recovery sweep (tasker.stranded_tasks) and the start of the next tasks of a concurrency
# key (tasker.concurrency_next) each ask the concurrency-key rule (tasker.concurrency_waiting)
# about a set of tasks. Written inside a WHERE clause the call was evaluated again for every
# row: once per readiness row the sweep tested, which took 1.2-4 s per sweep during the
# bench's throughput run and 9.4 s with 2,000 tasks stuck. A user sees it as a core taken
# from the workers every sweep_interval; this counts the rule's calls in one transaction
# (PostgreSQL's own function statistics, track_functions = 'pl'). The rule itself counted, for
# each waiting task, the tasks ahead of it with a lookup of its own: 6.7 s for one call with
# 10,000 tasks waiting on one key; this counts the buffers it reads.
RSpec.describe "the concurrency-key rule's cost in the sweep, at a task's end and for a long queue", db: true do
  before do
    stop_orchestrator!
    reset_tasker_database!
  end

  # The number of calls of tasker.concurrency_waiting the statement made and its rows, after
  # `first` in the same transaction, all rolled back.
  def rule_calls(sql, params = [], first: nil)
    with_pg do |conn|
      conn.exec("BEGIN")
      conn.exec_params(first, params) if first
      conn.exec("SET LOCAL track_functions = 'pl'")
      before = rule_calls_so_far(conn)
      rows = conn.exec_params(sql, params).column_values(0)
      calls = rule_calls_so_far(conn) - before
      conn.exec("ROLLBACK")
      [calls, rows]
    end
  end

  # The connection's count not yet sent to the statistics (it can include earlier transactions').
  def rule_calls_so_far(conn)
    Integer(conn.exec("SELECT pg_stat_get_xact_function_calls('tasker.concurrency_waiting'::regproc)")
                .getvalue(0, 0) || 0)
  end

  def register(name, concurrency: nil)
    template = { "namespace" => "sweeping", "name" => name, "version" => "1",
                 "steps" => [{ "name" => "first", "handler" => "Nobody" },
                             { "name" => "second", "handler" => "Nobody", "depends_on" => ["first"] }] }
    template["concurrency"] = concurrency if concurrency
    TaskerCore.register_templates!([template])
  end

  # `count` tasks of one key with a limit of 1, created in one call: the first starts, the rest wait.
  def keyed_tasks(count)
    register("keyed", concurrency: { "key" => "account", "limit" => 1 })
    TaskerCore.create_tasks(Array.new(count) { { namespace: "sweeping", name: "keyed", context: { "account" => 7 } } })
  end

  it "asks once per sweep, however many steps are open, and still finds a stranded task" do
    register("pair")
    tasks = TaskerCore.create_tasks(Array.new(200) { { namespace: "sweeping", name: "pair", context: {} } })
    # One task's ready first step put back to pending, as a crash between processes leaves it.
    stranded = tasks.first.uuid
    with_pg do |conn|
      conn.exec_params("UPDATE tasker.workflow_steps SET state = 'pending' WHERE task_uuid = $1 AND name = 'first'",
                       [stranded])
    end

    calls, found = rule_calls("SELECT tasker.stranded_tasks(100)")
    expect(found).to eq([stranded])
    # Before: 201 calls, once for every readiness row the sweep tested.
    expect(calls).to eq(1)
  end

  it "asks once when a task of a key ends, however many tasks of that key wait" do
    tasks = keyed_tasks(50)
    states = tasks.map { |t| TaskerCore.task_status(t.uuid).state }
    expect(states.tally).to eq("in_progress" => 1, "pending" => 49)

    first = tasks.find { |t| TaskerCore.task_status(t.uuid).state == "in_progress" }
    finish = "UPDATE tasker.tasks SET state = 'cancelled', completed_at = clock_timestamp() WHERE task_uuid = $1"
    calls, next_tasks = rule_calls("SELECT tasker.concurrency_next(ARRAY[$1::uuid])", [first.uuid], first: finish)
    expect(next_tasks).to eq([tasks[1].uuid])
    # Before: about 50 calls, once for every task waiting on the key.
    expect(calls).to eq(1)
  end

  # Buffers read by one call of the rule about these tasks (it only reads).
  def rule_buffers(uuids)
    with_pg do |conn|
      buffers_read(conn, "SELECT tasker.concurrency_waiting($1::uuid[])", [PG::TextEncoder::Array.new.encode(uuids)])
    end
  end

  it "reads a key's queue once, not once per waiting task" do
    tasks = keyed_tasks(400)
    uuids = tasks.map(&:uuid)
    waiting = with_pg do |conn|
      conn.exec_params("SELECT unnest(tasker.concurrency_waiting($1::uuid[]))",
                       [PG::TextEncoder::Array.new.encode(uuids)]).column_values(0)
    end
    expect(waiting).to match_array(uuids.drop(1))
    # Before: 150,000 buffers for the 400 (each task counted the ones ahead of it); after: 2,000.
    expect(rule_buffers(uuids)).to be < 5_000
  end
end
