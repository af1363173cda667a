# frozen_string_literal: true

require "open3"
require_relative "../cli/support/cli_helpers"

# The fixture app creates an order (ActiveRecord) and its task in one transaction, with
# create_task(..., connection: raw_connection): rolled back, neither exists; committed, the
# task runs (spec/fixtures/rails_app/spec/transactional/orders_in_transaction.rb, in its own
# process, with the app's orchestrator and workers started by its spec helper).
RSpec.describe "a Rails app creating a task inside its ActiveRecord transaction", db: true do
  it "passes" do
    reset_tasker_database!
    app_dir = File.expand_path("../fixtures/rails_app", __dir__)
    out, status = Open3.capture2e(cli_env("BUNDLE_GEMFILE" => nil), RbConfig.ruby, "-S", "rspec",
                                  "--options", File::NULL, "--require", "spec_helper",
                                  "spec/transactional/orders_in_transaction.rb", chdir: app_dir)
    expect(status.success?).to be(true), out
    expect(out).to include("2 examples, 0 failures")
  end
end
