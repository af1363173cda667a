# frozen_string_literal: true

require "tasker_core/web"

# The state lists and the finished set are written once (TaskerCore::States); the dashboard,
# its script and the CLI read them from there instead of keeping copies that drift apart.
RSpec.describe TaskerCore::States do
  root = File.expand_path("../..", __dir__)
  state_names = (described_class::TASK + described_class::STEP).uniq
  word = "(?:#{state_names.join("|")})"
  # Three or more state names in one literal list: %w[...], [...] in Ruby or JS, IN (...) in SQL.
  list = /(?:%w\[|\[|\()\s*["']?#{word}["']?(?:\s*,?\s*["']?#{word}["']?){2,}\s*[\])]/
  unfinished_tasks = /IN \('pending', 'in_progress'\)/

  it "names the task and step states and the finished ones, as frozen Arrays of Strings" do
    expect(described_class::TASK).to eq(%w[pending in_progress complete error cancelled resolved_manually])
    expect(described_class::STEP).to include("enqueued", "waiting_for_retry", *described_class::TASK)
    expect(described_class::TASK_FINISHED).to eq(%w[complete error cancelled resolved_manually])
    expect(described_class::STEP_FINISHED).to eq(%w[complete error cancelled resolved_manually skipped])
    %i[TASK STEP TASK_FINISHED STEP_FINISHED].each do |name|
      value = described_class.const_get(name)
      expect(value).to be_frozen
      expect(value).to all(be_a(String).and(be_frozen))
    end
  end

  it "is the only list of states in the dashboard, its script and the CLI" do
    files = Dir[File.join(root, "lib/tasker_core/{web,cli}/**/*.{rb,erb,js}")] +
            [File.join(root, "lib/tasker_core/web.rb"), File.join(root, "lib/tasker_core/cli.rb")]
    expect(files.size).to be > 20
    copies = files.flat_map do |path|
      File.read(path).scan(Regexp.union(list, unfinished_tasks)).map { |found| "#{path.delete_prefix(root)}: #{found}" }
    end
    expect(copies).to be_empty
  end

  it "gives the dashboard's script the finished task states through the page" do
    view = TaskerCore::Web::View.new(script_name: "/tasker", csrf: nil, actions_enabled: false, poll_interval: 2)
    page = view.page(:error, title: "t", status: 404, message: "m")
    expect(page).to include(%(data-finished="#{described_class::TASK_FINISHED.join(" ")}"))
    script = File.read(File.join(TaskerCore::Web::ASSETS, "app.js"))
    expect(script).to include('getAttribute("data-finished")')
  end
end
