# frozen_string_literal: true

require_relative "web_helper"

RSpec.describe "dashboard task page with a fan_out's instances", db: true do
  include Rack::Test::Methods

  let(:app) { WebSpec.mounted(TaskerCore::Web.new) }
  let(:uuid) { @task.uuid }

  before(:context) do
    reset_tasker_database!
    TaskerCore.register_templates!([WebFanSpec::TEMPLATE])
    start_orchestrator!
    @task = TaskerCore.create_task(namespace: "web_fan", name: "fan", version: "1.0.0")
    @small = TaskerCore.create_task(namespace: "web_fan", name: "fan", version: "1.0.0", context: { "n" => 5 })
    with_worker(namespaces: ["web_fan"], concurrency: 4) do
      [@task, @small].each { |task| TaskerCore.wait_for_task(task.uuid, timeout: 60) }
    end
  end

  after(:context) { stop_orchestrator! }

  def body
    last_response.body
  end

  def row_steps
    body.scan(/<tr data-step="([^"]+)"/).flatten
  end

  def page(params = {})
    get "/tasker/tasks/#{uuid}", params
    body
  end

  it "ends as the spec expects: 9 instances failed, 51 complete, total never ran" do
    status = TaskerCore.task_status(uuid)
    expect(status.state).to eq("error")
    expect(status.steps.map(&:name)).to eq(["split"] + (0...60).map { |i| "part[#{i}]" } + ["total"])
    expect(status.steps.select { |s| s["element_of"] == "part" }.map { |s| s["index"] }).to eq((0...60).to_a)
  end

  it "summarizes the instances in one row with their counts per state, and lists the other steps" do
    page
    expect(last_response.status).to eq(200)
    expect(row_steps).to eq(%w[split total])
    summary = body[%r{<tr class="instances-summary".*?</tr>}m]
    expect(summary).to include('data-group="part"', "part[60]")
    expect(summary).to include("state-error\">error</span> 9", "state-complete\">complete</span> 51")
    expect(summary).to include("/tasker/tasks/#{uuid}?instances=part&amp;state=error")
    expect(body).to include('data-step="part[60]"') # the DAG's one node
    expect(body).to include("Progress</dt><dd>83.9% of 62 steps") # split and 51 instances of 62
  end

  it "lists a small fan-out's instances one by one, as the DAG draws them" do
    get "/tasker/tasks/#{@small.uuid}"
    expect(row_steps).to eq(%w[split part[0] part[1] part[2] part[3] part[4] total])
    expect(body).not_to include("instances-summary")
    expect(body).to include('data-step="part[4]"')
  end

  it "pages the instances in element order" do
    page("instances" => "part")
    expect(row_steps).to eq(%w[split] + (0...50).map { |i| "part[#{i}]" } + %w[total])
    expect(body).to include("Instances 1–50 of 60, page 1 of 2", "rel=\"next\"")
    page("instances" => "part", "page" => "2")
    expect(row_steps).to eq(%w[split] + (50...60).map { |i| "part[#{i}]" } + %w[total])
    expect(body).to include("Instances 51–60 of 60, page 2 of 2", "rel=\"prev\"")
    expect(body).not_to include("rel=\"next\"")
    expect(body).to include('id="instance-59"')
  end

  it "lists the failed instances by the state filter, with their errors escaped" do
    page("instances" => "part", "state" => "error")
    expect(row_steps).to eq(%w[split] + WebFanSpec::FAILING.map { |i| "part[#{i}]" } + %w[total])
    expect(body).to include("Instances 1–9 of 9 error, page 1 of 1")
    expect(body).to include("element 10: &lt;script&gt;alert(1)&lt;/script&gt;")
    expect(body).not_to include(WebSpec::HOSTILE)
  end

  it "answers a page past the end with an empty page" do
    page("instances" => "part", "page" => "5")
    expect(last_response.status).to eq(200)
    expect(row_steps).to eq(%w[split total])
    expect(body).to include("No instances on page 5 (60 in 2 pages)")
    page("instances" => "part", "state" => "cancelled")
    expect(body).to include("No cancelled instances on page 1 (0 in 1 page)")
  end

  it "refuses a page that is not a number from 1, or a state that is none, naming the parameter" do
    ["0", "-1", "abc", "1.5", "99999999999999999999", " 2"].each do |bad|
      page("instances" => "part", "page" => bad)
      expect([last_response.status, body]).to match([400, include("page must be a whole number from 1")])
    end
    get "/tasker/tasks/#{uuid}?instances=part&page[]=1"
    expect([last_response.status, body]).to match([400, include("page must be given once")])
    page("instances" => "part", "state" => "<script>")
    expect([last_response.status, body]).to match([400, include("state &quot;&lt;script&gt;&quot; is not")])
    page("page" => "2")
    expect([last_response.status, body]).to match([400, include("need instances=")])
  end

  it "answers an unknown template with a 404 that escapes its name" do
    page("instances" => "<script>alert(1)</script>")
    expect(last_response.status).to eq(404)
    expect(body).to include("no instances of a step named &lt;script&gt;alert(1)&lt;/script&gt;")
    expect(body).not_to include(WebSpec::HOSTILE)
    page("instances" => "total")
    expect(last_response.status).to eq(404)
  end

  it "serves the collapsed form as JSON for the page's polling, and the full status by default" do
    get "/tasker/api/tasks/#{uuid}", "collapsed" => "1"
    data = JSON.parse(body)
    expect(data["steps"].map { |s| s["name"] }).to eq(%w[split total])
    expect(data["instance_groups"]).to eq([{ "template" => "part", "instances" => 60, "before" => "total",
                                             "depends_on" => ["split"],
                                             "counts" => { "complete" => 51, "error" => 9 } }])
    expect(data["step_count"]).to eq(62)
    get "/tasker/api/tasks/#{uuid}", "collapsed" => "1", "page" => "x"
    expect(last_response.status).to eq(400)
    get "/tasker/api/tasks/#{uuid}"
    expect(JSON.parse(body)["steps"].size).to eq(62)
  end
end
