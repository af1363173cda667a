# frozen_string_literal: true

require "fileutils"
require "open3"
require "tmpdir"
require_relative "../cli/support/cli_helpers"

# `rails generate tasker_core:install` into a bare Rails app, then the generated app boots:
# rake tasks migrate and validate, and a process started with TASKER_START=1 registers the
# example template and runs the example workflow with the generated handlers.
RSpec.describe "rails generate tasker_core:install", db: true do
  # The smallest Rails app that `rails new` would leave, minus Bundler.
  def write_bare_app(dir)
    FileUtils.mkdir_p(%w[bin config app].map { |d| File.join(dir, d) })
    File.write(File.join(dir, "config", "boot.rb"), "$LOAD_PATH.unshift(#{CliHelpers::LIB.inspect})\n")
    File.write(File.join(dir, "config", "application.rb"), <<~RUBY)
      require_relative "boot"
      require "rails"
      require "action_controller/railtie"
      require "tasker_core"

      module GenApp
        class Application < Rails::Application
          config.load_defaults 6.1
          config.eager_load = false
          config.logger = ActiveSupport::Logger.new($stdout)
          config.secret_key_base = "generator-spec"
        end
      end
    RUBY
    File.write(File.join(dir, "config", "environment.rb"),
               "require_relative \"application\"\nRails.application.initialize!\n")
    File.write(File.join(dir, "Rakefile"), "require_relative \"config/application\"\nRails.application.load_tasks\n")
    File.write(File.join(dir, "bin", "rails"), <<~RUBY)
      APP_PATH = File.expand_path("../config/application", __dir__)
      require_relative "../config/boot"
      require "rails/commands"
    RUBY
  end

  def rails(dir, *args, env: {})
    Open3.capture2e(cli_env({ "RAILS_ENV" => "development", "BUNDLE_GEMFILE" => nil }.merge(env)),
                    RbConfig.ruby, "bin/rails", *args, chdir: dir)
  end

  it "writes an initializer, a config file and an example whose app boots and runs it" do
    reset_tasker_database!
    Dir.mktmpdir("tasker-gen") do |dir|
      write_bare_app(dir)
      out, status = rails(dir, "generate", "tasker_core:install")
      expect(status.success?).to be(true), out
      files = %w[config/initializers/tasker_core.rb config/tasker_core.yml
                 config/tasker/templates/example_hello_world.yaml
                 app/step_handlers/example/fetch_name.rb app/step_handlers/example/greet.rb]
      files.each { |file| expect(File).to exist(File.join(dir, file)), out }
      expect(out).to include("bin/rails tasker_core:migrate")
      expect(File.read(File.join(dir, "config", "tasker_core.yml")))
        .to include('ENV.fetch("DATABASE_URL", "postgresql://localhost/gen_app_development")')

      out, status = rails(dir, "tasker_core:migrate")
      expect(status.success?).to be(true), out
      expect(out).to include("tasker-core: #{TaskerTestDatabase.url} is migrated\n")
      out, status = rails(dir, "tasker_core:validate_templates")
      expect(status.success?).to be(true), out
      expect(out).to include("ok example/hello_world@1.0.0 (2 steps)\n")

      script = <<~'RUBY'
        task = TaskerCore.create_task(namespace: "example", name: "hello_world", version: "1.0.0",
                                      context: {"name" => "Ada"})
        status = TaskerCore.wait_for_task(task.uuid, timeout: 20)
        puts "RESULT #{status.state} #{status.step("greet").results["greeting"]}"
        puts "RUNNING #{TaskerCore::Runtime.status.slice(:running, :orchestrator).inspect}"
      RUBY
      out, status = rails(dir, "runner", script, env: { "TASKER_START" => "1" })
      expect(status.success?).to be(true), out
      expect(out).to include("registered 1 template(s): example/hello_world@1.0.0",
                             "RESULT complete Hello, Ada!", "RUNNING {:running=>true, :orchestrator=>true}")
      expect(out).to match(/tasker-core: stopped in pid \d+/) # drained at exit

      out, status = rails(dir, "runner", "puts TaskerCore::Runtime.running?.inspect")
      expect([status.success?, out.lines.last]).to eq([true, "false\n"]) # a runner does not start it by itself

      out, _status = rails(dir, "tasker_core:register_templates")
      expect(out).to include("tasker-core: registered example/hello_world@1.0.0"), out

      log = File.join(dir, "run.log")
      run = Process.spawn(cli_env("RAILS_ENV" => "development", "BUNDLE_GEMFILE" => nil), RbConfig.ruby,
                          "bin/rails", "tasker_core:run", chdir: dir, out: log, err: log)
      wait_for_output(log, /started in pid #{run}: the orchestrator and workers for example/, pid: run, timeout: 30)
      expect(stop_process(run, signal: "TERM")&.exitstatus).to eq(0)
      expect(File.read(log)).to include("SIGTERM received", "stopped in pid #{run}")
    ensure
      stop_process(run, signal: "KILL", timeout: 2) if run # gone already, unless something failed
    end
  end

  it "skips the example with --no-example" do
    Dir.mktmpdir("tasker-gen") do |dir|
      write_bare_app(dir)
      out, status = rails(dir, "generate", "tasker_core:install", "--no-example")
      expect(status.success?).to be(true), out
      expect(File).to exist(File.join(dir, "config", "tasker_core.yml"))
      expect(Dir.exist?(File.join(dir, "app", "step_handlers"))).to be(false)
    end
  end
end
