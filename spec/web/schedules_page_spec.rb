# frozen_string_literal: true

require_relative "web_helper"

# GET /schedules: the recurring schedules with their next fire times, and the tasks waiting
# for their run_at; a scheduled task's page shows when it starts.
RSpec.describe "dashboard schedules page", db: true do
  include Rack::Test::Methods

  let(:app) { WebSpec.mounted(TaskerCore::Web.new(actions: false)) }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "reports", "name" => "nightly", "version" => "1.0.0",
                                      "steps" => [{ "name" => "build", "handler" => "Reports::Build" }] }])
  end

  it "lists schedules with their next fire times and the scheduled tasks" do
    schedule = TaskerCore.register_schedule("nightly_report", namespace: "reports", name: "nightly",
                                                              cron: "0 2 * * *", timezone: "Europe/Berlin")
    task = TaskerCore.create_task(namespace: "reports", name: "nightly", run_at: Time.utc(2099, 1, 2, 3, 4, 5))
    TaskerCore.create_task(namespace: "reports", name: "nightly", run_at: Time.now - 60)

    get "/tasker/schedules"
    expect(last_response.status).to eq(200)
    body = last_response.body
    expect(body).to include("nightly_report", "0 2 * * *", "Europe/Berlin")
    schedule["upcoming"].each do |time|
      expect(body).to include(Time.iso8601(time).utc.strftime("%Y-%m-%d %H:%M:%S UTC"))
    end
    expect(body).to include(task.uuid[0, 8], "2099-01-02 03:04:05 UTC")
    expect(body.scan(%r{href="/tasker/tasks/[0-9a-f-]{36}"}).size).to eq(1)

    get "/tasker/tasks/#{task.uuid}"
    expect(last_response.body).to include("<dt>Starts</dt>", "2099-01-02 03:04:05 UTC")
  end

  it "says when there is nothing scheduled" do
    get "/tasker/schedules"
    expect(last_response.status).to eq(200)
    expect(last_response.body).to include("No recurring schedule is registered", "No task is waiting for its start")
  end
end
