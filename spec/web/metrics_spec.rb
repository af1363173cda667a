# frozen_string_literal: true

require_relative "web_helper"

# TaskerCore.metrics and GET /metrics (Prometheus text format, parsed strictly), against tasks
# that really ran (TaskerCore::Testing.run_task) and one waiting in its queue.
RSpec.describe "metrics", db: true do
  include Rack::Test::Methods

  let(:app) { TaskerCore::Web.new(actions: false) }

  def template(name, steps)
    { "namespace" => "metrics_ns", "name" => name, "version" => "1", "steps" => steps }
  end

  before(:context) do
    reset_tasker_database!
    TaskerCore.register_templates!([
                                     template("pay", [{ "name" => "a", "handler" => "MetricsHandlers::Ok" },
                                                      { "name" => "b", "handler" => "MetricsHandlers::Ok",
                                                        "depends_on" => ["a"] }]),
                                     template("refuse", [{ "name" => "a", "handler" => "MetricsHandlers::Declined" }])
                                   ])
    2.times { TaskerCore::Testing.run_task(namespace: "metrics_ns", name: "pay", version: "1", context: {}) }
    TaskerCore::Testing.run_task(namespace: "metrics_ns", name: "refuse", version: "1", context: {})
    @waiting = TaskerCore.create_task(namespace: "metrics_ns", name: "pay", version: "1")
  end

  after { stop_orchestrator! }

  def scrape
    get "/metrics"
    expect(last_response.status).to eq(200)
    expect(last_response.content_type).to eq("text/plain; version=0.0.4; charset=utf-8")
    PrometheusText.parse(last_response.body)
  end

  def value(families, name, labels = {}, sample: name)
    family = families.fetch(name)
    found = family["samples"].select { |s| s["name"] == sample && s["labels"] == labels }
    expect(found.size).to eq(1), "expected one #{sample}#{labels} in #{family["samples"]}"
    found.first["value"]
  end

  it "returns tasks by template and state, steps by state, queue figures and recent step durations" do
    metrics = TaskerCore.metrics

    expect(metrics["tasks"]).to contain_exactly(
      { "namespace" => "metrics_ns", "name" => "pay", "state" => "complete", "count" => 2 },
      { "namespace" => "metrics_ns", "name" => "pay", "state" => "in_progress", "count" => 1 },
      { "namespace" => "metrics_ns", "name" => "refuse", "state" => "error", "count" => 1 }
    )
    expect(metrics["steps"].keys).to eq(TaskerCore::States::STEP)
    expect(metrics["steps"]).to include("complete" => 4, "error" => 1, "enqueued" => 1, "pending" => 1)
    queue = metrics["queues"].find { |q| q["queue_name"] == "metrics_ns_queue" }
    expect(queue).to include("depth" => 1, "visible" => 1, "delayed" => 0, "in_flight" => 0, "archived" => 0,
                             "namespace" => "metrics_ns")
    durations = metrics["step_durations"]
    expect(durations).to include("window_seconds" => 300, "horizon_seconds" => 3600)
    pay = durations["templates"].find { |t| t["name"] == "pay" }
    expect(pay).to include("namespace" => "metrics_ns", "steps" => 4)
    expect(pay["p50"]).to be_between(0, pay["p99"])
    expect(pay["p99"]).to be <= pay["sum_seconds"]
    expect(durations["templates"].map { |t| t["name"] }).not_to include("refuse")
    expect(metrics["orchestrator"]).to be_nil
  end

  it "serves them on GET /metrics in the Prometheus text format" do
    families = scrape

    expect(families.keys).to all(start_with("tasker_"))
    expect(families.values).to all(include("help", "type"))
    expect(value(families, "tasker_tasks", { "namespace" => "metrics_ns", "template" => "pay",
                                             "state" => "complete" })).to eq(2)
    expect(value(families, "tasker_tasks", { "namespace" => "metrics_ns", "template" => "refuse",
                                             "state" => "error" })).to eq(1)
    expect(value(families, "tasker_steps", { "state" => "complete" })).to eq(4)
    expect(value(families, "tasker_steps", { "state" => "cancelled" })).to eq(0)
    queue = { "queue" => "metrics_ns_queue", "namespace" => "metrics_ns" }
    expect(value(families, "tasker_queue_depth", queue)).to eq(1)
    expect(value(families, "tasker_queue_visible_messages", queue)).to eq(1)
    expect(value(families, "tasker_queue_oldest_message_age_seconds", queue)).to be >= 0
    expect(value(families, "tasker_queue_depth", { "queue" => "tasker_step_results" })).to eq(0)
    durations = families.fetch("tasker_step_duration_seconds")
    expect(durations["type"]).to eq("summary")
    pay = { "namespace" => "metrics_ns", "template" => "pay" }
    expect(value(families, "tasker_step_duration_seconds", pay, sample: "tasker_step_duration_seconds_count")).to eq(4)
    expect(value(families, "tasker_step_duration_seconds", pay.merge("quantile" => "0.99"))).to be >= 0
    expect(families.keys.grep(/orchestrator/)).to be_empty
  end

  it "adds the counters of the orchestrator running in this process" do
    start_orchestrator!
    families = scrape

    expect(families.fetch("tasker_orchestrator_results_processed_total")["type"]).to eq("counter")
    expect(value(families, "tasker_orchestrator_results_processed_total")).to eq(0)
    expect(value(families, "tasker_orchestrator_connected")).to be_between(0, 1)
    expect(families.keys.grep(/\Atasker_orchestrator_/)).to all(satisfy { |n| n.end_with?("_total", "_connected") })
  end

  it "escapes label values so that any text survives the round trip" do
    odd = "a \"quoted\" back\\slash\nnew line"
    text = TaskerCore::Metrics::Prometheus.render(
      "tasks" => [{ "namespace" => "n", "name" => odd, "state" => "complete", "count" => 3 }],
      "steps" => { "complete" => 1 }, "queues" => [],
      "step_durations" => { "window_seconds" => 300, "templates" => [] }, "orchestrator" => nil
    )
    families = PrometheusText.parse(text)
    expect(value(families, "tasker_tasks", { "namespace" => "n", "template" => odd, "state" => "complete" })).to eq(3)
  end

  it "has a parser that refuses what the format does not allow" do
    good = "# HELP tasker_x X.\n# TYPE tasker_x gauge\ntasker_x{a=\"1\"} 1\n"
    expect(PrometheusText.parse(good).keys).to eq(["tasker_x"])
    [
      good.chomp, # no final newline
      "tasker_x 1\n", # no TYPE
      "# TYPE tasker_x gauge\ntasker_x 1\n", # no HELP
      "#{good}tasker_x{a=\"1\"} 2\n", # the same series twice
      good.sub('a="1"', 'a="\\q"'), # bad escape
      good.sub('a="1"', "a=1"), # unquoted label value
      good.sub("} 1", "} one"), # not a number
      good.sub("gauge", "meter"), # unknown type
      "#{good}\n" # blank line
    ].each do |bad|
      expect { PrometheusText.parse(bad) }.to raise_error(PrometheusText::Invalid), bad.inspect
    end
  end
end
