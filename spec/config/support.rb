# frozen_string_literal: true

# Runs a block with TaskerCore.configuration changed, and puts every value back after.
module ConfigurationSwap
  def with_configuration(**settings)
    config = TaskerCore.configuration
    saved = settings.keys.to_h { |key| [key, config.public_send(key)] }
    settings.each { |key, value| config.public_send(:"#{key}=", value) }
    yield config
  ensure
    saved&.each { |key, value| config.public_send(:"#{key}=", value) }
  end
end

RSpec.configure { |config| config.include ConfigurationSwap, file_path: %r{/spec/config/} }
