# frozen_string_literal: true

require "yaml"
require "tasker_core/data_graph"

module TaskerCore
  # The one way tasker-core reads YAML: task templates (register_templates!, the Railtie's
  # boot, `tasker-core templates validate`) and config/tasker_core.yml. Aliases are allowed
  # (`<<: *defaults` is common), but a document is refused, before anything expands it, when
  # it nests deeper than the JSON depth limit, contains itself, or expands past
  # DataGraph::MAX_SIZE. Raises Psych::Exception for YAML that does not parse and
  # DataGraph::Invalid for the rest; callers turn both into their own error.
  module YamlDocument
    # Stops the parser as soon as collections nest too deeply: Psych builds Ruby objects
    # recursively, so a deep enough document would otherwise overflow the stack.
    class DepthGuard < Psych::Handler
      attr_writer :parser

      def initialize
        super
        @depth = 0
      end

      def start_sequence(*)
        enter
      end

      def start_mapping(*)
        enter
      end

      def end_sequence
        @depth -= 1
      end

      def end_mapping
        @depth -= 1
      end

      private

      def enter
        @depth += 1
        return if @depth <= DataGraph::MAX_DEPTH

        raise DataGraph::Invalid.new("line #{@parser.mark.line + 1}",
                                     "nested deeper than #{DataGraph::MAX_DEPTH} levels")
      end
    end

    module_function

    # The document's data (nil for an empty document).
    def load(text, filename:)
      guard = DepthGuard.new
      parser = Psych::Parser.new(guard)
      guard.parser = parser
      parser.parse(text, filename)
      data = YAML.safe_load(text, permitted_classes: [Symbol], aliases: true, filename: filename)
      DataGraph.check!(data)
      data
    end
  end
end
