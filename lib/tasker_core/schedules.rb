# frozen_string_literal: true

require "json"
require "tasker_core/arguments"
require "tasker_core/schedule_loader"

# Recurring schedules, stored in the database: every orchestrator's loop fires the due ones,
# each fire time creating exactly one task (see docs/operations.md, "Scheduling and flow control").
module TaskerCore
  class << self
    # Upsert by `schedule_name`. `cron`: 5 fields (minute hour day month weekday) or 6 with
    # seconds first; `timezone`: an IANA name. A bad cron or timezone is an ArgumentError, an
    # unknown template a NotFoundError. Without a timezone: UTC; without a version: the latest.
    # Returns the schedule (Hash) with its "upcoming" fire times.
    def register_schedule(schedule_name, namespace:, name:, cron:, version: nil, timezone: nil, context: {})
      request = { name: Arguments.text(schedule_name.to_s, "schedule name"),
                  namespace: Arguments.text(namespace.to_s, "namespace"),
                  task_name: Arguments.text(name.to_s, "name"), version: Arguments.text(version&.to_s, "version"),
                  cron: Arguments.text(cron, "cron"), timezone: Arguments.text(timezone, "timezone"),
                  context: schedule_context(context) }.compact
      JSON.parse(Internal::Schedules.register(configuration.to_native, JSON.generate(request)))
    end

    # Every schedule, by name: [{"name", "namespace", "task_name", "version", "cron", "timezone",
    # "context", "next_fire_at", "upcoming" (the next 3), "last_fired_at", "last_task_uuid", ...}].
    def schedules
      JSON.parse(Internal::Schedules.list(configuration.to_native))
    end

    # False when there was no schedule of that name.
    def remove_schedule(schedule_name)
      Internal::Schedules.remove(configuration.to_native, Arguments.text(schedule_name.to_s, "schedule name"))
    end

    # YAML files of schedules (default: configuration.schedule_paths); returns their names.
    def register_schedules!(sources = nil)
      ScheduleLoader.new(configuration).register(sources)
    end

    private

    def schedule_context(context)
      raise ArgumentError, "context must be a Hash, got #{context.class}" unless context.is_a?(Hash)

      Arguments.json(context, "context")
    end
  end
end
