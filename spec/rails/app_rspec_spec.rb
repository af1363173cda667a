# frozen_string_literal: true

require "open3"
require_relative "../cli/support/cli_helpers"

# The fixture app's own rspec suite (spec/fixtures/rails_app/spec/*_rspec.rb), in its own
# process: its spec helper starts the orchestrator and workers, a request creates a task
# through the controller and the example waits for it to complete.
RSpec.describe "a Rails app's own rspec suite with tasker-core started from its spec helper", db: true do
  it "passes" do
    reset_tasker_database!
    app_dir = File.expand_path("../fixtures/rails_app", __dir__)
    out, status = Open3.capture2e(cli_env("BUNDLE_GEMFILE" => nil), RbConfig.ruby, "-S", "rspec", chdir: app_dir)
    expect(status.success?).to be(true), out
    expect(out).to include("3 examples, 0 failures")
  end
end
