# frozen_string_literal: true

# The orchestrator applies the results queue batch by batch. These put a whole batch in the
# queue while no orchestrator runs (the steps claimed by hand, as a worker would), then start
# one and look at what each result did.
RSpec.describe "result batches", db: true do
  let(:queue) { "batches_queue" }

  def register(name, steps)
    TaskerCore.register_templates!([{ "namespace" => "batches", "name" => name, "version" => "1", "steps" => steps }])
  end

  def create(name)
    TaskerCore.create_task(namespace: "batches", name: name, version: "1", context: {})
  end

  # Reads and claims every visible step message of the queue, as a worker does.
  def claim_all
    with_pg do |conn|
      conn.exec_params(TaskerCore::Worker::QueueClient.claim_sql(queue), [30, 100, 25]).map do |row|
        JSON.parse(row["claim"]).tap { |claim| expect(claim["status"]).to eq("claimed") }
      end
    end
  end

  def result(claim, value)
    JSON.generate("step_uuid" => claim.dig("step", "uuid"), "attempt" => claim["attempt"], "status" => "success",
                  "result" => value, "metadata" => { "spec" => true }, "duration_ms" => 1.0)
  end

  def step(task, name)
    with_pg do |conn|
      conn.exec_params("SELECT state, attempts, results::text FROM tasker.workflow_steps
                         WHERE task_uuid = $1 AND name = $2", [task.uuid, name]).first
    end
  end

  def transitions(task, to_state)
    with_pg do |conn|
      Integer(conn.exec_params("SELECT count(*) FROM tasker.step_transitions WHERE task_uuid = $1 AND to_state = $2",
                               [task.uuid, to_state]).getvalue(0, 0))
    end
  end

  def results_left
    with_pg { |conn| conn.exec("SELECT msg_id, read_ct FROM pgmq.q_tasker_step_results").to_a }
  end

  before do
    stop_orchestrator!
    reset_tasker_database!
    register("pair", [{ "name" => "first", "handler" => "Nobody" },
                      { "name" => "second", "handler" => "Nobody", "depends_on" => ["first"] }])
  end

  after do
    stop_orchestrator!
    with_pg { |conn| conn.exec("DROP TRIGGER IF EXISTS spec_refuse ON tasker.workflow_steps") }
  end

  it "applies each result once, the first of two for one attempt winning, and archives what it cannot use" do
    tasks = Array.new(3) { create("pair") }
    claims = claim_all
    expect(claims.size).to eq(3)
    claims.each_with_index { |claim, index| send_raw_message("tasker_step_results", result(claim, index + 1)) }
    send_raw_message("tasker_step_results", result(claims[0], 999)) # duplicate of the first result
    send_raw_message("tasker_step_results", '{"step_uuid": "nope"}')
    send_raw_message("tasker_step_results", result(claims[0], 5).sub(claims[0].dig("step", "uuid"),
                                                                     "01890000-0000-7000-8000-000000000000"))
    start_orchestrator!
    wait_until(message: "the results queue drained") { results_left.empty? }

    tasks.each do |task|
      expect(step(task, "first")).to include("state" => "complete", "attempts" => "1")
      expect(transitions(task, "complete")).to eq(1)
      expect(step(task, "second")["state"]).to eq("enqueued")
    end
    first_task = tasks.find { |task| task.uuid == claims[0].dig("task", "uuid") }
    expect(step(first_task, "first")["results"]).to eq("1")
    # the claimed messages stay (no worker deleted them); one message for each next step
    expect(queue_messages(queue).map { |row| row["message"]["step_name"] }.tally).to eq("first" => 3, "second" => 3)
    expect(archived_messages("tasker_step_results").map { |row| row["message"]["step_uuid"] })
      .to contain_exactly("nope", "01890000-0000-7000-8000-000000000000")
    expect(TaskerCore::Orchestrator.status).to include("steps_completed" => 3, "results_ignored" => 1,
                                                       "messages_archived" => 2)
  end

  it "applies the rest of a batch one by one when the database refuses one result" do
    register("refuses", [{ "name" => "refused", "handler" => "Nobody" }])
    good = create("pair")
    bad = create("refuses")
    with_pg do |conn|
      conn.exec(<<~SQL)
        CREATE OR REPLACE FUNCTION public.spec_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'spec refuses step %', NEW.name; END $$;
        CREATE TRIGGER spec_refuse BEFORE UPDATE ON tasker.workflow_steps FOR EACH ROW
          WHEN (NEW.name = 'refused' AND NEW.state = 'complete') EXECUTE FUNCTION public.spec_refuse();
      SQL
    end
    claim_all.each { |claim| send_raw_message("tasker_step_results", result(claim, "done")) }
    start_orchestrator!
    wait_until(message: "the good task's result applied") { step(good, "first")["state"] == "complete" }

    expect(step(good, "second")["state"]).to eq("enqueued")
    expect(step(bad, "refused")["state"]).to eq("in_progress")
    # left in the queue for a later read, not lost
    expect(results_left.size).to eq(1)
    expect(TaskerCore.task_status(bad.uuid).state).to eq("in_progress")
  end
end
