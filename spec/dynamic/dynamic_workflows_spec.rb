# frozen_string_literal: true

require "spec_helper"
require "securerandom"
require "timeout"

# Decision and fan_out steps end to end: a real orchestrator, a real worker, real PostgreSQL.
module DynamicSpec
  # Routes by the context's amount; the context's "choose" overrides the choice.
  class Route
    def call(task, _sequence, _step)
      amount = task.context["amount"]
      chosen = task.context.fetch("choose") { amount > 500 ? ["manager_review"] : ["auto_approve"] }
      TaskerCore::Decision.new(chosen, result: { "amount" => amount })
    end
  end

  class Approve
    def call(_task, _sequence, step)
      { "by" => step.name }
    end
  end

  # What the recording step saw of both branches.
  class Record
    def call(_task, sequence, _step)
      %w[auto_approve manager_review].to_h do |name|
        [name, { "skipped" => sequence.skipped?(name), "result" => sequence.get(name) }]
      end
    end
  end

  # Returns the context's "items" as an Array, or whatever "shape" says.
  class Split
    def call(task, _sequence, _step)
      case task.context["shape"]
      when "fan_out" then TaskerCore::FanOut.new(task.context["items"], result: { "n" => task.context["items"].size })
      when "hash" then { "not" => "an array" }
      else task.context["items"]
      end
    end
  end

  class Square
    def call(_task, sequence, step)
      { "index" => step.index, "square" => step.input * step.input, "split" => sequence.get("split").class.name }
    end
  end

  # A per-element step that reads its fan_out's whole result. When a gate is set, it says it
  # started (its step's uuid on `started`) and waits at the gate, so a spec can look at its
  # claim while it runs.
  class Echo
    class << self
      attr_accessor :gate, :started
    end

    def call(_task, sequence, step)
      Echo.started&.push(step.uuid)
      Echo.gate&.pop
      split = sequence.get("split")
      { "index" => step.index, "size" => split.size, "mine" => split[step.index] == step.input,
        "names" => sequence.names, "length" => split.sum(&:length) }
    end
  end

  class Sum
    def call(_task, sequence, _step)
      chunks = sequence.get("square")
      { "count" => chunks.size, "sum" => chunks.sum { |c| c["square"] },
        "in_order" => chunks.each_with_index.all? { |c, i| c["index"] == i } }
    end
  end
end

