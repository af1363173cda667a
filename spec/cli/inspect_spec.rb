# frozen_string_literal: true

require "json"
require "tmpdir"
require_relative "support/cli_helpers"

# status, task, graph and templates against tasks in every interesting state, made once.
RSpec.describe "exe/tasker-core status, task, graph, templates", db: true do
  before(:all) do
    reset_tasker_database!
    register_example_workflows!
    require File.join(RuntimeHelpers::EXAMPLES_DIR, "handlers", "fulfillment")
    start_orchestrator!
    order = { "product_id" => "widget", "quantity" => 2, "card" => "4242" }
    with_worker(namespaces: %w[fulfillment], concurrency: 2) do
      @complete = create_order(order, {})
      @failed = create_order(order, { "declined" => true })
      @retrying = create_order(order, { "short_stock_attempts" => 5, "retry_after" => 600 })
      [@complete, @failed].each { |uuid| TaskerCore.wait_for_task(uuid, timeout: 20) }
      wait_until(message: "a step waiting for retry") do
        TaskerCore.task_status(@retrying).step("reserve_inventory").state == "waiting_for_retry"
      end
    end
    # No worker for diamond_workflow: its first step stays enqueued; make it look old.
    @stuck = create_example_task("diamond_workflow").uuid
    wait_until(message: "the diamond's first step enqueued") do
      TaskerCore.task_status(@stuck).step("start").state == "enqueued"
    end
    with_pg do |conn|
      conn.exec_params("UPDATE tasker.workflow_steps SET enqueued_at = now() - interval '10 minutes' " \
                       "WHERE task_uuid = $1", [@stuck])
      conn.exec("UPDATE pgmq.q_diamond_workflow_queue SET enqueued_at = now() - interval '10 minutes'")
    end
  end

  after(:all) { stop_orchestrator! }

  def create_order(order, simulate)
    TaskerCore.create_task(namespace: "fulfillment", name: "process_order", version: "1.0.0",
                           context: { "order" => order, "simulate" => simulate }, initiator: "cli spec").uuid
  end

  describe "status" do
    it "shows tasks by state, queues, stuck and retrying steps and connected processes" do
      result = tasker_core("status")
      expect(result.code).to eq(0), result.err
      out = result.out
      expect(out).to match(%r{^  fulfillment/process_order\s+0\s+1\s+1\s+1\s+0\s+0\s+3$})
      expect(out).to match(%r{^  diamond_workflow/diamond\s+0\s+1\s+0\s+0\s+0\s+0\s+1$})
      expect(out).to match(/^  diamond_workflow_queue\s+1\s+1\s+0\s+0\s+1\dm\d\ds\s+0$/)
      expect(out).to match(/^  fulfillment_queue\s+1\s+0\s+0\s+1\s+/) # the retry, delayed
      expect(out).to include("Stuck steps", "diamond_workflow/diamond #{@stuck}  start",
                             "enqueued and not picked up (no worker for diamond_workflow?)")
      expect(out).to match(%r{fulfillment.*#{@retrying}\s+reserve_inventory\s+1/3\s+\d+m\d+s\s+
                              TaskerCore::RetryableError}x)
      expect(out).to match(/^  tasker-core\s+\d+\s+/) # this process's orchestrator pool
    end

    it "prints JSON, filters by age and fails on stuck steps when asked" do
      report = JSON.parse(tasker_core("status", "--json").out)
      expect(report.keys).to eq(%w[database at replication tasks queues stuck_steps retrying_steps scheduled_tasks
                                   connections paused_namespaces])
      expect(report["stuck_steps"].map { |s| s["step_name"] }).to eq(["start"])
      expect(report["tasks"].sum { |row| row["count"] }).to eq(4)

      expect(tasker_core("status", "--since", "1h").out).to include("Tasks created in the last 1h00m")
      expect(tasker_core("status", "--fail-on-stuck").code).to eq(1)
      expect(tasker_core("status", "--fail-on-stuck", "--stuck-after", "1h", "--json").code).to eq(0)
      expect(tasker_core("status", "--since", "yesterday").code).to eq(2)
    end

    it "reports what the dashboard's overview reports: one set of status queries" do
      require "tasker_core/web"
      cli = JSON.parse(tasker_core("status", "--json").out)
      overview = TaskerCore::Web.new.queries.overview
      moving = %w[oldest_age_seconds retry_in_seconds]
      steady = ->(rows) { rows.map { |row| row.except(*moving) } }
      expect(cli["tasks"]).to eq(overview["last_hour"])
      expect(steady.call(cli["queues"])).to eq(steady.call(overview["queues"]))
      expect(cli["queues"].map { |q| q["queue_name"] }).to include("fulfillment_queue", "diamond_workflow_queue")
      expect(steady.call(cli["retrying_steps"])).to eq(steady.call(overview["waiting_for_retry"]["steps"]))
      expect(cli["retrying_steps"].map { |s| s["task_uuid"] }).to eq([@retrying])
      expect(cli["connections"].map(&:keys).uniq).to eq(overview["processes"].map(&:keys).uniq)
    end
  end

  describe "task" do
    it "prints a table of the steps and exits 0 for a complete task" do
      result = tasker_core("task", @complete)
      expect(result.code).to eq(0), result.err
      expect(result.out.lines.first).to eq("fulfillment/process_order@1.0.0 #{@complete}: complete\n")
      expect(result.out).to include("initiator cli spec")
      expect(result.out).to match(/STEP\s+STATE\s+ATTEMPTS\s+ENQUEUED\s+STARTED\s+COMPLETED\s+RAN\s+ERROR/)
      offset = /\+\d+\.\d{3}s/ # ENQUEUED, STARTED and COMPLETED, each after the task's creation
      %w[validate_order reserve_inventory process_payment ship_order].each do |step|
        expect(result.out).to match(%r{^  #{step}\s+complete\s+1/\d\s+#{offset}\s+#{offset}\s+#{offset}\s+\d+ ms})
      end
    end

    it "exits 1 for a failed task, showing the error, and shows the next retry" do
      failed = tasker_core("task", @failed)
      expect(failed.code).to eq(1)
      expect(failed.out)
        .to match(%r{process_payment\s+error\s+1/2 .*TaskerCore::PermanentError: card declined \(CARD_DECLINED\)})
      expect(failed.out).to match(%r{ship_order\s+pending\s+0/5})

      retrying = tasker_core("task", @retrying)
      expect(retrying.code).to eq(0)
      expect(retrying.out).to match(%r{reserve_inventory\s+waiting_for_retry\s+1/3 .*RetryableError.*\(retry at \+\d+})
    end

    it "prints JSON, waits, and exits 1 for an unknown task, 2 for a malformed uuid" do
      status = JSON.parse(tasker_core("task", @complete, "--json", "--wait", "5").out)
      expect(status.values_at("task_uuid", "state")).to eq([@complete, "complete"])
      expect(status["steps"].map { |s| s["results"] }).to all(be_a(Hash))

      unknown = tasker_core("task", "01234567-89ab-cdef-0123-456789abcdef")
      expect([unknown.code,
              unknown.err]).to eq([1, "tasker-core: no task with uuid 01234567-89ab-cdef-0123-456789abcdef\n"])
      expect(tasker_core("task", "12345").code).to eq(2)
    end
  end

  describe "graph" do
    it "prints a registered template as Mermaid, the latest version or the one asked for" do
      result = tasker_core("graph", "fulfillment/process_order")
      expect(result.code).to eq(0), result.err
      expect(result.out).to include("title: fulfillment/process_order@1.0.0", "flowchart TD",
                                    %(s_validate_order["validate_order<br/>Fulfillment::ValidateOrder"]),
                                    "s_validate_order --> s_reserve_inventory", "s_process_payment --> s_ship_order")
      expect(tasker_core("graph", "fulfillment/process_order@1.0.0").out).to eq(result.out)

      missing = tasker_core("graph", "fulfillment/process_order@9.9.9")
      expect([missing.code, missing.err]).to eq([1, "tasker-core: fulfillment/process_order has no version 9.9.9 " \
                                                    "(registered: 1.0.0)\n"])
      expect(tasker_core("graph", "nowhere/nothing").code).to eq(1)
      expect(tasker_core("graph", "Not A Target").code).to eq(2)
    end

    it "colours a task's steps by state, in Mermaid and in DOT" do
      mermaid = tasker_core("graph", @failed).out
      expect(mermaid).to include("(error)", "classDef complete fill:#c8e6c9",
                                 "class s_validate_order,s_reserve_inventory complete",
                                 "class s_process_payment error", "class s_ship_order pending",
                                 "process_payment<br/>Fulfillment::ProcessPayment<br/>error 1/2")

      dot = tasker_core("graph", @failed, "--format", "dot").out
      expect(dot).to start_with("digraph tasker {")
      expect(dot).to include(%("process_payment" [label="process_payment\\nFulfillment::ProcessPayment\\nerror 1/2", ) +
                             %(fillcolor="#ffcdd2", color="#c62828"];),
                             %("process_payment" -> "ship_order";))
    end

    it "renders a PNG with Graphviz when it is installed" do
      skip "Graphviz's dot is not installed" unless system("command -v dot >/dev/null 2>&1")

      Dir.mktmpdir do |dir|
        png = File.join(dir, "task.png")
        result = tasker_core("graph", @complete, "--png", png)
        expect([result.code, result.out]).to eq([0, "wrote #{png}\n"])
        expect(File.binread(png, 8)).to eq("\x89PNG\r\n\x1A\n".b)
      end
    end

    it "graphs a template file without a database" do
      result = tasker_core("graph", "examples/templates/diamond_workflow.yaml", "--format", "dot",
                           "--database-url", "postgresql://nobody@127.0.0.1:1/none")
      expect(result.code).to eq(0), result.err
      expect(result.out).to include(%(label="diamond_workflow/diamond@1.0.0"), %("branch_b" -> "end";))
    end
  end

  describe "templates" do
    it "lists the registered templates, as a table or JSON" do
      result = tasker_core("templates")
      expect(result.code).to eq(0)
      registered_at = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/
      expect(result.out).to match(%r{^  fulfillment/process_order\s+1\.0\.0\s+4\s+#{registered_at}\s+Validate})
      expect(JSON.parse(tasker_core("templates", "list", "--json").out).map { |t| t["name"] })
        .to include("process_order", "diamond", "linear", "tree", "mixed_dag")
    end

    it "validates templates without a database and exits 1 naming the problem" do
      Dir.mktmpdir do |dir|
        File.write(File.join(dir, "cycle.yaml"), <<~YAML)
          namespace: loops
          name: cycle
          version: 1.0.0
          steps:
            - {name: a, handler: Loops::A, depends_on: [b]}
            - {name: b, handler: Loops::B, depends_on: [a]}
        YAML
        offline = { "DATABASE_URL" => "postgresql://nobody@127.0.0.1:1/none" }
        good = tasker_core("templates", "validate", "examples/templates", env: offline)
        expect(good.code).to eq(0), good.err
        expect(good.out).to include("ok      examples/templates/tree_workflow.yaml: tree_workflow/tree@1.0.0 (8 steps)",
                                    "7 valid, 0 invalid")

        bad = tasker_core("templates", "validate", dir, "examples/templates/linear_workflow.yaml", env: offline)
        expect(bad.code).to eq(1)
        expect(bad.out).to include("invalid #{dir}/cycle.yaml: ", "cycle", "1 valid, 1 invalid")
        expect(tasker_core("templates", "validate", "#{dir}/none.yaml", env: offline).code).to eq(1)
        expect(tasker_core("templates", "frob").code).to eq(2)
      end
    end

    it "registers templates" do
      Dir.mktmpdir do |dir|
        File.write(File.join(dir, "one.yaml"), "namespace: cli_spec\nname: one\nversion: 2.0.0\n" \
                                               "steps:\n  - {name: only, handler: CliSpec::Only}\n")
        result = tasker_core("templates", "register", dir)
        expect([result.code, result.out]).to eq([0, "registered cli_spec/one@2.0.0\n"])
        expect(tasker_core("graph", "cli_spec/one").out).to include("s_only[\"only<br/>CliSpec::Only\"]")
      end
    end
  end
end
