# frozen_string_literal: true

require "tasker_core/worker/json_value"

module TaskerCore
  # Checks the shape of loaded data (YAML, or a Hash a caller built) before anything copies it.
  # YAML aliases and shared Ruby objects are references, so loading them costs nothing; it is
  # the first copy (normalizing, JSON) that expands them. An alias bomb of a few hundred bytes
  # expands to gigabytes, and a self-referencing alias or Hash never ends. This walk visits
  # each distinct Hash and Array once, knows the expanded size of each, and refuses:
  #   - a Hash or Array that contains itself ("recursive structure at steps[0].config.x");
  #   - data whose expansion is larger than MAX_SIZE;
  #   - nesting deeper than the JSON depth limit.
  # Paths are written like the worker's JSON check writes them, from a root the caller names.
  class DataGraph
    # Each value counts 1, a String (value or key) its bytes too: about a megabyte of JSON.
    MAX_SIZE = 1_048_576
    MAX_DEPTH = Worker::JsonValue::MAX_DEPTH

    # The data cannot be used; `path` says where (like "steps[0].config.x").
    class Invalid < StandardError
      attr_reader :path

      def initialize(path, problem)
        @path = path
        super(path.empty? ? problem : "#{problem} at #{path}")
      end
    end

    # Raises Invalid, or returns the expanded size.
    def self.check!(value, root = "")
      new.size(value, root, 0)
    end

    def initialize
      @sizes = {}.compare_by_identity
      @open = {}.compare_by_identity
    end

    def size(value, path, depth)
      case value
      when Hash, Array then @sizes[value] || container(value, path, depth)
      when String then 1 + value.bytesize
      else 1
      end
    end

    private

    def container(value, path, depth)
      raise Invalid.new(path, "recursive structure") if @open.key?(value)
      raise Invalid.new(path, "nested deeper than #{MAX_DEPTH} levels") if depth >= MAX_DEPTH

      @open[value] = true
      total = 1
      each_child(value, path) do |child, child_path|
        total += size(child, child_path, depth + 1)
        too_large!(path) if total > MAX_SIZE
      end
      @open.delete(value)
      @sizes[value] = total
    end

    def each_child(value, path)
      if value.is_a?(Array)
        value.each_with_index { |item, index| yield item, "#{path}[#{index}]" }
      else
        value.each do |key, item|
          child_path = child_path(path, key)
          yield key, child_path
          yield item, child_path
        end
      end
    end

    def child_path(path, key)
      name = key.is_a?(String) || key.is_a?(Symbol) ? key.to_s : key.class.name
      return Worker::JsonValue.child_path(path, name) unless path.empty?

      Worker::JsonValue.child_path("$", name).delete_prefix("$").delete_prefix(".")
    end

    def too_large!(path)
      raise Invalid.new(path, "expands to more than #{MAX_SIZE} values and bytes (YAML aliases or shared " \
                              "objects repeated too often?)")
    end
  end
end
