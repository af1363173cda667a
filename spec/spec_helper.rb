# frozen_string_literal: true

# Loaded by every spec (through .rspec). Database helpers live in spec/support/*.rb and take their
# connection from DATABASE_URL (bin/test sets it to the local tasker_test database).
$LOAD_PATH.unshift File.expand_path("../lib", __dir__)

require "tasker_core"

RSpec.configure do |config|
  config.order = :random
  Kernel.srand config.seed

  config.expect_with :rspec do |expectations|
    expectations.include_chain_clauses_in_custom_matcher_descriptions = true
  end
  config.mock_with :rspec do |mocks|
    mocks.verify_partial_doubles = true
  end
  config.shared_context_metadata_behavior = :apply_to_host_groups
  config.filter_run_when_matching :focus
  config.example_status_persistence_file_path = File.expand_path("../tmp/rspec-examples.txt", __dir__)
end

Dir[File.join(__dir__, "support", "**", "*.rb")].each { |f| require f }
