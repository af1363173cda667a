# frozen_string_literal: true

require_relative "web_helper"

# POST /namespaces/:name/pause and /resume from the overview: CSRF, the actor recorded, the
# overview shows which namespaces are paused.
RSpec.describe "dashboard: pause and resume a namespace", db: true do
  include Rack::Test::Methods

  before do
    reset_tasker_database!
    WebSpec.register!
    header "Sec-Fetch-Site", "same-origin"
  end

  let(:app) { WebSpec.mounted(TaskerCore::Web.new(actions: true), user: "alice@example.com") }

  def overview_token
    get "/tasker/"
    expect(last_response.status).to eq(200)
    WebSpec.csrf_token(last_response.body)
  end

  it "pauses and resumes with the actor recorded, and the overview shows it" do
    token = overview_token
    expect(last_response.body).to include('id="pause-web_spec"')

    post "/tasker/namespaces/web_spec/pause", "_csrf" => token, "reason" => "deploying"
    expect(last_response.status).to eq(303)
    expect(last_response.headers["location"]).to eq("/tasker/?done=paused&namespace=web_spec")
    expect(TaskerCore.paused?("web_spec")).to be(true)
    get "/tasker/?done=paused&namespace=web_spec"
    expect(last_response.body).to include("web_spec: Paused", "paused", "alice@example.com", "(deploying)",
                                          'id="resume-web_spec"')

    post "/tasker/namespaces/web_spec/resume", "_csrf" => token
    expect(last_response.status).to eq(303)
    expect(TaskerCore.paused?("web_spec")).to be(false)
    history = with_pg do |conn|
      conn.exec("SELECT action, actor, reason FROM tasker.namespace_controls ORDER BY id").to_a
    end
    expect(history).to eq([{ "action" => "pause", "actor" => "alice@example.com", "reason" => "deploying" },
                           { "action" => "resume", "actor" => "alice@example.com",
                             "reason" => "resumed from the dashboard" }])
  end

  it "refuses without the CSRF token, on a read-only dashboard and for an invalid namespace" do
    token = overview_token
    post "/tasker/namespaces/web_spec/pause"
    expect(last_response.status).to eq(403)
    read_only = Rack::Test::Session.new(WebSpec.mounted(TaskerCore::Web.new))
    read_only.post("/tasker/namespaces/web_spec/pause", "_csrf" => token)
    expect(read_only.last_response.status).to eq(403)
    expect(TaskerCore.paused?("web_spec")).to be(false)

    post "/tasker/namespaces/Not%20Valid/pause", "_csrf" => token
    expect(last_response.status).to eq(422)
    expect(last_response.body).to include("invalid namespace &quot;Not Valid&quot;")
  end
end
