# frozen_string_literal: true

require "etc"
require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core namespaces [list | pause NAMESPACE | resume NAMESPACE]
    class Namespaces < Command
      command "namespaces", "namespaces [list | pause NAMESPACE | resume NAMESPACE] [options]", <<~TEXT
        list (the default): the paused namespaces, who paused them, when and why.
        pause: every worker process stops claiming the namespace's steps within a second; steps
          already running finish. Stored in the database, as TaskerCore.pause.
        resume: the namespace's workers claim again at once, as TaskerCore.resume.
        The actor (--actor, default the login name) and --reason are recorded.
      TEXT

      def options(opts)
        opts.on("--actor NAME", "Who asks (default: the login name)") { |v| @options[:actor] = v }
        opts.on("--reason TEXT", "Why, recorded with the actor") { |v| @options[:reason] = v }
        opts.on("--json", "list: print JSON") { @options[:json] = true }
      end

      # The paused namespaces as a table (also the status command's section).
      def self.paused_table(rows)
        table = Table.new("NAMESPACE", "PAUSED_AT", "BY", "REASON")
        rows.each do |row|
          table << [row["namespace"], row["paused_at"].to_s[0, 19].tr("T", " "), row["paused_by"],
                    Format.truncate(row["reason"], 60)]
        end
        table
      end

      def run(argv)
        action = argv.shift || "list"
        unless %w[list pause resume].include?(action)
          raise UsageError, "namespaces: unknown action #{action.inspect} (list, pause, resume)"
        end

        configure!
        action == "list" ? list(argv) : control(action, argv)
      end

      private

      def list(argv)
        arguments!(argv, 0..0, "no arguments after list")
        rows = TaskerCore.paused_namespaces
        return json(rows) if @options[:json]

        table = Namespaces.paused_table(rows)
        puts(table.empty? ? "no namespace is paused" : table.to_s)
        0
      end

      # What each action prints when it changed something, and when there was nothing to change.
      OUTCOMES = { "pause" => ["paused %s", "%s was paused already"],
                   "resume" => ["resumed %s", "%s was not paused"] }.freeze

      def control(action, argv)
        namespace, = arguments!(argv, 1..1, "one NAMESPACE after #{action}")
        changed = TaskerCore.public_send(action, namespace, actor: actor, reason: @options[:reason])
        done, unchanged = OUTCOMES.fetch(action)
        puts format(changed ? done : unchanged, namespace)
        0
      end

      def actor
        @options[:actor] || Etc.getlogin || ENV.fetch("USER", nil)
      end
    end
  end
end
