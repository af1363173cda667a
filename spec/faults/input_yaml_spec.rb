# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "tmpdir"
require_relative "support/fault_report"

# YAML that costs nothing to write and everything to expand. Templates are read in three
# places: TaskerCore.register_templates!, the boot of a Rails app (the Railtie's boot calls
# TaskerCore::Runtime.start!, which registers the template_paths) and `tasker-core templates
# validate` (which CI jobs run on files from pull requests); config/tasker_core.yml in the CLI
# and the Railtie. Each runs here in a child process capped at 2 GB of address space, so that
# a loader that expands the bomb fails the example instead of taking the machine.
RSpec.describe "YAML input: alias bombs, recursion and depth", db: true do
  root = File.expand_path("../..", __dir__)
  memory_cap = 2 * (1024**3)
  # Runs the code after it in the child; when it exits, writes its peak memory and run time.
  prelude = <<~RUBY
    require "json"
    Process.setrlimit(:AS, #{memory_cap})
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    at_exit do
      peak_kb = File.read("/proc/self/status")[/VmHWM:\\s+(\\d+)/, 1].to_i
      File.write(ENV.fetch("CHILD_REPORT"),
                 JSON.generate("peak_mb" => peak_kb / 1024.0,
                               "seconds" => Process.clock_gettime(Process::CLOCK_MONOTONIC) - started))
    end
    $LOAD_PATH.unshift(#{File.join(root, "lib").inspect})
  RUBY
  entry_points = {
    "TaskerCore.register_templates!" => <<~RUBY,
      require "tasker_core"
      TaskerCore.configure { |c| c.database_url = ENV.fetch("DATABASE_URL") }
      begin
        TaskerCore.register_templates!([ARGV.fetch(0)])
        puts "registered"
      rescue TaskerCore::Error => e
        puts "\#{e.class}: \#{e.message}"
      end
    RUBY
    "TaskerCore::Runtime.start! (the Railtie's boot)" => <<~RUBY,
      require "tasker_core"
      TaskerCore.configure do |c|
        c.database_url = ENV.fetch("DATABASE_URL")
        c.template_paths = [File.dirname(ARGV.fetch(0))]
      end
      TaskerCore::Runtime.plan = TaskerCore::Runtime::Plan.new("orchestrator" => false, "register_templates" => true)
      begin
        TaskerCore::Runtime.start!
        puts "registered"
      rescue TaskerCore::Error => e
        puts "\#{e.class}: \#{e.message}"
      ensure
        TaskerCore::Runtime.stop!
      end
    RUBY
    "tasker-core templates validate" => <<~RUBY
      ARGV.unshift("templates", "validate")
      load #{File.join(root, "exe/tasker-core").inspect}
    RUBY
  }

  def run_child(prelude, script, *args)
    Dir.mktmpdir do |dir|
      report = File.join(dir, "report.json")
      env = { "CHILD_REPORT" => report, "DATABASE_URL" => TaskerTestDatabase.url }
      out, status = Open3.capture2e(env, RbConfig.ruby, "-e", prelude, "-e", script, "--", *args)
      measured = File.exist?(report) ? JSON.parse(File.read(report)) : {}
      { output: out, status: status, **measured.transform_keys(&:to_sym) }
    end
  end

  def write(dir, name, text)
    File.join(dir, name).tap { |path| File.write(path, text) }
  end

  # `levels` (at most 9) levels of ten aliases each: 10**levels values, about 40 bytes a level.
  def alias_bomb(levels)
    names = ("a".."j").first(levels + 1)
    anchors = names.each_with_index.map do |name, i|
      items = i.zero? ? Array.new(10, "x") : Array.new(10, "*#{names[i - 1]}")
      "  #{name}: &#{name} [#{items.join(",")}]"
    end
    "namespace: faults\nname: bomb\nversion: \"1\"\nsteps:\n- name: only\n  handler: A\n  config:\n" \
      "#{anchors.map { |line| "  #{line}" }.join("\n")}\n"
  end

  def valid_template
    "namespace: faults\nname: fine\nversion: \"1\"\nsteps:\n  - name: only\n    handler: A\n"
  end

  before { reset_tasker_database! }

  it "refuses a 500-byte alias bomb fast, with flat memory, wherever templates are read" do
    bomb = alias_bomb(9)
    expect(bomb.bytesize).to be <= 500
    rows = Dir.mktmpdir do |dir|
      good_dir = File.join(dir, "good").tap { |d| Dir.mkdir(d) }
      bomb_dir = File.join(dir, "bomb").tap { |d| Dir.mkdir(d) }
      good = write(good_dir, "fine.yaml", valid_template)
      bad = write(bomb_dir, "bomb.yaml", bomb)
      entry_points.map do |entry, script|
        baseline = run_child(prelude, script, good)
        expect(baseline[:output]).to match(/registered|ok +#{Regexp.escape(good)}/)
        refused = run_child(prelude, script, bad)
        expect(refused[:output]).to include(bad).and include("expands to more than 1048576 values and bytes")
        expect(refused[:output]).to match(/TaskerCore::TemplateError|invalid #{Regexp.escape(bad)}/) unless
          entry.start_with?("tasker-core")
        expect(refused[:output]).to include("invalid #{bad}") if entry.start_with?("tasker-core")
        expect(refused[:seconds]).to be < 10
        expect(refused[:peak_mb]).to be < baseline[:peak_mb] + 50
        "#{entry}: #{refused[:seconds].round(2)} s, peak #{refused[:peak_mb].round} MB " \
          "(#{baseline[:peak_mb].round} MB for a valid template)"
      end
    end
    expect(TaskerCore.templates.map { |t| t["name"] }).to eq(["fine"])
    FaultReport.record(name: "YAML alias bomb in a template", how: "#{bomb.bytesize} bytes, 9 levels of 10 aliases " \
                                                                   "(10^9 values): #{rows.join("; ")}",
                       tasks: 0, completed: 0, duplicates: 0, lost: 0)
  end

  it "refuses an alias bomb in config/tasker_core.yml" do
    Dir.mktmpdir do |dir|
      # Mappings, since those are what the configuration loader copies.
      levels = ["l0: &l0 {a: x, b: x, c: x, d: x, e: x, f: x, g: x, h: x, i: x, j: x}"]
      1.upto(8) { |i| levels << "l#{i}: &l#{i} {#{("a".."j").map { |k| "#{k}: *l#{i - 1}" }.join(", ")}}" }
      config = write(dir, "tasker_core.yml", "log_level: info\n#{levels.join("\n")}\n")
      result = run_child(prelude, <<~RUBY, config)
        ARGV.unshift("--config", ARGV.shift, "templates", "validate", "nothing-here.yaml")
        load #{File.join(root, "exe/tasker-core").inspect}
      RUBY
      expect(result[:output]).to include("#{config}: expands to more than 1048576 values and bytes")
      expect(result[:status].exitstatus).not_to eq(0)
      expect(result[:seconds]).to be < 10
    end
  end

  it "names the recursive structure of a self-referencing alias or Hash instead of overflowing the stack" do
    Dir.mktmpdir do |dir|
      path = write(dir, "loop.yaml", <<~YAML)
        namespace: faults
        name: loop
        version: "1"
        steps:
          - name: only
            handler: A
            config: &config
              x: *config
      YAML
      expect { TaskerCore.register_templates!(path) }
        .to raise_error(TaskerCore::TemplateError, /loop\.yaml: recursive structure at steps\[0\]\.config\.x\z/)
      expect { TaskerCore::TemplateLoader.new(TaskerCore.configuration).validate([path]) }
        .to raise_error(TaskerCore::TemplateError, /recursive structure at steps\[0\]\.config\.x/)
    end
    config = { "x" => nil }
    config["x"] = config
    template = { "namespace" => "faults", "name" => "loop", "version" => "1",
                 "steps" => [{ "name" => "only", "handler" => "A", "config" => config }] }
    expect { TaskerCore.register_templates!([template]) }
      .to raise_error(TaskerCore::TemplateError,
                      %r{a Hash: template faults/loop@1: step "only": recursive structure at steps\[0\]\.config\.x\z})
    steps = []
    steps << { "name" => "only", "handler" => "A", "config" => { "steps" => steps } }
    expect { TaskerCore.register_templates!([template.merge("steps" => steps)]) }
      .to raise_error(TaskerCore::TemplateError, /recursive structure at steps\[0\]\.config\.steps\z/)
    expect(TaskerCore.templates).to be_empty
    FaultReport.record(name: "Self-referencing YAML alias or Hash in a template",
                       how: "config: &c {x: *c}, and a Hash containing itself: each refused",
                       tasks: 0, completed: 0, duplicates: 0, lost: 0)
  end

  it "refuses YAML nested deeper than the JSON depth limit before Psych builds it" do
    limit = TaskerCore::Worker::JsonValue::MAX_DEPTH
    Dir.mktmpdir do |dir|
      deep = write(dir, "deep.yaml", "namespace: faults\nsteps: #{"[" * 5000}#{"]" * 5000}\n")
      expect { TaskerCore.register_templates!(deep) }
        .to raise_error(TaskerCore::TemplateError, /deep\.yaml: nested deeper than #{limit} levels at line 2/)
      config = write(dir, "tasker_core.yml", "log_level: #{"{a: " * 5000}1#{"}" * 5000}\n")
      expect { TaskerCore::ConfigLoader.new(TaskerCore::Configuration.new).load_file(config, environment: "test") }
        .to raise_error(TaskerCore::ConfigurationError, /tasker_core\.yml: nested deeper than #{limit} levels/)
    end
  end
end
