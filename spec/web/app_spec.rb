# frozen_string_literal: true

require_relative "web_helper"

# The dashboard at the Rack level, mounted under /tasker, against tasks that really ran.
RSpec.describe TaskerCore::Web, db: true do
  include Rack::Test::Methods

  before(:context) do
    reset_tasker_database!
    WebSpec.register!
    register_example_workflows!
    WebSpec::Flaky.succeed = false
    start_orchestrator!
    @failed = WebSpec.create_flaky
    @order = TaskerCore.create_task(namespace: "fulfillment", name: "process_order",
                                    context: { "order" => { "product_id" => "widget" } })
    with_worker(namespaces: %w[web_spec fulfillment]) do
      TaskerCore.wait_for_task(@failed.uuid, timeout: 15)
      TaskerCore.wait_for_task(@order.uuid, timeout: 15)
    end
  end

  after(:context) { stop_orchestrator! }

  let(:web) { described_class.new(actions: false) }
  let(:app) { WebSpec.mounted(web) }
  let(:failed) { @failed }
  let(:order) { @order }

  def json_body
    expect(last_response.content_type).to start_with("application/json")
    JSON.parse(last_response.body)
  end

  def task_state(uuid)
    TaskerCore.task_status(uuid).state
  end

  # Flaky tasks of their own, for the examples that change them.
  def failed_flaky_task
    task = WebSpec.create_flaky
    with_worker(namespaces: %w[web_spec]) { TaskerCore.wait_for_task(task.uuid, timeout: 15) }
    task
  end

  describe "GET / (overview)" do
    it "shows the last hour per state, queues, retries, recent errors and connected processes" do
      get "/tasker/"
      expect(last_response.status).to eq(200)
      body = last_response.body
      expect(body).to include("Tasks created in the last hour", "fulfillment_queue", "tasker_step_results",
                              "Steps waiting for retry", "Connected processes", "orchestrators")
      expect(body).to include(%(href="/tasker/tasks/#{failed.uuid}"))
      expect(body).to include("web_spec/flaky")
      error_card = %r{<a class="card state-error" href="/tasker/tasks\?state=error&amp;created_after=[^"]+">}
      expect(body).to match(/#{error_card}\s*<span class="count">[1-9]/)
      expect(body).not_to include(WebSpec::HOSTILE)
    end

    it "counts this process's orchestrator among the connected ones" do
      get "/tasker/api/overview"
      overview = json_body
      expect(overview["processes"].sum { |row| row["orchestrators"] }).to be >= 1
      expect(overview["orchestrator_in_this_process"]).to include("running" => true)
      expect(overview["queues"].map { |queue| queue["queue_name"] }).to include("web_spec_queue", "tasker_step_results")
      expect(overview["queues"].first.keys).to include("depth", "visible", "delayed", "in_flight", "oldest_age_seconds")
      expect(overview["last_hour"]).to include(hash_including("namespace" => "web_spec", "name" => "flaky",
                                                              "state" => "error"))
      expect(overview["waiting_for_retry"]).to eq("count" => 0, "steps" => [])
    end
  end

  describe "GET /tasks" do
    it "lists tasks newest first with links under the mount path" do
      get "/tasker/tasks"
      expect(last_response.status).to eq(200)
      expect(last_response.body.index(order.uuid)).to be < last_response.body.index(failed.uuid)
      expect(last_response.body).to include(%(action="/tasker/tasks"), %(href="/tasker/tasks/#{order.uuid}"))
    end

    it "filters by namespace, name, state and creation time" do
      get "/tasker/tasks", "state" => "error"
      expect(last_response.body).to include(failed.uuid)
      expect(last_response.body).not_to include(order.uuid)

      get "/tasker/tasks", "namespace" => "fulfillment", "name" => "process_order"
      expect(last_response.body).to include(order.uuid)
      expect(last_response.body).not_to include(failed.uuid)

      get "/tasker/tasks", "created_after" => (Time.now.utc + 3600).strftime("%Y-%m-%dT%H:%M")
      expect(last_response.body).to include("No task matches")
      get "/tasker/tasks", "created_before" => (Time.now.utc + 3600).iso8601
      expect(last_response.body).to include(order.uuid, failed.uuid)
    end

    it "refuses bad filters with a 400 that says why" do
      get "/tasker/tasks", "state" => "<script>", "created_after" => "yesterday"
      expect(last_response.status).to eq(400)
      expect(last_response.body).to include("state must be one of", "created_after is not a time")
      expect(last_response.body).not_to include("<script>")
    end
  end

  describe "GET /tasks/:uuid" do
    before { get "/tasker/tasks/#{failed.uuid}" }

    let(:body) { last_response.body }

    it "draws the DAG with the failed step marked" do
      expect(last_response.status).to eq(200)
      expect(body).to match(/<svg class="dag"/)
      expect(body).to match(/<g class="node state-error" data-step="fetch" data-state="error" data-attempts="1"/)
      expect(body).to match(/<g class="node state-pending" data-step="publish"/)
      expect(body).to include('data-from="fetch" data-to="publish"')
    end

    it "shows attempts, timings, the error and the transition history" do
      expect(body).to include("TaskerCore::PermanentError", "attempt 1 of 1", "Backtrace")
      expect(body).to match(%r{<td class="num">1/1</td>})
      expect(body).to include('id="transitions"', "step fetch", "claimed")
      expect(body.scan(/<tr class="transition-task">/).size).to be >= 2
    end

    it "escapes the context, the error, the initiator, the reason and the tags" do
      expect(body).not_to include("<script>alert(1)</script>")
      expect(body).not_to include("<img src=x")
      expect(body).not_to include("<b>bold</b>")
      expect(body).not_to include("<i>E42</i>")
      expect(body).to include("&lt;script&gt;alert(1)&lt;/script&gt;")
      expect(body).to include("upstream said &lt;script&gt;", "&lt;b&gt;shop&lt;/b&gt;", "because &lt;i&gt;")
      expect(last_response.headers["content-security-policy"]).to include("script-src 'self'")
    end

    it "polls the JSON API (in the page's collapsed form) while the task runs, and not once it finished" do
      expect(body).to include('data-poll-url=""')
      task = TaskerCore.create_task(namespace: "web_idle", name: "slow")
      get "/tasker/tasks/#{task.uuid}"
      expect(last_response.body).to include(%(data-poll-url="/tasker/api/tasks/#{task.uuid}?collapsed=1"))
    end

    it "is read-only by default: no action forms, no cookie" do
      expect(body).to include("Read-only dashboard")
      expect(body).not_to include("<form method=\"post\"")
      expect(last_response.headers["set-cookie"]).to be_nil
    end

    it "answers 404 for unknown and malformed uuids" do
      get "/tasker/tasks/01890000-0000-7000-8000-000000000000"
      expect(last_response.status).to eq(404)
      expect(last_response.body).to include("no task with uuid")
      get "/tasker/tasks/%3Cscript%3E"
      expect(last_response.status).to eq(404)
      expect(last_response.body).to include("&lt;script&gt; is not a task uuid")
    end
  end

  describe "GET /templates" do
    it "lists every template with its DAG" do
      get "/tasker/templates"
      expect(last_response.status).to eq(200)
      body = last_response.body
      expect(body).to include("fulfillment/process_order", "web_spec/flaky", "A fetch that fails until it is fixed")
      expect(body.scan('<svg class="dag"').size).to eq(TaskerCore.templates.size)
      expect(body).to include('data-from="validate_order" data-to="process_payment"')
    end
  end

  describe "JSON API" do
    it "GET /api/tasks: rows and page cursors" do
      get "/tasker/api/tasks", "limit" => "1"
      data = json_body
      expect(data["tasks"].size).to eq(1)
      expect(data["tasks"].first.keys).to include("task_uuid", "namespace", "name", "version", "state", "created_at",
                                                  "completed_at", "steps_total", "steps_done", "steps_failed", "tags")
      expect(data["page"]).to include("limit" => 1, "newer" => nil)
      expect(data["page"]["older_url"]).to start_with("/tasker/api/tasks?limit=1&older=")
      get data["page"]["older_url"]
      expect(json_body["tasks"].first["task_uuid"]).not_to eq(data["tasks"].first["task_uuid"])
    end

    it "GET /api/tasks refuses bad filters with 400" do
      get "/tasker/api/tasks", "state" => "nope"
      expect(last_response.status).to eq(400)
      expect(json_body["error"]).to include("state must be one of")
    end

    it "GET /api/tasks/:uuid: task_status plus transitions" do
      get "/tasker/api/tasks/#{failed.uuid}"
      data = json_body
      expect(data).to include("task_uuid" => failed.uuid, "state" => "error", "context" => WebSpec.hostile_context,
                              "html_url" => "/tasker/tasks/#{failed.uuid}")
      expect(data["steps"].map { |step| step.values_at("name", "state") }).to eq([%w[fetch error], %w[publish pending]])
      expect(data["transitions"].find { |row| row["kind"] == "task" }).to include("from_state" => nil,
                                                                                  "to_state" => "pending")
      expect(data["transitions"].map { |row| row["kind"] }.uniq).to contain_exactly("task", "step")
      get "/tasker/api/tasks/01890000-0000-7000-8000-000000000000"
      expect(last_response.status).to eq(404)
      expect(json_body["error"]).to include("no task with uuid")
    end

    it "GET /api/templates: each template with its steps' dependencies" do
      get "/tasker/api/templates"
      template = json_body["templates"].find { |t| t["namespace"] == "web_spec" && t["name"] == "flaky" }
      expect(template["version"]).to eq("1.0.0")
      expect(template["steps"]).to eq([{ "name" => "fetch", "handler" => "WebSpec::Flaky", "depends_on" => [] },
                                       { "name" => "publish", "handler" => "WebSpec::Publish",
                                         "depends_on" => ["fetch"] }])
    end

    it "GET /health: 200 when the database answers, 503 when it does not" do
      get "/tasker/health"
      expect(last_response.status).to eq(200)
      expect(json_body).to eq("status" => "ok")

      allow(TaskerCore.logger).to receive(:warn)
      down = described_class.new(database_url: "postgresql://postgres@127.0.0.1:1/nowhere")
      response = Rack::MockRequest.new(down).get("/health")
      expect(response.status).to eq(503)
      expect(JSON.parse(response.body)).to eq("status" => "unavailable", "database" => "unreachable")
    end
  end

  describe "actions" do
    let(:actions_web) { described_class.new(actions: true) }
    let(:app) { WebSpec.mounted(actions_web, user: "alice@example.com") }

    # What a browser says of a form posted from the dashboard's own page.
    before { header "Sec-Fetch-Site", "same-origin" }

    def token_for(uuid)
      get "/tasker/tasks/#{uuid}"
      cookie = last_response.headers["set-cookie"]
      expect(cookie).to match(%r{tasker_core_csrf=[\w-]{43}; path=/tasker; HttpOnly; SameSite=Strict}i) if cookie
      WebSpec.csrf_token(last_response.body).tap { |token| expect(token).to match(/\A[\w-]{43}\z/) }
    end

    def step_audit(uuid, to_state)
      with_pg do |conn|
        conn.exec_params("SELECT reason, metadata::text FROM tasker.step_transitions
                           WHERE task_uuid = $1 AND to_state = $2 ORDER BY id DESC LIMIT 1", [uuid, to_state]).first
      end
    end

    it "are refused when the dashboard is read-only (the default)" do
      expect(described_class.actions_enabled).to be(false)
      read_only = WebSpec.mounted(described_class.new)
      session = Rack::Test::Session.new((read_only))
      session.post("/tasker/tasks/#{failed.uuid}/retry", "_csrf" => "x" * 43)
      expect(session.last_response.status).to eq(403)
      expect(session.last_response.body).to include("read-only")
      expect(task_state(failed.uuid)).to eq("error")
    end

    it "follow TaskerCore::Web.actions_enabled when not set per instance" do
      described_class.actions_enabled = true
      expect(described_class.new.actions_enabled?).to be(true)
      expect(described_class.new(actions: false).actions_enabled?).to be(false)
    ensure
      described_class.actions_enabled = false
    end

    it "are refused without the session's CSRF token, or cross-site" do
      token = token_for(failed.uuid)
      post "/tasker/tasks/#{failed.uuid}/retry"
      expect(last_response.status).to eq(403)
      expect(last_response.body).to include("CSRF token did not match")
      post "/tasker/tasks/#{failed.uuid}/retry", "_csrf" => token.reverse
      expect(last_response.status).to eq(403)
      post "/tasker/tasks/#{failed.uuid}/retry", { "_csrf" => token }, "HTTP_SEC_FETCH_SITE" => "cross-site"
      expect(last_response.status).to eq(403)

      other_browser = Rack::Test::Session.new((app))
      other_browser.post("/tasker/tasks/#{failed.uuid}/retry", "_csrf" => token)
      expect(other_browser.last_response.status).to eq(403)
      expect(task_state(failed.uuid)).to eq("error")
    end

    it "retry: records who and why, redirects to the task, and the task completes" do
      task = failed_flaky_task
      token = token_for(task.uuid)
      expect(last_response.body).to include('id="retry-task"', 'data-confirm="Retry this task?')
      WebSpec::Flaky.succeed = true
      post "/tasker/tasks/#{task.uuid}/retry", "_csrf" => token, "reason" => "upstream fixed"
      expect(last_response.status).to eq(303)
      expect(last_response.headers["location"]).to eq("/tasker/tasks/#{task.uuid}?done=retried")
      audit = step_audit(task.uuid, "pending")
      expect(audit["reason"]).to eq("upstream fixed")
      expect(JSON.parse(audit["metadata"])).to include("actor" => "alice@example.com")
      with_worker(namespaces: %w[web_spec]) do
        expect(TaskerCore.wait_for_task(task.uuid, timeout: 15).state).to eq("complete")
      end
      get "/tasker/tasks/#{task.uuid}?done=retried"
      expect(last_response.body).to include("sent back to run again", "alice@example.com", "upstream fixed")
    ensure
      WebSpec::Flaky.succeed = false
    end

    it "resolve: takes a JSON result from the form; refuses text that is not JSON" do
      task = failed_flaky_task
      token = token_for(task.uuid)
      post "/tasker/tasks/#{task.uuid}/steps/fetch/resolve", "_csrf" => token, "results" => "{not json"
      expect(last_response.status).to eq(422)
      expect(last_response.body).to include("must be JSON")
      expect(task_state(task.uuid)).to eq("error")

      post "/tasker/tasks/#{task.uuid}/steps/fetch/resolve", "_csrf" => token, "results" => '{"fetched": 7}'
      expect(last_response.headers["location"]).to eq("/tasker/tasks/#{task.uuid}?done=resolved&step=fetch")
      status = TaskerCore.task_status(task.uuid)
      expect(status.step("fetch")).to have_attributes(state: "resolved_manually", results: { "fetched" => 7 })
      expect(JSON.parse(step_audit(task.uuid, "resolved_manually")["metadata"]))
        .to include("actor" => "alice@example.com", "reason" => "resolved from the dashboard")
    end

    it "cancel: uses REMOTE_USER (Rack::Auth::Basic) when the host sets no user" do
      task = TaskerCore.create_task(namespace: "web_idle", name: "slow")
      basic = Rack::Builder.new do
        use Rack::Auth::Basic, "tasker" do |user, password|
          user == "bob" && password == "secret"
        end
        run WebSpec.mounted(TaskerCore::Web.new(actions: true))
      end
      browser = Rack::Test::Session.new((basic))
      browser.header "Sec-Fetch-Site", "same-origin"
      browser.get("/tasker/tasks/#{task.uuid}")
      expect(browser.last_response.status).to eq(401)
      browser.basic_authorize("bob", "secret")
      browser.get("/tasker/tasks/#{task.uuid}")
      token = WebSpec.csrf_token(browser.last_response.body)
      browser.post("/tasker/tasks/#{task.uuid}/cancel", "_csrf" => token)
      expect(browser.last_response.status).to eq(303)
      expect(task_state(task.uuid)).to eq("cancelled")
      expect(JSON.parse(step_audit(task.uuid, "cancelled")["metadata"])).to include("actor" => "bob")
    end

    it "keeps the token in the host's session when there is one" do
      app = WebSpec.mounted(actions_web, session: true)
      browser = Rack::Test::Session.new((app))
      browser.header "Sec-Fetch-Site", "same-origin"
      browser.get("/tasker/tasks/#{failed.uuid}")
      expect(browser.last_response.headers["set-cookie"]).to include("host.session=")
      expect(browser.last_response.headers["set-cookie"]).not_to include("tasker_core_csrf")
      token = WebSpec.csrf_token(browser.last_response.body)
      browser.post("/tasker/tasks/#{order.uuid}/retry", "_csrf" => token)
      expect(browser.last_response.status).to eq(409)
      expect(browser.last_response.body).to include("only a task in error can be retried", "Back to the task")
    end

    it "answers 404 for a step that does not exist" do
      token = token_for(failed.uuid)
      post "/tasker/tasks/#{failed.uuid}/steps/nope/resolve", "_csrf" => token, "results" => "{}"
      expect(last_response.status).to eq(404)
      expect(last_response.body).to include("has no step")
    end
  end

  describe "the operator's name" do
    let(:web) { described_class.new }

    it "comes from the current_actor proc, tasker_core.user, Warden, or REMOTE_USER" do
      warden_user = Struct.new(:email).new("carol@example.com")
      warden = Struct.new(:user).new(warden_user)
      expect(web.actor_for("tasker_core.user" => "dave", "warden" => warden)).to eq("dave")
      expect(web.actor_for("warden" => warden, "REMOTE_USER" => "bob")).to eq("carol@example.com")
      expect(web.actor_for("REMOTE_USER" => "bob")).to eq("bob")
      expect(web.actor_for({})).to eq("anonymous")
      custom = described_class.new(current_actor: ->(env) { "sso:#{env["HTTP_X_USER"]}" })
      expect(custom.actor_for("HTTP_X_USER" => "erin", "REMOTE_USER" => "bob")).to eq("sso:erin")
    end
  end

  describe "plumbing" do
    it "serves its assets, answers HEAD, 404 and 405" do
      get "/tasker/assets/app.js"
      expect(last_response.status).to eq(200)
      expect(last_response.content_type).to start_with("text/javascript")
      expect(last_response.body).to include("data-confirm")
      get "/tasker/assets/../../web.rb"
      expect(last_response.status).to eq(404)
      head "/tasker/tasks"
      expect(last_response.status).to eq(200)
      expect(last_response.body).to be_empty
      get "/tasker/nope"
      expect(last_response.status).to eq(404)
      get "/tasker/tasks/#{failed.uuid}/retry"
      expect(last_response.status).to eq(405)
      expect(last_response.headers["allow"]).to eq("POST")
    end

    it "is what `mount TaskerCore::Web` calls: the class answers Rack calls" do
      response = Rack::MockRequest.new(described_class).get("/health", "SCRIPT_NAME" => "/ops/tasker")
      expect(response.status).to eq(200)
      page = Rack::MockRequest.new(described_class).get("/", "SCRIPT_NAME" => "/ops/tasker")
      expect(page.body).to include('href="/ops/tasker/tasks"', 'src="/ops/tasker/assets/app.js"')
    end
  end
end
