# frozen_string_literal: true

require_relative "web_helper"

# Keyset paging on (created_at, task_uuid): every task exactly once, in order, both ways,
# even when many tasks share a created_at.
RSpec.describe "dashboard task list paging", db: true do
  include Rack::Test::Methods

  let(:app) { WebSpec.mounted(TaskerCore::Web.new) }

  before do
    reset_tasker_database!
    WebSpec.register!
    seed = TaskerCore.create_task(namespace: "web_idle", name: "slow")
    with_pg do |conn|
      # 45 more tasks: groups of 3 share a created_at, so the uuid breaks the ties.
      conn.exec_params(<<~SQL, [seed.uuid])
        INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, state, created_at)
        SELECT gen_random_uuid(), t.named_task_id, t.namespace, t.name, t.version,
               (ARRAY['error', 'complete', 'in_progress'])[1 + i % 3],
               timestamptz '2026-01-01 00:00:00+00' + (i / 3) * interval '1 second'
          FROM tasker.tasks t, generate_series(1, 45) AS i
         WHERE t.task_uuid = $1
      SQL
    end
  end

  def expected_order(where = "TRUE")
    with_pg do |conn|
      conn.exec("SELECT task_uuid FROM tasker.tasks WHERE #{where} ORDER BY created_at DESC, task_uuid DESC")
          .column_values(0)
    end
  end

  def walk(start_url, key)
    pages = []
    url = start_url
    while url
      get url
      data = JSON.parse(last_response.body)
      pages << data["tasks"].map { |row| row["task_uuid"] }
      url = data["page"]["#{key}_url"]
    end
    pages
  end

  it "visits every task once going older, then back to the newest" do
    older_pages = walk("/tasker/api/tasks?limit=7", "older")
    expect(older_pages.map(&:size)).to eq(([7] * 6) + [4])
    expect(older_pages.flatten).to eq(expected_order)

    get "/tasker/api/tasks?limit=7"
    cursor = JSON.parse(last_response.body)["page"]["older"]
    get "/tasker/api/tasks?limit=7&older=#{cursor}"
    third = JSON.parse(last_response.body)["page"]["older_url"]
    get third
    newer = JSON.parse(last_response.body)["page"]["newer_url"]
    newer_pages = walk(newer, "newer")
    expect(newer_pages.map(&:size)).to eq([7, 7])
    expect(newer_pages.reverse.flatten).to eq(expected_order.first(14))
  end

  it "pages within a filter, and the HTML pager links keep the filters" do
    pages = walk("/tasker/api/tasks?limit=4&state=error", "older")
    expect(pages.flatten).to eq(expected_order("state = 'error'"))

    get "/tasker/tasks?state=error&limit=4"
    older = last_response.body[/href="([^"]+)" rel="next"/, 1]
    cursor = /2026-01-01T00%3A00%3A\d\d\.\d{6}Z_\h{8}-/ # created_at, then the start of the task's uuid
    expect(CGI.unescapeHTML(older)).to match(%r{\A/tasker/tasks\?state=error&limit=4&older=#{cursor}})
    get CGI.unescapeHTML(older)
    expect(last_response.body).to include('rel="prev"', "Newest")
    expect(last_response.body.scan('<tr class="task-row"').size).to eq(4)
  end
end