RSpec.describe "dynamic workflows" do
  before(:all) do
    TaskerTestDatabase.prepare!
    start_orchestrator!
  end

  after(:all) { stop_orchestrator! }

  let(:approval) do
    { "namespace" => "dyn", "name" => "approval", "version" => "1.0.0",
      "steps" => [
        { "name" => "route", "handler" => "DynamicSpec::Route", "type" => "decision" },
        { "name" => "auto_approve", "handler" => "DynamicSpec::Approve", "depends_on" => ["route"] },
        { "name" => "manager_review", "handler" => "DynamicSpec::Approve", "depends_on" => ["route"] },
        { "name" => "notify_manager", "handler" => "DynamicSpec::Approve", "depends_on" => ["manager_review"] },
        { "name" => "record", "handler" => "DynamicSpec::Record",
          "depends_on" => %w[auto_approve notify_manager] }
      ] }
  end

  let(:chunks) do
    { "namespace" => "dyn", "name" => "chunks", "version" => "1.0.0",
      "steps" => [
        { "name" => "split", "handler" => "DynamicSpec::Split", "type" => "fan_out" },
        { "name" => "square", "handler" => "DynamicSpec::Square", "depends_on" => ["split"] },
        { "name" => "sum", "handler" => "DynamicSpec::Sum", "depends_on" => ["square"] }
      ] }
  end

  let(:wide) do
    { "namespace" => "dyn", "name" => "wide", "version" => "1.0.0",
      "steps" => [
        { "name" => "split", "handler" => "DynamicSpec::Split", "type" => "fan_out" },
        { "name" => "echo", "handler" => "DynamicSpec::Echo", "depends_on" => ["split"] }
      ] }
  end

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([approval, chunks, wide])
  end

  def run(name, context, timeout: 60)
    with_worker(namespaces: ["dyn"], concurrency: 4) do
      task = TaskerCore.create_task(namespace: "dyn", name: name, version: "1.0.0", context: context)
      TaskerCore.wait_for_task(task.uuid, timeout: timeout)
    end
  end

  def run_existing(task)
    with_worker(namespaces: ["dyn"], concurrency: 4) { TaskerCore.wait_for_task(task.uuid, timeout: 60) }
  end

  def states(status)
    status.steps.to_h { |s| [s.name, s.state] }
  end

  it "runs the chosen branch and skips the other, and everything that hangs only off it" do
    status = run("approval", { "amount" => 900 })
    expect(status.state).to eq("complete")
    expect(states(status)).to eq("route" => "complete", "auto_approve" => "skipped",
                                 "manager_review" => "complete", "notify_manager" => "complete",
                                 "record" => "complete")
    expect(status.step("route").results).to eq("amount" => 900)
    expect(status.step("record").results).to eq(
      "auto_approve" => { "skipped" => true, "result" => nil },
      "manager_review" => { "skipped" => false, "result" => { "by" => "manager_review" } }
    )

    small = run("approval", { "amount" => 10 })
    expect(states(small)).to include("auto_approve" => "complete", "manager_review" => "skipped",
                                     "notify_manager" => "skipped", "record" => "complete")
  end

  it "skips every dependent, and what hangs off them, on an empty decision" do
    status = run("approval", { "amount" => 1, "choose" => [] })
    expect(status.state).to eq("complete")
    expect(states(status)).to eq("route" => "complete", "auto_approve" => "skipped",
                                 "manager_review" => "skipped", "notify_manager" => "skipped",
                                 "record" => "skipped")
  end

  it "refuses to resolve a decision or fan_out step by hand, naming why, and changes nothing" do
    [["approval", "route", { "amount" => 1 }], ["chunks", "split", { "items" => [1, 2] }]].each do |name, step, context|
      task = TaskerCore.create_task(namespace: "dyn", name: name, version: "1.0.0", context: context)
      expect { TaskerCore.resolve_step(task.uuid, step, results: [1, 2]) }
        .to raise_error(TaskerCore::ArgumentError,
                        /step "#{step}" of task #{task.uuid} is a \w+ step and cannot be resolved by hand/)
      status = TaskerCore.task_status(task.uuid)
      expect(status.step(step).state).to eq("enqueued")
      expect(status.steps.map(&:name)).not_to include(a_string_matching(/\[/))
    end
  end

  it "fails the decision step for good when it names a step that is not a direct dependent" do
    status = run("approval", { "amount" => 1, "choose" => ["record"] })
    expect(status.state).to eq("error")
    route = status.step("route")
    expect(route.state).to eq("error")
    expect(route.attempts).to eq(1)
    expect(route.last_error["message"]).to include('decision step "route" chose "record"',
                                                   '["auto_approve", "manager_review"]')
    expect(states(status).values_at("auto_approve", "manager_review", "record")).to eq(%w[pending] * 3)
  end

  it "runs one instance per element and hands the aggregate their results in element order" do
    items = (1..2000).to_a
    status = run("chunks", { "items" => items }, timeout: 120)
    expect(status.state).to eq("complete"), -> { status.to_h.slice("state", "step_counts").inspect }
    instances = status.steps.select { |s| s.name.start_with?("square[") }
    expect(instances.size).to eq(2000)
    expect(instances.map(&:name)).to match_array((0...2000).map { |i| "square[#{i}]" })
    expect(instances.map(&:state).uniq).to eq(["complete"])
    expect(status.steps.map(&:name)).not_to include("square")
    expect(status.step("square[7]").results).to eq("index" => 7, "square" => 64, "split" => "Array")
    expect(instances.map(&:index)).to eq((0...2000).to_a)
    expect(instances.map(&:element_of).uniq).to eq(["square"])
    expect(status.steps.map(&:name).values_at(0, 1, 2000, 2001)).to eq(%w[split square[0] square[1999] sum])
    expect(status.step("split")["type"]).to eq("fan_out")
    expect(status.step("sum").results).to eq("count" => 2000, "sum" => items.sum { |i| i * i }, "in_order" => true)
  end

  # A plain Array is also the fan_out's result, an ancestor of every instance: carried in each
  # instance's claim it made a fan-out of N elements read N times N elements. Past
  # CLAIM_INLINE_RESULT_BYTES as stored it stays out of the claim, and sequence.get reads it.
  it "leaves a large fan_out result out of the instances' claims, and sequence.get still reads all of it" do
    items = Array.new(3) { |i| format("%<i>d-%<hex>s", i: i, hex: SecureRandom.hex(6000)) }
    DynamicSpec::Echo.gate = Queue.new
    DynamicSpec::Echo.started = Queue.new
    with_worker(namespaces: ["dyn"], concurrency: 4) do
      task = TaskerCore.create_task(namespace: "dyn", name: "wide", version: "1.0.0", context: { "items" => items })
      claim = claim_in_rollback(Timeout.timeout(30) { DynamicSpec::Echo.started.pop })
      expect(claim["status"]).to eq("claimed")
      expect(claim["deferred"]).to eq(["split"])
      expect(claim["ancestors"]).not_to have_key("split")
      expect(claim["step"]["input"]).to eq(items[claim["step"]["index"]])
      3.times { DynamicSpec::Echo.gate << :go }
      status = TaskerCore.wait_for_task(task.uuid, timeout: 60)
      expect(status.state).to eq("complete")
      echoes = status.steps.select { |st| st.name.start_with?("echo[") }.map(&:results)
      expect(echoes.map { |e| e["index"] }).to contain_exactly(0, 1, 2)
      expect(echoes).to all(include("size" => 3, "mine" => true, "names" => ["split"],
                                    "length" => items.sum(&:length)))
    end
  ensure
    DynamicSpec::Echo.gate = nil
    DynamicSpec::Echo.started = nil
  end

  # The claim a running step would get now (its redelivery), in a transaction rolled back.
  def claim_in_rollback(step_uuid)
    with_pg do |conn|
      conn.exec("BEGIN")
      JSON.parse(conn.exec_params("SELECT tasker.claim_step($1, 1)::text", [step_uuid]).getvalue(0, 0))
    ensure
      conn.exec("ROLLBACK")
    end
  end

  it "creates the instances exactly once when the fan_out's result is delivered twice" do
    stop_orchestrator!
    task = TaskerCore.create_task(namespace: "dyn", name: "chunks", version: "1.0.0",
                                  context: { "items" => (1..50).to_a })
    with_worker(namespaces: ["dyn"], concurrency: 1) do
      wait_until(message: "split's result") { queue_messages("tasker_step_results").size == 1 }
    end
    result = queue_messages("tasker_step_results").first["message"]
    send_raw_message("tasker_step_results", JSON.generate(result))
    start_orchestrator!
    status = run_existing(task)
    expect(status.state).to eq("complete")
    expect(status.steps.count { |s| s.name.start_with?("square[") }).to eq(50)
    expect(status.step("sum").results).to include("count" => 50, "in_order" => true)
    expect(queue_messages("tasker_step_results")).to be_empty
  ensure
    start_orchestrator!
  end

  it "takes TaskerCore::FanOut's items and keeps its own result" do
    status = run("chunks", { "shape" => "fan_out", "items" => [3, 4] })
    expect(status.state).to eq("complete")
    expect(status.step("split").results).to eq("n" => 2)
    expect(status.step("sum").results).to eq("count" => 2, "sum" => 25, "in_order" => true)
  end

  it "counts the template as complete with no element: the aggregate gets []" do
    status = run("chunks", { "items" => [] })
    expect(status.state).to eq("complete")
    expect(states(status)).to eq("split" => "complete", "sum" => "complete")
    expect(status.step("sum").results).to eq("count" => 0, "sum" => 0, "in_order" => true)
  end

  it "fails the fan_out step for good past max_fan_out, or when it returns no Array" do
    over = run("chunks", { "items" => (0..10_000).to_a })
    expect(over.state).to eq("error")
    expect(over.step("split").last_error["message"])
      .to eq('fan_out step "split" returned 10001 elements; max_fan_out is 10000')
    expect(over.steps.map(&:name)).to eq(%w[split square sum])

    hash = run("chunks", { "shape" => "hash" })
    expect(hash.step("split").state).to eq("error")
    expect(hash.step("split").last_error["message"]).to include("must return an Array", "got a Hash")
  end

  it "refuses nested dynamic types and outside dependencies at registration, naming template, step and rule" do
    nested = chunks.merge("name" => "nested", "steps" => [
                            { "name" => "split", "handler" => "DynamicSpec::Split", "type" => "fan_out" },
                            { "name" => "square", "handler" => "DynamicSpec::Split", "type" => "fan_out",
                              "depends_on" => ["split"] },
                            { "name" => "sum", "handler" => "DynamicSpec::Sum", "depends_on" => ["square"] }
                          ])
    expect { TaskerCore.register_templates!([nested]) }
      .to raise_error(TaskerCore::TemplateError,
                      %r{dyn/nested@1\.0\.0.*step "square": a per-element template .* may not be a fan_out step})
    lonely = approval.merge("name" => "lonely", "steps" => [{ "name" => "route", "handler" => "X",
                                                              "type" => "decision" }])
    expect { TaskerCore.register_templates!([lonely]) }
      .to raise_error(TaskerCore::TemplateError, /step "route": a decision step needs at least one step/)
    typo = approval.merge("name" => "typo", "steps" => [{ "name" => "a", "handler" => "X", "type" => "fanout" }])
    expect { TaskerCore.register_templates!([typo]) }
      .to raise_error(TaskerCore::TemplateError, /step "a": type must be task, decision or fan_out, got "fanout"/)
  end
end
