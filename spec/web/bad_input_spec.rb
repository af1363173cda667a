# frozen_string_literal: true

require_relative "../faults/support/fault_report"

require_relative "web_helper"

# Paths and parameters that are not UTF-8, or not decodable at all: the dashboard answers 404
# (a path) or 400 (a parameter), naming what was wrong, and never a 500 with a Ruby exception.
RSpec.describe TaskerCore::Web, db: true do
  include Rack::Test::Methods

  before(:context) do
    reset_tasker_database!
    WebSpec.register!
    @task = TaskerCore.create_task(namespace: "web_idle", name: "slow")
  end

  let(:app) { WebSpec.mounted(described_class.new(actions: true)) }

  # A raw request: rack-test would re-encode what these specs need to send as is.
  def raw(method, path, query = "", env = {})
    request = Rack::MockRequest.env_for("/", method: method).merge(
      "SCRIPT_NAME" => "", "PATH_INFO" => path, "QUERY_STRING" => query, "HTTP_SEC_FETCH_SITE" => "same-origin"
    )
    Rack::MockResponse.new(*app.call(request.merge(env)))
  end

  it "answers 404 for a task path that is not UTF-8, on the page and in the API" do
    page = raw("GET", "/tasker/tasks/%ff%fe")
    expect(page.status).to eq(404)
    expect(page.body).not_to include("ArgumentError", "invalid byte sequence")

    api = raw("GET", "/tasker/api/tasks/%ff%fe")
    expect(api.status).to eq(404)
    expect(JSON.parse(api.body)["error"]).to include("no page at")

    expect(raw("POST", "/tasker/tasks/%ff%fe/cancel").status).to eq(404)
    expect(raw("POST", "/tasker/tasks/#{@task.uuid}/steps/%ff/resolve").status).to eq(404)
    FaultReport.record(name: "Dashboard path that is not UTF-8",
                       how: "GET /tasks/%ff%fe and /api/tasks/%ff%fe: 404, no exception shown",
                       tasks: 0, completed: 0, duplicates: 0, lost: 0)
  end

  it "answers 400 naming the parameter that is not UTF-8" do
    page = raw("GET", "/tasker/tasks", "state=%ff")
    expect(page.status).to eq(400)
    expect(page.body).to include("state is not valid UTF-8")

    api = raw("GET", "/tasker/api/tasks", "namespace=ok&name[]=%fe")
    expect(api.status).to eq(400)
    expect(JSON.parse(api.body)["error"]).to eq("query parameter name is not valid UTF-8")

    expect(raw("GET", "/tasker/tasks/#{@task.uuid}", "done=%ff").status).to eq(400)
  end

  it "answers 400 for a query string that cannot be decoded" do
    [["/tasker/tasks", "state=%"], ["/tasker/api/tasks", "a[=1&a[]=2&a[b]=3"]].each do |path, query|
      response = raw("GET", path, query)
      expect(response.status).to eq(400), "#{path}?#{query}: #{response.status} #{response.body[0, 200]}"
      expect(response.body).not_to include("Internal error")
    end
  end

  it "answers 400 for a form field that is not UTF-8, and changes nothing" do
    token_page = Rack::Test::Session.new(app)
    token_page.get("/tasker/tasks/#{@task.uuid}")
    token = WebSpec.csrf_token(token_page.last_response.body)
    cookie = token_page.last_response.headers["set-cookie"][/tasker_core_csrf=[^;]+/]
    body = "_csrf=#{token}&reason=%ff%fe"
    response = raw("POST", "/tasker/tasks/#{@task.uuid}/cancel", "",
                   "HTTP_COOKIE" => cookie, "CONTENT_TYPE" => "application/x-www-form-urlencoded",
                   "CONTENT_LENGTH" => body.bytesize.to_s, "rack.input" => StringIO.new(body))
    expect(response.status).to eq(400)
    expect(response.body).to include("form field reason is not valid UTF-8")
    expect(TaskerCore.task_status(@task.uuid).state).not_to eq("cancelled")
  end
end
