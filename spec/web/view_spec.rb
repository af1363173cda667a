# frozen_string_literal: true

require "tasker_core/web"

RSpec.describe TaskerCore::Web::View do
  subject(:view) { described_class.new(script_name: "/tasker", csrf: nil, actions_enabled: false, poll_interval: 2) }

  it "escapes everything except what helpers built" do
    expect(view.h("<script>alert('x') & \"y\"</script>"))
      .to eq("&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;")
    expect(view.h(view.badge("<b>"))).to include('class="badge state-unknown"', "&lt;b&gt;")
    expect(view.badge("waiting_for_retry")).to include("state-waiting-for-retry", "waiting for retry")
  end

  it "never uses raw output in a template" do
    Dir[File.join(described_class::VIEWS, "*.erb")].each do |path|
      expect(File.read(path)).not_to include("<%=="), "#{path} uses raw output"
    end
  end

  it "builds links under the mount path" do
    expect(view.url("/tasks", "state" => "error", "name" => nil)).to eq("/tasker/tasks?state=error")
    expect(view.url(view.step_action_path("u", "a b/c"))).to eq("/tasker/tasks/u/steps/a%20b%2Fc/resolve")
  end

  it "formats durations and times" do
    expect(view.duration(12.4)).to eq("12 ms")
    expect(view.duration(1500)).to eq("1.5 s")
    expect(view.duration(125_000)).to eq("2 min 5 s")
    expect(view.time_tag("2026-01-02T03:04:05.123456Z")).to include('datetime="2026-01-02T03:04:05.123Z"',
                                                                    "2026-01-02 03:04:05 UTC")
    expect(view.time_tag("garbage")).to eq("garbage")
  end
end

RSpec.describe TaskerCore::Web::TaskFilters do
  it "parses filters and cursors, and names what it refuses" do
    filters = described_class.new("namespace" => " shop ", "state" => "error", "created_after" => "2026-01-31T14:00",
                                  "created_before" => "2026-02-01", "limit" => "20",
                                  "older" => "2026-01-31T15:00:00.123456Z_01890000-0000-7000-8000-000000000000")
    expect(filters).to be_valid
    expect(filters).to have_attributes(namespace: "shop", state: "error", limit: 20, direction: :older,
                                       created_after: "2026-01-31T14:00:00.000000Z",
                                       created_before: "2026-02-01T00:00:00.000000Z")
    expect(filters.cursor.to_s).to eq("2026-01-31T15:00:00.123456Z_01890000-0000-7000-8000-000000000000")
    expect(filters.to_params).to include("namespace" => "shop", "limit" => "20")
    expect(filters.to_params).not_to include("older")

    bad = described_class.new("state" => "done", "created_after" => "soon", "limit" => "5000", "newer" => "x_y")
    expect(bad.errors).to contain_exactly(a_string_including("state must be one of"),
                                          a_string_including("created_after is not a time"),
                                          a_string_including("limit must be between"),
                                          a_string_including("newer is not a valid page cursor"))
  end
end
