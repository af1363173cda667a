# frozen_string_literal: true

require "open3"
require "tasker_core/cli/command"
require "tasker_core/types/base"
require "tasker_core/cli/dag_renderer"

module TaskerCore
  class CLI
    # tasker-core graph NAMESPACE/NAME[@VERSION] | UUID | FILE.yaml
    class Graph < Command
      TEMPLATE = %r{\A([a-z][a-z0-9_]*)/([a-z][a-z0-9_]*)(?:@(\S+))?\z}

      command "graph", "graph (NAMESPACE/NAME[@VERSION] | TASK_UUID | TEMPLATE.yaml) [options]", <<~TEXT
        Prints a workflow's DAG: a registered template (without @VERSION, the most recently
        registered version, as create_task picks), a template file (no database needed), or a
        task, with each step coloured by its state. Mermaid by default (paste it into Markdown);
        --format dot for Graphviz; --png FILE renders a PNG with Graphviz's `dot` (Debian:
        apt-get install graphviz).
      TEXT

      def options(opts)
        @options[:format] = "mermaid"
        opts.on("--format FORMAT", %w[mermaid dot], "mermaid (default) or dot") { |v| @options[:format] = v }
        opts.on("--png FILE", "Write a PNG rendered by Graphviz to FILE") { |v| @options[:png] = v }
      end

      def run(argv)
        target = arguments!(argv, 1..1, "NAMESPACE/NAME[@VERSION], a task UUID or a template file").first
        configure!
        title, steps = resolve(target)
        renderer = DagRenderer.new(title, steps)
        if @options[:png]
          png(renderer.dot, @options[:png])
          puts "wrote #{@options[:png]}"
        else
          @out.print renderer.render(@options[:format])
        end
        0
      end

      private

      def resolve(target)
        if TaskerCore::Types::UUID_FORMAT.match?(target)
          task(target)
        elsif target.end_with?(".yml", ".yaml") || File.file?(target)
          file(target)
        elsif (match = TEMPLATE.match(target))
          registered(*match.captures)
        else
          raise UsageError, "graph: #{target.inspect} is neither NAMESPACE/NAME[@VERSION], a task UUID nor a .yaml file"
        end
      end

      def task(uuid)
        status = TaskerCore.task_status(uuid)
        title = "#{status["namespace"]}/#{status["name"]}@#{status["version"]} #{uuid} (#{status.state})"
        [title, TaskerCore::StepGraph.for_drawing(status.steps.map(&:to_h))]
      end

      def file(path)
        raise Failure, "#{path}: no such file" unless File.file?(path)

        template = TemplateLoader.new(TaskerCore.configuration).validate([path]).first
        [label(template), template["steps"]]
      end

      def registered(namespace, name, version)
        candidates = TaskerCore.templates.select { |t| t["namespace"] == namespace && t["name"] == name }
        raise Failure, "no template #{namespace}/#{name} is registered" if candidates.empty?

        chosen = version ? candidates.find { |t| t["version"] == version } : latest(candidates)
        unless chosen
          raise Failure, "#{namespace}/#{name} has no version #{version} " \
                         "(registered: #{candidates.map { |t| t["version"] }.sort.join(", ")})"
        end
        template = chosen["template"]
        [label(template), template["steps"]]
      end

      # The version create_task uses when none is given: the most recently registered.
      def latest(candidates)
        candidates.max_by { |t| t["created_at"].to_s }
      end

      def label(template)
        "#{template["namespace"]}/#{template["name"]}@#{template["version"]}"
      end

      def png(dot, path)
        _, error, status = Open3.capture3("dot", "-Tpng", "-o", path, stdin_data: dot)
        raise Failure, "dot could not render #{path}: #{error.strip}" unless status.success?
      rescue Errno::ENOENT
        raise Failure, "--png needs Graphviz's `dot` on PATH (Debian: apt-get install graphviz)"
      end
    end
  end
end
