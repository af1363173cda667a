# frozen_string_literal: true

require_relative "../faults/support/fault_report"

require_relative "web_helper"

# The standalone dashboard (`tasker-core web --actions`: no host session) keeps its CSRF token
# in a cookie. The cookie holds a random value; the form's token is an HMAC of it under the
# server's secret, so a page that can plant a cookie (another port of the host, a sibling
# subdomain) still cannot forge a matching field. A POST must also come from the dashboard's
# own origin (Sec-Fetch-Site, else Origin or Referer).
RSpec.describe TaskerCore::Web::Csrf, db: true do
  include Rack::Test::Methods

  before(:context) do
    reset_tasker_database!
    WebSpec.register!
  end

  let(:web) { TaskerCore::Web.new(actions: true) }
  let(:app) { WebSpec.mounted(web, user: "alice@example.com") }
  let(:task) { TaskerCore.create_task(namespace: "web_idle", name: "slow") }
  let(:same_origin) { { "HTTP_SEC_FETCH_SITE" => "same-origin" } }

  def state
    TaskerCore.task_status(task.uuid).state
  end

  # What a browser gets from the task page: the cookie (kept by rack-test) and the form's token.
  def page_token(session = self)
    session.get("/tasker/tasks/#{task.uuid}")
    WebSpec.csrf_token(session.last_response.body)
  end

  def cancel(fields, env = same_origin, session = self)
    session.post("/tasker/tasks/#{task.uuid}/cancel", fields, env)
    session.last_response
  end

  it "refuses a planted cookie with a matching field (a forged double submit)" do
    forged = "A" * 43
    expect(cancel({ "_csrf" => forged }, same_origin.merge("HTTP_COOKIE" => "tasker_core_csrf=#{forged}")).status)
      .to eq(403)
    expect(last_response.body).to include("CSRF token did not match")
    expect(state).not_to eq("cancelled")
    FaultReport.record(name: "Forged CSRF cookie on the standalone dashboard",
                       how: "a planted cookie with a matching form field: 403, nothing changed",
                       tasks: 1, completed: 0, duplicates: 0, lost: 0)
  end

  it "keeps a random value in the cookie and puts its HMAC, not the value itself, in the form" do
    token = page_token
    cookie = last_response.headers["set-cookie"][/tasker_core_csrf=([^;]+)/, 1]
    expect(cookie).to match(/\A[\w-]{43}\z/)
    expect(token).to match(/\A[\w-]{43}\z/)
    expect(token).not_to eq(cookie)
    expect(cancel("_csrf" => cookie).status).to eq(403)
  end

  it "refuses a valid token posted from another site or origin" do
    token = page_token
    refused = [{ "HTTP_SEC_FETCH_SITE" => "same-site" }, { "HTTP_SEC_FETCH_SITE" => "cross-site" },
               { "HTTP_SEC_FETCH_SITE" => "none" }, { "HTTP_ORIGIN" => "http://example.org:8080" },
               { "HTTP_ORIGIN" => "null" }, { "HTTP_REFERER" => "http://shop.example.org/tasker/tasks" }, {}]
    refused.each do |env|
      expect(cancel({ "_csrf" => token }, env).status).to eq(403), "#{env} was let through"
      expect(last_response.body).to include("did not come from this dashboard")
    end
    expect(state).not_to eq("cancelled")
  end

  it "accepts the real page's form from the same origin (Sec-Fetch-Site, or Origin or Referer without it)" do
    token = page_token
    expect(cancel({ "_csrf" => token }, "HTTP_REFERER" => "http://example.org/tasker/tasks/#{task.uuid}").status)
      .to eq(303)
    expect(state).to eq("cancelled")

    other = TaskerCore.create_task(namespace: "web_idle", name: "slow")
    post "/tasker/tasks/#{other.uuid}/cancel", { "_csrf" => token }, "HTTP_ORIGIN" => "http://example.org"
    expect(last_response.status).to eq(303)
    expect(TaskerCore.task_status(other.uuid).state).to eq("cancelled")
  end

  it "signs with the configured secret: dashboards sharing it accept each other's tokens, others do not" do
    secret = "s" * 32
    first = Rack::Test::Session.new(WebSpec.mounted(TaskerCore::Web.new(actions: true, csrf_secret: secret)))
    token = page_token(first)
    cookie = first.last_response.headers["set-cookie"][/tasker_core_csrf=([^;]+)/, 1]

    planted = same_origin.merge("HTTP_COOKIE" => "tasker_core_csrf=#{cookie}")
    stranger = Rack::Test::Session.new(WebSpec.mounted(TaskerCore::Web.new(actions: true)))
    expect(cancel({ "_csrf" => token }, planted, stranger).status).to eq(403)

    twin = Rack::Test::Session.new(WebSpec.mounted(TaskerCore::Web.new(actions: true, csrf_secret: secret)))
    expect(cancel({ "_csrf" => token }, planted, twin).status).to eq(303)
    expect(state).to eq("cancelled")
  end

  it "refuses a secret too short to sign with, naming the setting" do
    expect { TaskerCore::Web.new(csrf_secret: "short") }
      .to raise_error(TaskerCore::ConfigurationError, /csrf_secret must be a String of at least 32 bytes/)
    expect { TaskerCore::Web.csrf_secret = 42 }
      .to raise_error(TaskerCore::ConfigurationError, /TaskerCore::Web.csrf_secret/)
  end
end
