# frozen_string_literal: true

require "rails/generators"

module TaskerCore
  module Generators
    # rails generate tasker_core:install
    #
    # Writes config/initializers/tasker_core.rb, config/tasker_core.yml, an example template
    # (config/tasker/templates/example_hello_world.yaml) and its two handlers under
    # app/step_handlers/example/, autoloaded by Rails.
    class InstallGenerator < ::Rails::Generators::Base
      source_root File.expand_path("templates", __dir__)
      desc "Installs tasker-core: an initializer, config/tasker_core.yml and an example workflow."

      class_option :example, type: :boolean, default: true,
                             desc: "Generate the example template and handlers (--no-example to skip)"

      def create_initializer
        template "initializer.rb.tt", "config/initializers/tasker_core.rb"
      end

      def create_config_file
        template "tasker_core.yml.tt", "config/tasker_core.yml"
      end

      def create_example
        return unless options[:example]

        template "example_hello_world.yaml.tt", "config/tasker/templates/example_hello_world.yaml"
        template "fetch_name.rb.tt", "app/step_handlers/example/fetch_name.rb"
        template "greet.rb.tt", "app/step_handlers/example/greet.rb"
      end

      def show_next_steps
        say <<~TEXT

          tasker-core is installed. Next:
            bin/rails tasker_core:migrate      # pgmq and the tasker schema, in config/tasker_core.yml's database
            bin/rails server                   # starts the orchestrator and workers after boot
          Then, from a console or a controller:
            task = TaskerCore.create_task(namespace: "example", name: "hello_world", version: "1.0.0",
                                          context: {"name" => "Ada"})
            TaskerCore.wait_for_task(task.uuid).step("greet").results
          Docs: docs/getting-started.md and docs/operations.md in the tasker-core gem.
        TEXT
      end

      private

      def database_name(environment)
        "#{app_name_for_database}_#{environment}"
      end

      def app_name_for_database
        name = ::Rails.application ? ::Rails.application.class.module_parent_name : File.basename(destination_root)
        name.to_s.gsub(/([a-z\d])([A-Z])/, '\1_\2').downcase.gsub(/[^a-z0-9_]/, "_")
      end
    end
  end
end
