# frozen_string_literal: true

require "json"
require "tasker_core/data_graph"
require "tasker_core/yaml_document"
require "tasker_core/worker/json_value"

module TaskerCore
  # Turns YAML files (globs) or Hashes into validated templates and registers them.
  # Validation itself lives in the Rust core, so Ruby and the database agree on it.
  class TemplateLoader
    def initialize(configuration)
      @configuration = configuration
    end

    # sources: paths, globs, directories or Hashes; nil means configuration.template_paths.
    # Returns ["namespace/name@version", ...].
    def register(sources = nil)
      templates(sources).map do |origin, hash|
        Internal::Client.register_template(@configuration.to_native, to_json(origin, hash))
      end
    end

    # Validates without a database; returns the normalized Hashes.
    def validate(sources = nil)
      templates(sources).map do |origin, hash|
        JSON.parse(Internal::Client.validate_template(to_json(origin, hash)))
      end
    end

    private

    def templates(sources)
      Array(sources || @configuration.template_paths).flat_map do |source|
        source.is_a?(Hash) ? [["a Hash", source]] : files(source).map { |f| [f, load_yaml(f)] }
      end
    end

    def files(source)
      pattern = File.directory?(source) ? File.join(source, "**", "*.{yml,yaml}") : source
      Dir.glob(pattern)
    end

    def load_yaml(path)
      data = YamlDocument.load(File.read(path), filename: path)
      return data if data.is_a?(Hash)

      raise TemplateError, "#{path}: a template must be a YAML mapping, got #{data.class}"
    rescue Psych::Exception => e
      raise TemplateError, "#{path}: invalid YAML: #{e.message}"
    rescue DataGraph::Invalid => e
      raise TemplateError, "#{path}: #{e.message}"
    end

    def to_json(origin, hash)
      JSON.generate(normalize(hash))
    rescue DataGraph::Invalid, Worker::JsonValue::NotJson => e
      raise TemplateError, "#{origin}: template #{label(hash)}: #{step_of(hash, e.path)}#{e.message}"
    end

    # A plain JSON copy (String keys); anything that is not JSON is refused with its path, like
    # a step's result, and the template as a whole (depth 0) nests no deeper than a result may.
    # A YAML version like 1.0 (a Float) becomes "1.0".
    def normalize(template)
      DataGraph.check!(template)
      template.each_with_object({}) do |(key, value), out|
        name = Worker::JsonValue.key_name(key, "")
        raise Worker::JsonValue::NotJson.new(name, key.class, "duplicate key #{name.inspect}") if out.key?(name)

        out[name] = name == "version" && value.is_a?(Numeric) ? value.to_s : Worker::JsonValue.normalize(value, name, 1)
        check_integers(out[name], name)
      end
    end

    # The core holds a template's numbers in 64 bits; a larger integer would come back rounded.
    # Contexts and results have no such limit.
    TEMPLATE_INTEGERS = (-2**63)..((2**64) - 1)

    def check_integers(value, path)
      case value
      when Integer
        return if TEMPLATE_INTEGERS.cover?(value)

        raise Worker::JsonValue::NotJson.new(path, Integer, "#{value} does not fit in 64 bits, the most a template " \
                                                            "holds exactly (pass it in the task's context instead)")
      when Array then value.each_with_index { |item, i| check_integers(item, "#{path}[#{i}]") }
      when Hash then value.each { |key, item| check_integers(item, Worker::JsonValue.child_path(path, key)) }
      end
    end

    # The template's name as the core writes it; `namespace_name` and `step_templates` are the
    # Tasker format's keys.
    def label(hash)
      namespace, name, version = [%w[namespace namespace_name], %w[name], %w[version]].map do |keys|
        value = keys.map { |key| hash[key] || hash[key.to_sym] }.compact.first
        value.is_a?(String) || value.is_a?(Symbol) || value.is_a?(Numeric) ? value.to_s : "?"
      end
      "#{namespace}/#{name}@#{version}"
    end

    # 'step "charge": ' when the path is inside a step that has a name.
    def step_of(hash, path)
      match = path.to_s.match(/\A(steps|step_templates)\[(\d+)\]/) or return ""
      step = Array(hash[match[1]] || hash[match[1].to_sym])[match[2].to_i]
      name = step.is_a?(Hash) ? step["name"] || step[:name] : nil
      name.is_a?(String) ? "step #{name.inspect}: " : ""
    end
  end
end
