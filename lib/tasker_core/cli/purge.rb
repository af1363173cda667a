# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core purge --older-than 30d [--dry-run]
    class Purge < Command
      command "purge", "purge --older-than AGE [options]", <<~TEXT
        Deletes finished tasks (every state of TaskerCore::States::TASK_FINISHED) completed
        more than AGE ago, with their steps, edges, audit rows and archived queue messages, in short
        batches (TaskerCore.purge). Open tasks are never touched. AGE is a number followed by
        s, m, h, d or w (30d, 12h), or plain seconds.
      TEXT

      UNITS = { "s" => 1, "m" => 60, "h" => 3600, "d" => 86_400, "w" => 7 * 86_400 }.freeze
      AGE = /\A(\d+(?:\.\d+)?)([smhdw]?)\z/

      # Seconds of an AGE ("30d", "12h", "3600"), or a UsageError naming the option.
      def self.seconds(text)
        match = AGE.match(text.to_s.strip)
        unless match
          raise UsageError,
                "--older-than must be a number with s, m, h, d or w (like 30d), got #{text.inspect}"
        end

        Float(match[1]) * UNITS.fetch(match[2].empty? ? "s" : match[2])
      end

      def options(opts)
        opts.on("--older-than AGE", "Completed more than AGE ago (30d, 12h, 90m, 3600)") do |v|
          @options[:older_than] = v
        end
        opts.on("--batch-size N", Integer,
                "Tasks per batch (default: the sweep's, TaskerCore::Retention::BATCH_SIZE)") do |v|
          @options[:batch_size] = v
        end
        opts.on("--dry-run", "Count what would be deleted; delete nothing") { @options[:dry_run] = true }
        opts.on("--json", "Print JSON instead of a table") { @options[:json] = true }
      end

      def run(argv)
        arguments!(argv, 0..0, "no arguments")
        raise UsageError, "purge: --older-than AGE is required (like --older-than 30d)" unless @options[:older_than]

        older_than = Purge.seconds(@options[:older_than])
        configure!
        counts = TaskerCore.purge(older_than: older_than, dry_run: @options.fetch(:dry_run, false),
                                  batch_size: @options.fetch(:batch_size, Retention::BATCH_SIZE))
        @options[:json] ? json(counts.merge("dry_run" => @options.fetch(:dry_run, false))) : report(counts)
        0
      end

      private

      def report(counts)
        verb = @options[:dry_run] ? "would delete (dry run)" : "deleted"
        puts "#{verb}, finished tasks completed more than #{@options[:older_than]} ago:"
        table = Table.new("table", "rows")
        Retention::TABLES.each { |name| table << [name, counts.fetch(name)] }
        puts table
      end
    end
  end
end
