# frozen_string_literal: true

# The Tasker-format fixtures: templates and handlers written against the Tasker family's API.
module TaskerFixtureFiles
  DIR = File.expand_path("../fixtures/tasker", __dir__)
  TEMPLATES = File.join(DIR, "templates")

  module_function

  def load_handlers
    Dir[File.join(DIR, "handlers", "*.rb")].each { |file| require file }
  end

  def template(name)
    File.join(TEMPLATES, "#{name}.yaml")
  end

  # Runs the block with ENV[name] set (or removed, for nil), then restores it.
  def with_env(values)
    saved = values.keys.to_h { |key| [key, ENV.fetch(key, nil)] }
    values.each { |key, value| value.nil? ? ENV.delete(key) : ENV[key] = value }
    yield
  ensure
    saved.each { |key, value| value.nil? ? ENV.delete(key) : ENV[key] = value }
  end
end
