# frozen_string_literal: true

require "erb"
require "tasker_core/yaml_document"

module TaskerCore
  # The one configuration surface shared by the Railtie and the command line. Settings come in
  # layers, each overriding the one before:
  #
  #   1. defaults (TaskerCore::Configuration.new; database_url falls back to DATABASE_URL)
  #   2. config/tasker_core.yml, the section for the environment (ERB allowed)
  #   3. Ruby: `config.tasker_core.*` in a Rails app, command-line flags for exe/tasker-core
  #   4. TASKER_* environment variables (TASKER_DATABASE_URL, TASKER_LOG_LEVEL, ...)
  #
  # Two kinds of keys: those of TaskerCore::Configuration (database_url, template_paths,
  # log_level, pool_size, ...) and the process keys of TaskerCore::Runtime (start, orchestrator,
  # workers, register_templates, shutdown_timeout, log_events). Unknown keys and bad values are
  # errors that name the key and where it was set.
  class ConfigLoader
    PROCESS_KEYS = %w[start orchestrator workers register_templates shutdown_timeout log_events].freeze
    # Process keys set from the environment; every configuration key is TASKER_<KEY>.
    PROCESS_ENV = {
      "TASKER_START" => "start", "TASKER_ORCHESTRATOR" => "orchestrator",
      "TASKER_WORKER_NAMESPACES" => "workers.namespaces", "TASKER_WORKER_CONCURRENCY" => "workers.concurrency",
      "TASKER_SHUTDOWN_TIMEOUT" => "shutdown_timeout", "TASKER_REGISTER_TEMPLATES" => "register_templates",
      "TASKER_LOG_EVENTS" => "log_events"
    }.freeze
    ENVIRONMENT_SECTIONS = %w[shared].freeze

    # The keys of TaskerCore::Configuration settable from YAML and ENV (not the logger object).
    def self.configuration_keys
      Configuration.public_instance_methods(false)
                   .map(&:to_s).select { |m| m.end_with?("=") }
                   .map { |m| m.delete_suffix("=") }.reject { |k| %w[logger handler_wrapper].include?(k) }.sort
    end

    # The name of each environment variable that can set something, for docs and --help.
    def self.environment_variables
      configuration_keys.map { |key| "TASKER_#{key.upcase}" } + PROCESS_ENV.keys
    end

    attr_reader :configuration, :process_settings

    def initialize(configuration = Configuration.new)
      @configuration = configuration
      @process_settings = {}
      @sources = {}
    end

    # Reads a YAML file (ERB first). A file whose top-level keys are settings applies to every
    # environment; otherwise it has one section per environment (plus an optional `shared`
    # section merged under it). A missing section means no settings from this file.
    def load_file(path, environment:)
      source = "#{path} [#{environment}]"
      apply(read_file(path, environment), source: source)
    end

    # Hash or ActiveSupport::OrderedOptions; nil values are skipped (nothing was set).
    def load_hash(hash, source:)
      apply(hash.to_h.compact, source: source)
    end

    def load_env(env = ENV)
      settings = {}
      self.class.configuration_keys.each do |key|
        value = env["TASKER_#{key.upcase}"]
        settings[key] = value unless value.nil? || value.empty?
      end
      PROCESS_ENV.each do |var, key|
        value = env[var]
        next if value.nil? || value.empty?

        if key.start_with?("workers.")
          (settings["workers"] ||= {})[key.delete_prefix("workers.")] = value
        else
          settings[key] = value
        end
      end
      apply(settings, source: "environment (TASKER_*)")
    end

    # Validates the configuration; an error names the key and the layer that set it.
    def validate!
      configuration.validate!
      self
    rescue ConfigurationError => e
      key = @sources.keys.find { |k| e.message.start_with?("#{k} ") }
      raise ConfigurationError, key ? "#{e.message} (set in #{@sources[key]})" : e.message
    end

    # The process settings as a TaskerCore::Runtime::Plan (validated; errors name the key).
    def plan
      Runtime::Plan.new(process_settings, @sources)
    end

    def source_of(key)
      @sources[key.to_s]
    end

    private

    def read_file(path, environment)
      text = ERB.new(File.read(path)).result
      data = YamlDocument.load(text, filename: path) || {}
      unless data.is_a?(Hash)
        raise ConfigurationError,
              "#{path}: expected a mapping at the top level, got #{data.class}"
      end

      data = stringify(data)
      return data if data.keys.any? { |key| known?(key) }

      section(path, data, "shared").merge(section(path, data, environment.to_s))
    rescue Psych::Exception => e
      raise ConfigurationError, "#{path}: invalid YAML: #{e.message}"
    rescue DataGraph::Invalid => e
      raise ConfigurationError, "#{path}: #{e.message}"
    rescue SystemCallError => e
      raise ConfigurationError, "cannot read #{path}: #{e.message}"
    end

    def section(path, data, name)
      value = data[name]
      return {} if value.nil?
      return value if value.is_a?(Hash)

      raise ConfigurationError, "#{path}: section #{name.inspect} must be a mapping, got #{value.class}"
    end

    def apply(settings, source:)
      stringify(settings).each do |key, value|
        if self.class.configuration_keys.include?(key)
          set_configuration(key, value, source)
        elsif PROCESS_KEYS.include?(key)
          set_process(key, value, source)
        else
          raise ConfigurationError, "#{source}: unknown key #{key.inspect}#{suggestion(key)}"
        end
        @sources[key] = source
      end
      self
    end

    def set_configuration(key, value, source)
      current = configuration.public_send(key)
      configuration.public_send(:"#{key}=", coerce(key, value, current, source))
    end

    def set_process(key, value, source)
      if key == "workers" && value.is_a?(Hash) && @process_settings["workers"].is_a?(Hash)
        value = @process_settings["workers"].merge(stringify(value))
      end
      @process_settings[key] = value
      @sources.merge!(value.keys.to_h { |sub| ["workers.#{sub}", source] }) if key == "workers" && value.is_a?(Hash)
    end

    # Strings (from ENV or ERB) become the type of the key's default value.
    def coerce(key, value, current, source)
      return value unless value.is_a?(String)

      case current
      when Integer then Integer(value, 10)
      when Float then Float(value)
      when Array then value.split(File::PATH_SEPARATOR).map(&:strip).reject(&:empty?)
      else value
      end
    rescue ::ArgumentError
      kind = current.is_a?(Integer) ? "an integer" : "a number"
      raise ConfigurationError, "#{key} must be #{kind}, got #{value.inspect} (set in #{source})"
    end

    def known?(key)
      self.class.configuration_keys.include?(key) || PROCESS_KEYS.include?(key)
    end

    def suggestion(key)
      dictionary = self.class.configuration_keys + PROCESS_KEYS
      guess = DidYouMean::SpellChecker.new(dictionary: dictionary).correct(key).first if defined?(DidYouMean)
      guess ? " (did you mean #{guess.inspect}?)" : " (known keys: #{dictionary.sort.join(", ")})"
    end

    def stringify(hash)
      hash.to_h.each_with_object({}) do |(key, value), out|
        out[key.to_s] = value.is_a?(Hash) ? stringify(value) : value
      end
    end
  end
end
