# frozen_string_literal: true

require "open3"
require "rbconfig"

# spec/web/rails/mount_rspec.rb mounts the dashboard in real Rails routes; it runs in its own
# rspec process so that Rails (and ActiveSupport's core extensions) never load into this one.
RSpec.describe "the dashboard mounted in Rails routes (own process)", db: true do
  rails = Gem::Specification.find_all_by_name("railties").any? && Gem::Specification.find_all_by_name("actionpack").any?

  it "answers under the mount path, behind a constraint, with the CSRF token in the Rails session",
     skip: (rails ? false : "railties and actionpack are not installed (Debian: ruby-railties)") do
    root = File.expand_path("../..", __dir__)
    out, status = Open3.capture2e(RbConfig.ruby, "-S", "rspec", "--no-color", "spec/web/rails/mount_rspec.rb",
                                  chdir: root)
    expect(status.success?).to be(true), out
    expect(out).to include("1 example, 0 failures")
  end
end
