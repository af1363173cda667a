# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core schedules [list | register [PATH...] | remove NAME]
    class Schedules < Command
      command "schedules", "schedules [list | register [PATH...] | remove NAME] [options]", <<~TEXT
        list (the default): the recurring schedules in the database, with their next fire times.
        register: registers the schedules of YAML files (default: the configured schedule_paths),
          as TaskerCore.register_schedules!; an upsert by schedule name.
        remove NAME: deletes a schedule (exits 1 when there is none of that name).
      TEXT

      def options(opts)
        opts.on("--json", "list: print JSON") { @options[:json] = true }
      end

      def run(argv)
        action = argv.shift || "list"
        configure!
        case action
        when "list" then list(argv)
        when "register" then register(argv)
        when "remove" then remove(argv)
        else raise UsageError, "schedules: unknown action #{action.inspect} (list, register, remove)"
        end
      end

      private

      def list(argv)
        arguments!(argv, 0..0, "no arguments after list")
        schedules = TaskerCore.schedules
        return json(schedules) if @options[:json]

        table = Table.new("SCHEDULE", "TEMPLATE", "CRON", "TIMEZONE", "NEXT FIRE (UTC)", "THEN", "LAST FIRED")
        schedules.each do |s|
          table << [s["name"], "#{s["namespace"]}/#{s["task_name"]}#{"@#{s["version"]}" if s["version"]}",
                    s["cron"], s["timezone"], time(s["next_fire_at"]),
                    Array(s["upcoming"]).drop(1).map { |t| time(t) }.join(", "), time(s["last_fired_at"])]
        end
        puts table.empty? ? "no schedules registered" : table.to_s
        0
      end

      def register(paths)
        sources = paths.empty? ? Array(TaskerCore.configuration.schedule_paths) : paths
        missing = sources.select { |source| Dir.glob(source).empty? }
        raise Failure, "no schedules file found in #{missing.join(", ")}" if missing.any? && !paths.empty?

        names = TaskerCore.register_schedules!(sources)
        if names.empty? && missing.size == sources.size
          raise Failure, "no schedules file found in #{sources.join(", ")}"
        end

        names.each { |name| puts "registered #{name}" }
        0
      end

      def remove(argv)
        arguments!(argv, 1..1, "the schedule's name")
        raise Failure, "no schedule named #{argv.first.inspect}" unless TaskerCore.remove_schedule(argv.first)

        puts "removed #{argv.first}"
        0
      end

      def time(value)
        value.to_s[0, 19].tr("T", " ")
      end
    end
  end
end
