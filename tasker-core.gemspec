# frozen_string_literal: true

require_relative "lib/tasker_core/version"

Gem::Specification.new do |spec|
  spec.name = "tasker-core"
  spec.version = TaskerCore::VERSION
  spec.authors = ["tasker-core authors"]
  spec.license = "MIT"
  spec.summary = "DAG workflows on PostgreSQL: a Rust orchestrator inside your Ruby process, Ruby step workers"
  spec.description = <<~DESC
    tasker-core runs workflows defined as DAGs of steps. An embedded Rust orchestrator decides which
    steps are ready and enqueues them to PostgreSQL queues (pgmq); Ruby workers run the step handlers
    and hand results back through a queue. State, queues and audit trail live in one PostgreSQL
    database. Installing the gem compiles the Rust crate with cargo (Rust >= 1.80 required).
  DESC
  spec.required_ruby_version = ">= 3.1"
  spec.metadata["rubygems_mfa_required"] = "true"

  # Dir globs rather than `git ls-files`, so that the spec also works from an unpacked gem.
  patterns = %w[
    lib/**/* exe/* ext/**/*.rb src/**/* migrations/**/* sql/**/* templates/**/* examples/**/*
    Cargo.toml Cargo.lock build.rs .cargo/config.toml README.md LICENSE
  ]
  built = %r{\A(lib/tasker_core/tasker_core\.(so|bundle|dll)|ext/.*/(Makefile|mkmf\.log|.*\.so))\z}
  spec.files = Dir.glob(patterns, base: __dir__)
                  .select { |path| File.file?(File.join(__dir__, path)) }
                  .reject { |path| path.match?(built) || path.end_with?(".tmp") }
                  .sort

  spec.extensions = ["ext/tasker_core/extconf.rb"]
  spec.require_paths = ["lib"]
  spec.bindir = "exe"
  spec.executables = ["tasker-core"] if File.file?(File.join(__dir__, "exe", "tasker-core"))

  # Versions satisfied by Debian 12's ruby-pg (1.4.5) and ruby-dry-types (1.2.2).
  spec.add_dependency "dry-types", ">= 1.2", "< 2"
  spec.add_dependency "pg", ">= 1.4", "< 2"
end
