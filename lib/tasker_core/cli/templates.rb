# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core templates [list | validate PATH... | register [PATH...]]
    class Templates < Command
      command "templates", "templates [list | validate [PATH...] | register [PATH...]] [options]", <<~TEXT
        list (the default): the templates registered in the database.
        validate: checks YAML templates (files, directories or globs; default: the configured
          template_paths) without a database: keys, names, handlers, dependencies, cycles.
          Exits 1 if any is invalid.
        register: validates and registers them (idempotent), as TaskerCore.register_templates!.
      TEXT

      def options(opts)
        opts.on("--json", "list: print JSON") { @options[:json] = true }
      end

      def run(argv)
        action = argv.shift || "list"
        configure!
        case action
        when "list" then list(argv)
        when "validate" then validate(argv)
        when "register" then register(argv)
        else raise UsageError, "templates: unknown action #{action.inspect} (list, validate, register)"
        end
      end

      private

      def list(argv)
        arguments!(argv, 0..0, "no arguments after list")
        templates = TaskerCore.templates
        return json(templates) if @options[:json]

        table = Table.new("TEMPLATE", "VERSION", "STEPS", "UPDATED", "DESCRIPTION")
        templates.sort_by { |t| [t["namespace"], t["name"], t["version"]] }.each do |t|
          template = t["template"] || {}
          table << ["#{t["namespace"]}/#{t["name"]}", t["version"], Array(template["steps"]).size,
                    t["updated_at"].to_s[0, 19].tr("T", " "), Format.truncate(template["description"], 60)]
        end
        puts table.empty? ? "no templates registered" : table.to_s
        0
      end

      def validate(paths)
        files = template_files(paths)
        loader = TemplateLoader.new(TaskerCore.configuration)
        invalid = files.count do |file|
          template = loader.validate([file]).first
          puts "ok      #{file}: #{template["namespace"]}/#{template["name"]}@#{template["version"]} " \
               "(#{template["steps"].size} steps)"
          false
        rescue TaskerCore::TemplateError => e
          puts "invalid #{file}: #{e.message.delete_prefix("#{file}: ")}"
          true
        end
        puts "#{files.size - invalid} valid, #{invalid} invalid"
        invalid.zero? ? 0 : 1
      end

      def register(paths)
        files = template_files(paths)
        registered = TaskerCore.register_templates!(files)
        registered.each { |label| puts "registered #{label}" }
        0
      end

      def template_files(paths)
        sources = paths.empty? ? Array(TaskerCore.configuration.template_paths) : paths
        files = sources.flat_map do |source|
          found = File.directory?(source) ? Dir.glob(File.join(source, "**", "*.{yml,yaml}")) : Dir.glob(source)
          raise Failure, "#{source}: no such file or directory" if found.empty? && !paths.empty?

          found.sort
        end
        raise Failure, "no template files found in #{sources.join(", ")}" if files.empty?

        files
      end
    end
  end
end
