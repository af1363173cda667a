# frozen_string_literal: true

require "json"
require "yaml"

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
      data = YAML.safe_load(File.read(path), permitted_classes: [Symbol], aliases: true, filename: path)
      return data if data.is_a?(Hash)

      raise TemplateError, "#{path}: a template must be a YAML mapping, got #{data.class}"
    rescue Psych::Exception => e
      raise TemplateError, "#{path}: invalid YAML: #{e.message}"
    end

    def to_json(origin, hash)
      normalized = normalize(hash)
      JSON.generate(normalized)
    rescue JSON::GeneratorError => e
      raise TemplateError, "#{origin}: cannot be turned into a template: #{e.message}"
    rescue TemplateError => e
      raise TemplateError, "#{origin}: #{e.message}"
    end

    # String keys throughout; a YAML version like 1.0 (a Float) becomes "1.0".
    def normalize(value)
      case value
      when Hash
        value.each_with_object({}) do |(k, v), out|
          key = k.to_s
          out[key] = key == "version" && v.is_a?(Numeric) ? v.to_s : normalize(v)
        end
      when Array then value.map { |v| normalize(v) }
      when Symbol then value.to_s
      else value
      end
    end
  end
end
