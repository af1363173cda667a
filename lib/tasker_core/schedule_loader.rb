# frozen_string_literal: true

require "tasker_core/yaml_document"
require "tasker_core/errors"

module TaskerCore
  # Registers the schedules of YAML files, one mapping per file, schedule name => options:
  #
  #   nightly_report:
  #     namespace: reports
  #     name: nightly
  #     version: 1.0.0
  #     cron: "0 2 * * *"
  #     timezone: Europe/Berlin
  #     context: {format: pdf}
  #
  # Each entry goes through TaskerCore.register_schedule; an error names the file and the schedule.
  class ScheduleLoader
    KEYS = %w[namespace name version cron timezone context].freeze

    def initialize(configuration)
      @configuration = configuration
    end

    # sources: paths or globs; nil means configuration.schedule_paths. Returns the names.
    def register(sources = nil)
      files(sources).flat_map do |path|
        load_yaml(path).map do |name, options|
          register_one(path, name.to_s, options)
          name.to_s
        end
      end
    end

    private

    def files(sources)
      Array(sources || @configuration.schedule_paths).flat_map { |source| Dir.glob(source) }
    end

    def register_one(path, name, options)
      raise ArgumentError, "#{path}: schedule #{name.inspect} must be a mapping" unless options.is_a?(Hash)

      options = options.transform_keys(&:to_s)
      unknown = options.keys - KEYS
      raise ArgumentError, "#{path}: schedule #{name.inspect}: unknown keys #{unknown.join(", ")}" if unknown.any?

      TaskerCore.register_schedule(name, **options.transform_keys(&:to_sym))
    rescue TaskerCore::ArgumentError, NotFoundError => e
      raise e.class, e.message.start_with?(path) ? e.message : "#{path}: #{e.message}"
    rescue ::ArgumentError => e # a missing keyword, say
      raise TaskerCore::ArgumentError, "#{path}: schedule #{name.inspect}: #{e.message}"
    end

    def load_yaml(path)
      data = YamlDocument.load(File.read(path), filename: path)
      return {} if data.nil?
      return data if data.is_a?(Hash)

      raise ArgumentError, "#{path}: a schedules file must be a YAML mapping of name => schedule, got #{data.class}"
    rescue Psych::Exception => e
      raise ArgumentError, "#{path}: invalid YAML: #{e.message}"
    end
  end
end
