# frozen_string_literal: true

require_relative "../web_helper"

require "rails"
require "action_dispatch"

# Only requests that say they come from an admin get through, like an authentication check.
class WebSpecAdminsOnly
  def matches?(request)
    request.env["HTTP_X_ADMIN"] == "yes"
  end
end

# Run by spec/web/rails_mount_spec.rb in its own process, so that loading Rails here changes
# nothing for the rest of the suite.
#
# `mount TaskerCore::Web => "/tasker"` in real Rails routes, behind a `constraints` block, with
# Rails' cookie session: links follow the mount path and the CSRF token lives in the session.
RSpec.describe "the dashboard mounted in Rails routes", db: true do
  include Rack::Test::Methods

  let(:app) do
    routes = ActionDispatch::Routing::RouteSet.new
    routes.draw do
      constraints(WebSpecAdminsOnly.new) { mount TaskerCore::Web => "/tasker" }
    end
    generator = ActiveSupport::KeyGenerator.new("k" * 64, iterations: 2)
    settings = { "action_dispatch.secret_key_base" => "k" * 64, "action_dispatch.key_generator" => generator,
                 "action_dispatch.cookies_serializer" => :json,
                 "action_dispatch.use_authenticated_cookie_encryption" => true,
                 "action_dispatch.authenticated_encrypted_cookie_salt" => "authenticated encrypted cookie",
                 "action_dispatch.cookies_rotations" => ActiveSupport::Messages::RotationConfiguration.new }
    Rack::Builder.new do
      use(Class.new do
        define_method(:initialize) { |inner| @inner = inner }
        define_method(:call) { |env| @inner.call(env.merge(settings)) }
      end)
      use ActionDispatch::Cookies
      use ActionDispatch::Session::CookieStore, key: "_host_session"
      run routes
    end.to_app
  end

  before do
    reset_tasker_database!
    WebSpec.register!
    TaskerCore::Web.actions_enabled = true
  end

  after { TaskerCore::Web.actions_enabled = false }

  it "answers under the mount path, only through the constraint, with the token in the Rails session" do
    task = TaskerCore.create_task(namespace: "web_idle", name: "slow")
    get "/tasker/tasks/#{task.uuid}"
    expect(last_response.status).to eq(404)

    header "X-Admin", "yes"
    header "Sec-Fetch-Site", "same-origin"
    get "/tasker/tasks/#{task.uuid}"
    expect(last_response.status).to eq(200)
    expect(last_response.body).to include(%(action="/tasker/tasks/#{task.uuid}/cancel"))
    expect(last_response.headers["set-cookie"]).to include("_host_session=")
    expect(last_response.headers["set-cookie"]).not_to include("tasker_core_csrf")

    post "/tasker/tasks/#{task.uuid}/cancel", "_csrf" => WebSpec.csrf_token(last_response.body)
    expect(last_response.status).to eq(303)
    expect(last_response.headers["location"]).to eq("/tasker/tasks/#{task.uuid}?done=cancelled")
    expect(TaskerCore.task_status(task.uuid).state).to eq("cancelled")

    get "/tasker/api/tasks"
    expect(JSON.parse(last_response.body)["tasks"].map { |row| row["task_uuid"] }).to eq([task.uuid])
  end
end
