# frozen_string_literal: true

# Loaded by TaskerCore::Railtie. Every task loads the app's environment first, so it uses the
# same settings as the app (config/tasker_core.yml, config.tasker_core, TASKER_*).
namespace :tasker_core do
  desc "Install pgmq and the tasker schema in the configured database (idempotent)"
  task migrate: :environment do
    TaskerCore.migrate!
    puts "tasker-core: #{TaskerCore.configuration.redacted_database_url} is migrated"
  end

  desc "Register the task templates found in the configured template_paths"
  task register_templates: :environment do
    registered = TaskerCore.register_templates!
    if registered.empty?
      puts "tasker-core: no templates found in #{TaskerCore.configuration.template_paths.join(", ")}"
    else
      puts "tasker-core: registered #{registered.join(", ")}"
    end
  end

  desc "Register the recurring schedules found in the configured schedule_paths (an upsert by name)"
  task register_schedules: :environment do
    registered = TaskerCore.register_schedules!
    if registered.empty?
      puts "tasker-core: no schedules found in #{TaskerCore.configuration.schedule_paths.join(", ")}"
    else
      puts "tasker-core: registered #{registered.join(", ")}"
    end
  end

  desc "Validate the task templates without touching the database"
  task validate_templates: :environment do
    templates = TaskerCore::TemplateLoader.new(TaskerCore.configuration).validate
    templates.each { |t| puts "ok #{t["namespace"]}/#{t["name"]}@#{t["version"]} (#{t["steps"].size} steps)" }
    puts "tasker-core: no templates found" if templates.empty?
  end

  desc "Run the orchestrator and workers configured for this app until TERM or INT (a worker process)"
  task run: :environment do
    $stdout.sync = true # a long-running process: log lines should not wait in a buffer
    TaskerCore::Runtime.start!
    TaskerCore::Runtime.run_until_signal
  end
end
